"""A bench's runs as Dask tasks (issue 23 §5): `scheduler: tcp://HOST:PORT` (a running cluster, e.g.
dask_jobqueue's SLURMCluster on a batch system) or `scheduler: local:N` (N worker processes on this machine).

Each (model, seed) run is one task, `workers.work`, the same function the `workers: N` pool runs: it trains,
writes the run's predictions and record atomically into the shared `out` directory, and returns the record,
so the results equal those of `workers: N` bit for bit (tests/test_bench.py). A re-run resumes from the
records, as always.

- **A worker that dies** (killed, out of memory) loses its task; the scheduler hands it to another worker.
  On the local cluster a task is given up after 2 such deaths (Dask's `allowed-failures`, set here), and
  the run is recorded as failed in its own row; a remote scheduler applies its own setting.
- **Data loading in-process.** Dask's worker processes are daemonic and cannot start DataLoader workers
  or DDP ranks, so each task reads its batches in its own process (`num_workers: 0`, forced here); one
  run per worker thread, `threads_per_worker` 1, each on `trainer.threads` torch threads.
- Every attempt is logged to `out/attempts.log` (run, host, pid), so a retried run shows as two lines.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

from jetzoo.bench.runs import say
from jetzoo.bench.spec import BenchSpec, parse_scheduler

ALLOWED_FAILURES = 2  # deaths of a worker holding a run before the run is given up (local clusters)


def finished_runs_on_dask(spec: BenchSpec, todo: list, prefixes: list[str], work, write_failed) -> Iterator[tuple]:
    """(model, seed, record) of every job, in the order they finish on the cluster; `work` and `write_failed`
    are jetzoo.bench.workers' (passed in: the workers module chooses this runner)."""
    import logging

    import dask
    from distributed import Client, LocalCluster, as_completed

    from jetzoo.generate.shards import QUIET_DASK_CONFIG

    address, count = parse_scheduler(spec.scheduler)
    task_spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, args={**spec.data.args, "num_workers": 0}))
    cluster = None
    with dask.config.set({**QUIET_DASK_CONFIG, "distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        if address is None:
            cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.ERROR, memory_limit=0)
            address = cluster.scheduler_address
        client = Client(address, timeout="30s")
    say(f"{len(todo)} run(s) on the Dask scheduler {address}")
    run = uuid.uuid4().hex[:8]
    try:
        futures = {client.submit(attempt, work, task_spec, model, seed, key, prefix,
                                 key=f"jetzoo-bench-{prefix}-{run}", pure=False): (model, seed, key)
                   for (model, seed, key), prefix in zip(todo, prefixes)}
        for future in as_completed(futures):
            model, seed, key = futures[future]
            try:
                record = future.result()
            except Exception as err:  # noqa: BLE001 - its workers died ALLOWED_FAILURES times (KilledWorker)
                message = f"its Dask worker died: {type(err).__name__}: {err}"
                say(f"{spec.label(model)} seed {seed}: failed: {message}")
                record = write_failed(spec, model, seed, key, message)
            yield model, seed, record
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def attempt(work, spec: BenchSpec, model, seed: int, key: str, prefix: str) -> dict:
    """One attempt at a run on a Dask worker: logged, then `work` (workers.work: train, write, return the record)."""
    import torch

    from jetzoo.bench.runs import quiet_bench_output

    if spec.trainer.threads:
        torch.set_num_threads(spec.trainer.threads)
    quiet_bench_output()
    log = Path(spec.out) / "attempts.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:  # one short line per attempt: appends of this size are atomic
        f.write(f"{spec.label(model)} seed {seed} {socket.gethostname()} {os.getpid()}\n")
    return work(spec, model, seed, key, prefix)
