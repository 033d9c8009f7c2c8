"""The `jetzoo` command end to end in subprocesses: fit/test/predict, real 2-process DDP (gloo),
W&B offline logging, config printing, the catalog tables and one-line errors."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from helpers import jetzoo_in_process, printed_metrics, printed_value, run_jetzoo

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def csv_metrics(save_dir: Path) -> dict[str, float]:
    """The last logged value of each metric in a CSVLogger run directory."""
    (path,) = Path(save_dir).rglob("metrics.csv")
    values: dict[str, float] = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            values.update({k: float(v) for k, v in row.items() if v not in ("", None)})
    return values


def data_args(path):
    return ["--model", "mlp", "--data", "pythia", "--data.path", str(path)]


@pytest.fixture(scope="module")
def ddp_fit(top_jets_file, tmp_path_factory):
    """mlp trained with two CPU processes (Lightning DDP, gloo), checkpoint kept."""
    out = tmp_path_factory.mktemp("ddp")
    result = run_jetzoo(
        "fit", *data_args(top_jets_file), *QUIET,
        "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu",
        "--trainer.max_epochs", "2", "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", out / "fit",
        "--checkpoint.dirpath", out / "ckpt", cwd=out,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out, result


def test_fit_prints_test_metrics_after_training(ddp_fit):
    _, result = ddp_fit
    metrics = printed_metrics(result.stdout)
    assert {"test/acc", "test/auc", "test/rej50_top_vs_bkg", "test/rej30_top_vs_bkg"} <= set(metrics)
    assert "68% bootstrap intervals" in result.stdout and "background jets" in metrics["test/rej50_top_vs_bkg"]
    # one table, jetzoo's: Lightning's table of every logged key (_lo, _hi, _lower_bound) only with --verbose
    assert "_hi" not in result.stdout and "_lower_bound" not in result.stdout
    assert printed_value(result.stdout, "test/auc") > 0.8
    # quiet (issue 24 §4): no sync_dist advice (15-22 lines before), no per-rank banner, a clean exit
    output = result.stdout + result.stderr
    for noise in ("sync_dist", "Initializing distributed", "terminate called", "Traceback"):
        assert noise not in output, output[-3000:]


def test_two_process_test_metrics_equal_single_process(ddp_fit, top_jets_file, capfd, monkeypatch):
    out, _ = ddp_fit
    ckpt = out / "ckpt" / "last.ckpt"
    # streamed DDP (2 processes x 2 loader workers) is test_two_nodes_stream_and_match_one_process
    args = ["test", *data_args(top_jets_file), *QUIET, "--ckpt_path", ckpt, "--trainer.accelerator", "cpu"]
    csv = ["--trainer.logger", "CSVLogger", "--trainer.logger.save_dir"]
    # the single process needs no process of its own: the console script's entry point, in this one
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, "--trainer.devices", "1", *csv, out / "single", cwd=out)
    assert code == 0, err[-4000:]
    result = run_jetzoo(*args, "--trainer.strategy", "ddp", "--trainer.devices", "2", *csv, out / "ddp", cwd=out)
    assert result.returncode == 0, result.stderr[-4000:]
    metrics = {name: csv_metrics(out / name) for name in ("single", "ddp")}
    for key in ("test/acc", "test/auc", "test/rej50_top_vs_bkg", "test/rej30_top_vs_bkg", "test/loss", "test/auc_lo", "test/rej50_top_vs_bkg_hi"):
        assert metrics["ddp"][key] == pytest.approx(metrics["single"][key], rel=1e-6), key


def test_two_nodes_stream_and_match_one_process(ddp_fit, top_jets_file):
    """Multi-node as a cluster launcher runs it: one `jetzoo test` per node (--trainer.num_nodes 2,
    1 process each) with MASTER_ADDR, MASTER_PORT and NODE_RANK set, streaming the file in 2 loader
    workers per process, each reading its own blocks."""
    import socket
    import subprocess
    import sys

    out, _ = ddp_fit
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    jetzoo = str(Path(sys.executable).with_name("jetzoo"))
    args = ["test", *data_args(top_jets_file), *QUIET, "--ckpt_path", out / "ckpt" / "last.ckpt",
            "--trainer.accelerator", "cpu", "--trainer.strategy", "ddp", "--trainer.num_nodes", "2",
            "--trainer.devices", "1", "--data.streaming", "true", "--data.num_workers", "2",
            "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", out / "nodes"]
    nodes = [
        subprocess.Popen([jetzoo, *map(str, args)], cwd=out, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                              "NODE_RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": "0"})
        for rank in range(2)
    ]
    results = [(node.wait(timeout=600), node.stderr.read()) for node in nodes]
    assert all(code == 0 for code, _ in results), [err[-2000:] for _, err in results]
    if not (out / "single").exists():  # written by test_two_process_test_metrics_equal_single_process
        run_jetzoo("test", *data_args(top_jets_file), *QUIET, "--ckpt_path", out / "ckpt" / "last.ckpt",
                   "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", out / "single", cwd=out)
    single = csv_metrics(out / "single")
    nodes_metrics = csv_metrics(out / "nodes")
    for key in ("test/acc", "test/auc", "test/rej50_top_vs_bkg", "test/loss"):
        assert nodes_metrics[key] == pytest.approx(single[key], rel=1e-6), key


def test_predict_writes_scores_and_truth_for_every_test_jet(ddp_fit, top_jets_file, tmp_path, capfd, monkeypatch):
    out, _ = ddp_fit
    target = tmp_path / "scores.h5"
    code, _, err = jetzoo_in_process(
        capfd, monkeypatch, "predict", *data_args(top_jets_file), *QUIET, "--ckpt_path", out / "ckpt" / "last.ckpt",
        "--trainer.logger", "false", "--prediction_writer.output_path", target, cwd=tmp_path,
    )
    assert code == 0, err[-4000:]
    with h5py.File(target) as f:
        probs, labels, logits = f["probs"][:], f["label"][:], f["logits"][:]
        assert list(f.attrs["class_names"]) == ["QCD", "top"]
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), probs, atol=1e-6)
    from jetzoo.registry import create_datamodule

    n_test = len(create_datamodule("pythia", path=str(top_jets_file)).split_indices()["test"])  # hashed: ~20%
    assert probs.shape == (len(labels), 2) and len(labels) == n_test and abs(n_test - 800) < 4 * np.sqrt(640)
    assert np.allclose(probs.sum(1), 1, atol=1e-5) and set(np.unique(labels)) == {0, 1}
    assert ((probs[:, 1] > 0.5) == labels).mean() > 0.7
    # two processes: the one file asked for, the same jets in the same order (issue 24 §4: it was
    # scores.rank0.h5 + scores.rank1.h5), no part file left behind
    ddp = run_jetzoo("predict", *data_args(top_jets_file), *QUIET, "--ckpt_path", out / "ckpt" / "last.ckpt",
                     "--trainer.logger", "false", "--prediction_writer.output_path", tmp_path / "ddp.h5",
                     "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu", cwd=tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    with h5py.File(tmp_path / "ddp.h5") as f:
        np.testing.assert_array_equal(f["label"][:], labels)
        np.testing.assert_allclose(f["probs"][:], probs, atol=1e-6)
        np.testing.assert_allclose(f["logits"][:], logits, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir() if "rank" in p.name) == []


def test_wandb_logger_runs_offline_without_credentials(top_jets_file, tmp_path):
    """W&B beside a CSV logger (a list of loggers in --config, as Lightning takes them): what W&B was given
    is read back from the CSV logger's metrics.csv, not from W&B's binary run file."""
    env = {"HOME": str(tmp_path), "WANDB_API_KEY": "", "WANDB_MODE": "", "NETRC": str(tmp_path / "none")}
    config = tmp_path / "loggers.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"logger": [
        {"class_path": "lightning.pytorch.loggers.WandbLogger",
         "init_args": {"save_dir": str(tmp_path), "project": "jetzoo-test"}},
        {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": str(tmp_path / "csv")}},
    ]}}))
    result = run_jetzoo(
        "fit", "--config", config, *data_args(top_jets_file), *QUIET, "--trainer.max_epochs", "1",
        "--trainer.default_root_dir", tmp_path, env=env, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "runs offline" in result.stderr
    assert list((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))  # W&B wrote its offline run
    (metrics,) = (tmp_path / "csv").glob("lightning_logs/version_*/metrics.csv")
    rows = list(csv.DictReader(metrics.open()))
    logged = {key for row in rows for key, value in row.items() if value}
    for key in ("val/auc", "val/rej50_top_vs_bkg", "test/acc", "test/auc", "test/rej30_top_vs_bkg"):
        assert key in logged, key
    assert float(next(r["test/auc"] for r in rows if r.get("test/auc"))) > 0.5


def test_print_config_shows_class_paths_and_data_dimensions_are_not_asked_for(top_jets_file, tmp_path, capfd, monkeypatch):
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "fit", *data_args(top_jets_file), "--print_config", cwd=tmp_path)
    assert code == 0, err[-2000:]
    assert "class_path: jetzoo.zoo.mlp.MLP" in out
    assert "class_path: jetzoo.datamodules.pythia.PythiaJetDataModule" in out


def test_models_table_lists_builtins_with_parameter_counts(capfd, monkeypatch):
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "models")
    assert code == 0, err
    mlp = next(line for line in out.splitlines() if line.startswith("mlp "))
    assert re.search(r"mlp\s+jetzoo\s+tagging\s+hl\s+[0-9,]+", mlp)
    assert re.search(r"^perceptron\s+jetzoo\s+tagging\s+hl\s+26$", out, re.M)  # 12 features -> 2 classes


def test_datasets_table_lists_every_format(capfd, monkeypatch):
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "datasets")
    assert code == 0, err
    for name in ("pythia", "hls4ml", "top-tagging", "jetclass", "jetnet", "quark-gluon"):
        assert re.search(rf"^{name}\s+jetzoo\s", out, re.M), name


def test_missing_data_file_is_a_one_line_error(tmp_path, capfd, monkeypatch):
    missing = tmp_path / "nope.h5"
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "mlp", "--data", "hls4ml", "--data.path", missing,
                                     cwd=tmp_path)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0]


def test_wandb_credentials_check_survives_a_python_without_netrc(monkeypatch):
    """An ImportError of netrc became an UnboundLocalError (the except clause named the missing module)."""
    import sys

    from jetzoo.training.output import wandb_has_credentials

    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setitem(sys.modules, "netrc", None)  # `import netrc` now raises ImportError
    assert wandb_has_credentials() is False
