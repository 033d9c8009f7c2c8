"""What a Lightning user types keeps working: each case broke once, and is run here as the real command."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from helpers import run_jetzoo
from jetzoo.cli import main

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", "--trainer.max_epochs", "1"]
NOISE = ("Tip:", "litlogger", "LeafSpec", "DeprecationWarning", "FutureWarning")


def files_under(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_version_and_one_line_error_for_a_misspelt_option(tmp_path):
    version = run_jetzoo("--version")
    assert version.returncode == 0 and re.fullmatch(r"jetzoo \d+\.\d+\.\d+\s*", version.stdout)
    typo = run_jetzoo("fit", "--model", "mlp", "--trainer.max_epohcs", "2", cwd=tmp_path)
    assert typo.returncode == 2
    (line,) = typo.stderr.strip().splitlines()
    assert "--trainer.max_epohcs" in line and "did you mean --trainer.max_epochs?" in line
    assert not files_under(tmp_path)


def jetzoo_in_process(capsys, monkeypatch, *args) -> str:
    """`jetzoo ARGS` through the console script's own entry point, in this process (parse-only commands)."""
    monkeypatch.setattr(sys, "argv", ["jetzoo", *args])
    with pytest.raises(SystemExit) as done:
        main(list(args))
    assert done.value.code in (0, None)
    return capsys.readouterr().out


def test_pythia_is_the_default_data_and_help_lists_the_registered_names(capsys, monkeypatch):
    config = jetzoo_in_process(capsys, monkeypatch, "fit", "--model", "mlp", "--print_config")
    assert "class_path: jetzoo.datamodules.pythia.PythiaJetDataModule" in config
    flat = " ".join(jetzoo_in_process(capsys, monkeypatch, "fit", "--help").split())
    assert "Registered models:" in flat and all(name in flat for name in ("mlp", "particlenet", "perceptron"))
    assert "Registered datamodules (default pythia):" in flat
    datasets = run_jetzoo("datasets")
    pythia = next(line for line in datasets.stdout.splitlines() if line.startswith("pythia "))
    assert "Pythia 8 + FastJet" in pythia and "LightningDataModule" not in pythia


def test_csv_logger_without_save_dir_and_checkpointing_off(top_jets_file, tmp_path):
    result = run_jetzoo(
        "fit", "--model", "mlp", "--data.path", top_jets_file, *QUIET,
        "--trainer.logger", "CSVLogger", "--trainer.enable_checkpointing", "false", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    files = files_under(tmp_path)
    assert "lightning_logs/version_0/metrics.csv" in files and "lightning_logs/version_0/config.yaml" in files
    assert not [f for f in files if f.endswith(".ckpt")]
    assert "test/auc" in result.stdout


def test_fast_dev_run_writes_nothing_and_no_logger_keeps_the_run_in_its_directory(top_jets_file, tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    result = run_jetzoo("fit", "--model", "mlp", "--data.path", top_jets_file, *QUIET, "--trainer.fast_dev_run", "true", cwd=dev)
    assert result.returncode == 0, result.stderr[-3000:]
    assert files_under(dev) == []

    nolog = tmp_path / "nolog"
    nolog.mkdir()
    result = run_jetzoo("fit", "--model", "mlp", "--data.path", top_jets_file, *QUIET, "--trainer.logger", "false", cwd=nolog)
    assert result.returncode == 0, result.stderr[-3000:]
    files = files_under(nolog)
    assert files and all(f.startswith("lightning_logs/version_0/") for f in files), files
    assert "lightning_logs/version_0/checkpoints/last.ckpt" in files
    for noise in NOISE:  # quiet by default
        assert noise not in result.stderr + result.stdout, noise


def test_test_and_predict_log_beside_the_checkpoint_run(mlp_run, top_jets_file):
    cwd, ckpt, fit = mlp_run
    for noise in NOISE:
        assert noise not in fit.stderr + fit.stdout, noise
    tested = run_jetzoo("test", "--model", "mlp", "--data.path", top_jets_file, "--ckpt_path", ckpt, "--verbose", *QUIET, cwd=cwd)
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert "Tip:" in tested.stderr + tested.stdout  # --verbose brings Lightning's messages back
    predicted = run_jetzoo(
        "predict", "--model", "mlp", "--data.path", top_jets_file, "--ckpt_path", "last", *QUIET,
        "--prediction_writer.output_path", cwd / "scores.h5", cwd=cwd,
    )
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    runs = sorted(p.name for p in (cwd / "lightning_logs").iterdir())
    assert runs == ["version_0"], runs  # no new version per test/predict
    run = cwd / "lightning_logs" / "version_0"
    assert (run / "config.yaml").is_file() and (run / "config_test.yaml").is_file() and (run / "config_predict.yaml").is_file()
    assert "dirpath" not in tested.stderr + predicted.stderr
    assert "class_path: jetzoo.zoo.mlp.MLP" in (run / "config.yaml").read_text()
