"""Streaming (issue 8 §3): the same jets and arrays as in memory, each (rank, worker) reading only its
own blocks, every evaluated jet counted exactly once, and a training order drawn from (seed, epoch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from format_writers import make_jets, write_top_tagging_file

from jetzoo.datamodules import streaming
from jetzoo.errors import JetDataError
from jetzoo.registry import create_datamodule


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Blocks of 512 jets, so the 4000 fixture jets make 8 blocks to share out."""
    monkeypatch.setattr(streaming, "STREAM_CHUNK_JETS", 512)
    import jetzoo.datamodules.file_formats as file_formats
    import jetzoo.datamodules.pythia as pythia

    monkeypatch.setattr(pythia, "STREAM_CHUNK_JETS", 512)
    monkeypatch.setattr(file_formats, "STREAM_CHUNK_JETS", 512)


def both(path, view, **kwargs):
    options = dict(path=str(path), view=view, batch_size=100, num_particles=24, **kwargs)
    memory, stream = create_datamodule("pythia", **options, streaming=False), create_datamodule("pythia", **options, streaming=True)
    memory.setup("fit"), stream.setup("fit")
    return memory, stream


def concat(batches):
    return {k: torch.cat([b[k] for b in batches]) for k in batches[0]}


@pytest.mark.parametrize("view", ["particles", "hl"])
def test_streaming_serves_the_in_memory_arrays(top_jets_file, view):
    memory, stream = both(top_jets_file, view)
    assert stream.is_streaming and not memory.is_streaming
    assert memory.split_sizes == stream.split_sizes and memory.dims == stream.dims
    for split in ("val", "test"):  # evaluation: file order in both
        a, b = concat(list(memory._loader(split, False))), concat(list(stream._loader(split, False)))
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)  # standardised from a sample: float noise
    if view == "hl":  # the stored features are read alone, the constituents never
        read, path = stream.chunk_reader(hl_only=True)
        assert {next(read(path, None)).p4.shape[1:]} == {(0, 4)}


def rows(batches, key):
    x = torch.cat([b[key].reshape(len(b[key]), -1) for b in batches]).numpy()
    return x[np.lexsort(x.T[::-1])]


def test_every_rank_and_worker_reads_its_own_blocks_and_each_jet_is_evaluated_once(top_jets_file):
    memory, stream = both(top_jets_file, "hl")
    expected = rows(list(memory._loader("test", False)), "hl")
    dataset = stream.datasets["test"]
    seen = []
    for rank in range(2):
        dataset.rank, dataset.world, dataset.workers = rank, 2, 2
        loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2)
        batches = list(loader)
        assert len(batches) == len(dataset)  # __len__ counts what this rank's workers yield together
        seen += batches
    np.testing.assert_array_equal(rows(seen, "hl"), expected)  # all test jets, none twice


def test_training_order_is_a_function_of_seed_and_epoch_and_ranks_stay_in_step(top_jets_file):
    _, stream = both(top_jets_file, "hl")
    dataset = stream.datasets["train"]

    def epoch(e, rank=0, world=1):
        dataset.epoch, dataset.rank, dataset.world, dataset.workers = e, rank, world, 1
        return list(dataset)

    first, again, second = epoch(0), epoch(0), epoch(1)
    assert all(torch.equal(a["hl"], b["hl"]) for a, b in zip(first, again))
    assert not torch.equal(torch.cat([b["hl"] for b in first]), torch.cat([b["hl"] for b in second]))
    assert all(len(b["label"]) == 100 for b in first)  # full batches only
    counts = [len(epoch(0, rank, 2)) for rank in range(2)]
    assert counts[0] == counts[1] > 0  # DDP ranks take the same number of steps
    per_rank = [rows(epoch(0, rank, 2), "hl") for rank in range(2)]
    both_ranks = np.concatenate(per_rank)
    assert len(np.unique(both_ranks, axis=0)) == len(both_ranks)  # no training jet on two ranks


def test_auto_streams_above_the_memory_budget_and_files_stream_as_published(tmp_path):
    path = tmp_path / "top.h5"
    write_top_tagging_file(path, jets=make_jets(1200, 20, ["QCD", "top"], seed=1))
    small = create_datamodule("top-tagging", path=str(path), view="hl")
    tight = create_datamodule("top-tagging", path=str(path), view="hl", memory_budget=path.stat().st_size / 1e9)
    assert not small.is_streaming and tight.is_streaming
    small.setup("fit"), tight.setup("fit")
    assert small.split_sizes == tight.split_sizes and small.data_provenance() == tight.data_provenance()
    with pytest.raises(JetDataError, match="need the data in memory"):
        create_datamodule("top-tagging", path=str(path), streaming=True, max_jets=10).setup("fit")


def test_a_streaming_fit_killed_mid_epoch_resumes_without_repeating_or_skipping_jets(top_jets_file, tmp_path):
    """kill -9 right after the first mid-epoch checkpoint (step 20 of 87), resume from it: the final
    weights equal the uninterrupted run's bit for bit (dropout on, so random states count too)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from helpers import run_jetzoo

    args = ["fit", "--model", "mlp", "--model.dropout", "0.2", "--data.path", top_jets_file, "--data.batch_size", "32",
            "--data.streaming", "true", "--data.num_workers", "2", "--trainer.max_epochs", "1",
            "--checkpoint.every_n_train_steps", "20", "--checkpoint.monitor", "null", "--test_after_fit", "false",
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    whole.mkdir(), killed.mkdir()
    assert run_jetzoo(*args, cwd=whole).returncode == 0
    last = killed / "lightning_logs/version_0/checkpoints/last.ckpt"
    process = subprocess.Popen([str(Path(sys.executable).with_name("jetzoo")), *map(str, args)], cwd=killed,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while process.poll() is None and time.time() < deadline and not last.exists():
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    interrupted = torch.load(last, weights_only=True)
    assert interrupted["epoch"] == 0 and interrupted["global_step"] < 87  # inside the first epoch
    assert run_jetzoo(*args, "--ckpt_path", "last", cwd=killed).returncode == 0
    reference = torch.load(whole / "lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    final = torch.load(last, weights_only=True)
    assert final["global_step"] == reference["global_step"]
    for key, value in reference["state_dict"].items():
        assert torch.equal(final["state_dict"][key], value), key
