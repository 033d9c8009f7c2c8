"""What a Lightning user types keeps working: each case broke once, and is run here as the real command."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import jetzoo_in_process, run_jetzoo

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", "--trainer.max_epochs", "1"]
NOISE = ("Tip:", "litlogger", "LeafSpec", "DeprecationWarning", "FutureWarning", "JsonargparseWarning")


def files_under(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_version_and_one_line_error_for_a_misspelt_option(tmp_path, capfd, monkeypatch):
    version = run_jetzoo("--version")
    assert version.returncode == 0 and re.fullmatch(r"jetzoo \d+\.\d+\.\d+\s*", version.stdout)
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "mlp", "--trainer.max_epohcs", "2", cwd=tmp_path)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "--trainer.max_epohcs" in line and "did you mean --trainer.max_epochs?" in line
    assert not files_under(tmp_path)


def test_pythia_is_the_default_data_and_help_lists_the_registered_names(capfd, monkeypatch):
    code, config, _ = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "mlp", "--print_config")
    assert code == 0 and "class_path: jetzoo.datamodules.pythia.PythiaJetDataModule" in config
    code, help_text, _ = jetzoo_in_process(capfd, monkeypatch, "fit", "--help")
    flat = " ".join(help_text.split())
    assert "Registered models:" in flat and all(name in flat for name in ("mlp", "particlenet", "perceptron"))
    assert "Registered datamodules (default pythia):" in flat
    code, datasets, _ = jetzoo_in_process(capfd, monkeypatch, "datasets")
    pythia = next(line for line in datasets.splitlines() if line.startswith("pythia "))
    assert "Pythia 8 + FastJet" in pythia and "LightningDataModule" not in pythia


def test_csv_logger_without_save_dir_and_checkpointing_off(top_jets_file, tmp_path, capfd, monkeypatch):
    code, out, err = jetzoo_in_process(
        capfd, monkeypatch, "fit", "--model", "mlp", "--data.path", top_jets_file, *QUIET,
        "--trainer.logger", "CSVLogger", "--trainer.enable_checkpointing", "false", cwd=tmp_path,
    )
    assert code == 0, err[-3000:]
    files = files_under(tmp_path)
    assert "lightning_logs/version_0/metrics.csv" in files and "lightning_logs/version_0/config.yaml" in files
    assert not [f for f in files if f.endswith(".ckpt")]
    assert "test/auc" in out


def test_fast_dev_run_writes_nothing_and_no_logger_keeps_the_run_in_its_directory(top_jets_file, tmp_path, capfd, monkeypatch):
    dev = tmp_path / "dev"
    dev.mkdir()
    args = ("fit", "--model", "mlp", "--data.path", top_jets_file, *QUIET)
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, "--trainer.fast_dev_run", "true", cwd=dev)
    assert code == 0, err[-3000:]
    assert files_under(dev) == []

    nolog = tmp_path / "nolog"
    nolog.mkdir()
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, "--trainer.logger", "false", cwd=nolog)
    assert code == 0, err[-3000:]
    files = files_under(nolog)
    assert files and all(f.startswith("lightning_logs/version_0/") for f in files), files
    assert "lightning_logs/version_0/checkpoints/last.ckpt" in files


def test_test_and_predict_log_beside_the_checkpoint_run(mlp_run, top_jets_file, capfd, monkeypatch):
    cwd, ckpt, fit = mlp_run
    for noise in NOISE:  # the fit ran as a real process: quiet by default
        assert noise not in fit.stderr + fit.stdout, noise
    args = ("--model", "mlp", "--data.path", top_jets_file, *QUIET)
    # a real process: Lightning's own log handler is only installed outside pytest's log capture
    tested = run_jetzoo("test", *args, "--ckpt_path", ckpt, "--verbose", cwd=cwd)
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert "Tip:" in tested.stdout + tested.stderr  # --verbose brings Lightning's messages back
    code, out, err = jetzoo_in_process(
        capfd, monkeypatch, "predict", *args, "--ckpt_path", "last", "--prediction_writer.output_path", cwd / "scores.h5", cwd=cwd
    )
    assert code == 0, err[-3000:]
    runs = sorted(p.name for p in (cwd / "lightning_logs").iterdir())
    assert runs == ["version_0"], runs  # no new version per test/predict
    run = cwd / "lightning_logs" / "version_0"
    assert (run / "config.yaml").is_file() and (run / "config_test.yaml").is_file() and (run / "config_predict.yaml").is_file()
    assert "dirpath" not in tested.stderr + err
    assert "class_path: jetzoo.zoo.mlp.MLP" in (run / "config.yaml").read_text()


def test_the_datamodule_is_built_once(top_jets_file, tmp_path, capfd, monkeypatch):
    from jetzoo.datamodules.pythia import PythiaJetDataModule

    built = []
    original = PythiaJetDataModule.__init__
    monkeypatch.setattr(PythiaJetDataModule, "__init__", lambda self, *a, **k: (built.append(self), original(self, *a, **k))[1])
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "mlp", "--data.path", top_jets_file,
                                     "--trainer.fast_dev_run", "true", *QUIET, cwd=tmp_path)
    assert code == 0, err[-2000:]
    assert len(built) == 1


def test_optimizer_and_lr_scheduler_flags_replace_the_default_adamw_and_cosine(mlp_run, top_jets_file, tmp_path, capfd, monkeypatch):
    import torch

    _, default_ckpt, _ = mlp_run
    (default,) = torch.load(default_ckpt, weights_only=True)["optimizer_states"]
    assert "betas" in default["param_groups"][0]  # AdamW, stepped per batch by the cosine schedule
    code, _, err = jetzoo_in_process(
        capfd, monkeypatch, "fit", "--model", "mlp", "--data.path", top_jets_file, *QUIET, "--test_after_fit", "false",
        "--optimizer", "SGD", "--optimizer.lr", "0.05", "--optimizer.momentum", "0.9",
        "--lr_scheduler", "StepLR", "--lr_scheduler.step_size", "1", cwd=tmp_path,
    )
    assert code == 0, err[-3000:]
    checkpoint = torch.load(tmp_path / "lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    (group,) = checkpoint["optimizer_states"][0]["param_groups"]
    assert "betas" not in group and group["momentum"] == 0.9
    assert abs(group["lr"] - 0.005) < 1e-12  # StepLR after one epoch: 0.05 x 0.1


def test_a_bad_choice_is_refused_in_one_line_naming_the_option_and_its_choices(tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("JETZOO_CACHE", str(tmp_path / "cache"))  # refused before any data is made
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "rnn", "--model.cell", "lstmx", cwd=tmp_path)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "jetzoo fit: error: --model.cell: Expected a typing.Literal['gru', 'lstm']. Got value: lstmx")
    assert not (tmp_path / "cache").exists()
