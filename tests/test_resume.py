"""Exact resume: `jetzoo fit` killed with kill -9 during its third epoch and re-run with
`--ckpt_path last` ends with the weights and test metrics of the uninterrupted run, bit for bit,
in the same run directory, with 0 and with 2 DataLoader workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from helpers import printed_metrics, run_jetzoo

EPOCHS = 3


def fit_args(data, workers: int) -> list[str]:
    # batch 32: a few tenths of a second per epoch, so a kill after the second epoch lands inside the third;
    # dropout, so the run depends on the random state as well as on the order of the jets
    return [
        "fit", "--model", "mlp", "--model.dropout", "0.2", "--data.path", data, "--data.batch_size", "32",
        "--data.num_workers", workers, "--data.max_jets", "2000",
        "--trainer.max_epochs", EPOCHS, "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false",
    ]


def printed_test_metrics(stdout: str) -> dict[str, str]:
    return printed_metrics(stdout)


def kill_during_third_epoch(args, cwd: Path) -> int:
    """Start the fit, kill -9 it once last.ckpt has been written twice (end of the second epoch)."""
    last = cwd / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    jetzoo = str(Path(sys.executable).with_name("jetzoo"))
    process = subprocess.Popen([jetzoo, *map(str, args)], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    writes, deadline = set(), time.time() + 300
    while process.poll() is None and time.time() < deadline:
        if last.exists():
            writes.add(last.stat().st_ino)  # each write is a new file renamed over the old one
            if len(writes) >= 2:
                time.sleep(0.05)
                os.kill(process.pid, signal.SIGKILL)
                break
        time.sleep(0.002)
    return process.wait()


@pytest.fixture(scope="module")
def uninterrupted(top_jets_file, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("uninterrupted")
    result = run_jetzoo(*fit_args(top_jets_file, 0), cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return torch.load(cwd / "lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True), printed_test_metrics(result.stdout)


@pytest.mark.parametrize("workers", [0, 2])
def test_kill_9_then_resume_from_last_is_bit_identical(uninterrupted, top_jets_file, tmp_path, workers):
    reference, reference_metrics = uninterrupted
    args = fit_args(top_jets_file, workers)
    assert kill_during_third_epoch(args, tmp_path) == -signal.SIGKILL
    run = tmp_path / "lightning_logs" / "version_0"
    assert torch.load(run / "checkpoints/last.ckpt", weights_only=True)["epoch"] == 1  # killed inside epoch 3

    resumed = run_jetzoo(*args, "--ckpt_path", "last", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    final = torch.load(run / "checkpoints/last.ckpt", weights_only=True)
    assert final["epoch"] == EPOCHS - 1 and final["global_step"] == reference["global_step"]
    for key, value in reference["state_dict"].items():
        assert torch.equal(final["state_dict"][key], value), key
    assert printed_test_metrics(resumed.stdout) == reference_metrics and reference_metrics
    # the same run directory, and its best-model tracking, carried on
    assert sorted(p.name for p in (tmp_path / "lightning_logs").iterdir()) == ["version_0"]
    (best_state,) = [v for k, v in final["callbacks"].items() if k.startswith("LatestModelCheckpoint")]
    assert Path(best_state["best_model_path"]).parent == run / "checkpoints"
    assert "dirpath" not in resumed.stderr
