"""`jetzoo generate --out DIR/`: shards + manifest, repair of bad shards, and generation on a real Dask cluster."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jetzoo.datamodules.jet_identity import file_sha256, source_ids
from jetzoo.errors import JetDataError
from jetzoo.generate import generate
from jetzoo.registry import create_datamodule

N, SEED, CHUNK, SHARD = 40, 1, 10, 20  # 2 chunks per class, 2 shards of 2 chunks (one per class)
OPTIONS = dict(recipe="quark-gluon", n=N, seed=SEED, chunk_jets=CHUNK, progress=False, announce=False)
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return generate(**OPTIONS, out=str(tmp_path_factory.mktemp("shards")) + "/", shard_jets=SHARD, workers=2)


def checksums(directory):
    return {e["name"]: e["sha256"] for e in json.loads((Path(directory) / "manifest.json").read_text())["shards"]}


def test_a_shard_has_the_same_bytes_however_long_its_datasets_live(tmp_path, monkeypatch):
    """The cause of shards that once differed in about one run of five: HDF5 places a chunked dataset's data
    when its chunk cache is flushed; a reference that lived until the file closed (as in a Dask worker) moved it."""
    import h5py

    from jetzoo.generate.writer import write_jet_file

    rng = np.random.default_rng(0)
    hl, labels = rng.normal(size=(20, 3)).astype(np.float32), rng.integers(0, 2, 20)
    particles, p4 = rng.normal(size=(20, 100, 16)).astype(np.float32), rng.normal(size=(20, 100, 4)).astype(np.float32)
    arrays = (hl, labels, particles, p4, ["q", "g"])
    write_jet_file(tmp_path / "now.h5", *arrays, datasets={"jetIdentity": np.zeros((20, 2), np.int64)})
    kept, create = [], h5py.Group.create_dataset
    monkeypatch.setattr(h5py.Group, "create_dataset", lambda self, *a, **k: kept.append(create(self, *a, **k)) or kept[-1])
    write_jet_file(tmp_path / "late.h5", *arrays, datasets={"jetIdentity": np.zeros((20, 2), np.int64)})
    assert len(kept) == 6 and file_sha256(tmp_path / "late.h5") == file_sha256(tmp_path / "now.h5")


def test_shards_and_manifest_read_back_as_the_single_file(shards, tmp_path):
    manifest = json.loads((shards / "manifest.json").read_text())
    assert [e["name"] for e in manifest["shards"]] == [f"part-{i:05d}.h5" for i in range(2)]
    assert all(e["class_counts"] == [10, 10] for e in manifest["shards"])
    assert sorted(tuple(c) for e in manifest["shards"] for c in e["chunks"]) == [(c, i) for c in range(2) for i in range(2)]
    assert manifest["recipe"] == "quark-gluon" and manifest["seed"] == SEED and "Pythia" in manifest["generator"]
    assert {e["name"]: file_sha256(shards / e["name"]) for e in manifest["shards"]} == checksums(shards)
    assert not [p for p in shards.iterdir() if ".tmp-" in p.name]

    single = generate(**OPTIONS, out=tmp_path / "single.h5", workers=1)
    tables = [create_datamodule("pythia", path=str(p), streaming=False).table for p in (shards, single)]
    a, b = ([t.jet_ids, t.labels, t.p4] for t in tables)
    order_a, order_b = np.argsort(a[0]), np.argsort(b[0])
    np.testing.assert_array_equal(a[0][order_a], b[0][order_b])  # the same jets, recognised as the same
    np.testing.assert_array_equal(a[1][order_a], b[1][order_b])
    np.testing.assert_array_equal(a[2][order_a], b[2][order_b])
    # the checkpoint manifest (Sources) re-derives every jet's event, for both: each jet's event is its identity
    # (issue 23 §6), and the events the shards cover are those the single file covers
    from jetzoo.datamodules.jet_identity import SplitRule

    keys = SplitRule(0, 0.1, 0.1).key_of
    assert tables[0].sources[0].events == tables[1].sources[0].events
    np.testing.assert_array_equal(np.unique(np.concatenate([source_ids(s) for s in tables[0].sources])),
                                  np.unique(np.concatenate([source_ids(s) for s in tables[1].sources])))
    assert np.isin(keys(a[0]), np.concatenate([source_ids(s) for s in tables[0].sources])).all()


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_bad_shard_is_named_and_regenerated_alone(shards, tmp_path, damage):
    out = Path(shutil.copytree(shards, tmp_path / "copy"))
    bad = out / "part-00001.h5"
    data = bad.read_bytes()
    middle = len(data) // 2
    bad.write_bytes(data[:middle] if damage == "truncate" else data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    good = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.h5") if p != bad}
    with pytest.raises(JetDataError) as err:
        create_datamodule("pythia", path=str(out), streaming=False).table
    assert "part-00001.h5" in str(err.value) and "\n" not in str(err.value)
    if damage == "flip":
        assert "checksum" in str(err.value)
        return  # regeneration: the truncated case
    generate(**OPTIONS, out=str(out) + "/", shard_jets=SHARD, workers=1)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.h5") if p != bad} == good  # untouched
    assert file_sha256(bad) == checksums(shards)["part-00001.h5"] == checksums(out)["part-00001.h5"]


def test_manifest_of_another_generation_is_refused(shards, tmp_path):
    out = Path(shutil.copytree(shards, tmp_path / "copy"))
    with pytest.raises(JetDataError, match="another generation"):
        generate(**{**OPTIONS, "seed": SEED + 1}, out=str(out) + "/", shard_jets=SHARD, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shards"][1]["chunks"] = manifest["shards"][0]["chunks"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(JetDataError, match="same chunk ids"):
        create_datamodule("pythia", path=str(out), streaming=False).table


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dask_cluster_survives_a_killed_worker(shards, tmp_path):
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "w")
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=log, stderr=log)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0"],
                stdout=log, stderr=log))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            pids = client.run(os.getpid)  # worker address -> pid
            out = tmp_path / "dask"
            runner = subprocess.Popen(
                [Path(sys.executable).with_name("jetzoo"), "generate", "--recipe", "quark-gluon", "--n", str(N),
                 "--seed", str(SEED), "--chunk-jets", str(CHUNK), "--shard-jets", str(SHARD), "--no-progress",
                 "--scheduler", address, "--out", f"{out}/"], stdout=log, stderr=log)
            procs.append(runner)
            victim, deadline = None, time.monotonic() + 60
            while victim is None and time.monotonic() < deadline and runner.poll() is None:
                busy = {w: tasks for w, tasks in client.processing().items() if tasks}
                if busy:
                    victim = pids[sorted(busy)[0]]
                time.sleep(0.05)
            assert victim is not None, "no worker got a task"
            time.sleep(0.5)  # mid-chunk: Pythia is running
            os.kill(victim, signal.SIGKILL)
            assert runner.wait(timeout=90) == 0, (tmp_path / "dask.log").read_text()[-3000:]
        killed = [p for p in procs[1:3] if p.pid == victim]
        assert killed and killed[0].wait(timeout=10) == -signal.SIGKILL
        assert checksums(out) == checksums(shards)  # byte-identical to the undisturbed local run
        assert {p.name: file_sha256(p) for p in out.glob("part-*.h5")} == checksums(shards)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
        log.close()


def test_a_manifest_of_many_fragmented_chunks_merges_per_origin_in_order():
    """Each origin's row ranges sorted and coalesced once (a 250k-jet sharded sample has thousands of
    per-class fragments: merging them chunk by chunk took 9 minutes), origins in order of appearance."""
    from jetzoo.datamodules.jet_identity import Source, merge_sources

    a = [Source("generated", "top:v2:seed2", "a.h5", ((i, i + 1),), 10_000, 2) for i in range(9_999, -1, -2)]
    b = [Source("file", "sha", "b.h5", ((i, i + 1),), 0, 0) for i in range(5)]
    merged = merge_sources([a[0], b[0], *a[1:], *b[1:]])
    assert [(m.name, m.key) for m in merged] == [("a.h5", "top:v2:seed2"), ("b.h5", "sha")]
    assert merged[0].rows == tuple((i, i + 1) for i in range(1, 10_000, 2)) and merged[1].rows == ((0, 5),)
