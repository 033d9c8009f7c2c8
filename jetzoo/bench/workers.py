"""Running a bench's (model, seed) runs: one after another, or `workers: N` at once.

With `workers: N` each run trains in its own process (spawned, so no OpenMP or CUDA state is
inherited) on `trainer.threads` threads: on a machine of N cores, N single-thread runs finish
sooner than one run after another on N threads, and give the same bit-identical predictions
(a run's key does not contain `workers`). Each worker writes its run's predictions and record
itself, atomically, as a sequential bench does; the parent rewrites the tables as runs finish.

A worker dies with the bench: on Linux it asks the kernel for SIGKILL when its parent ends
(PR_SET_PDEATHSIG), so a bench killed with kill -9 leaves no orphan training on, and its re-run
redoes only the runs that were in flight. Ctrl-C stops the bench at once: the queued runs are
cancelled and the running ones killed. A worker that dies on its own (out of memory, killed)
fails the runs it could not finish, each in its own row; the finished ones are kept.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from jetzoo.bench import code_version, kept, measure, resume, store
from jetzoo.bench.generative import DEFAULT_CPU_BUDGET_HOURS
from jetzoo.bench.runs import DataCache, say
from jetzoo.bench.tasks import task_functions
from jetzoo.bench.spec import BenchSpec, ModelSpec

Job = tuple[ModelSpec, int, str]  # (model, seed, run key)

_worker_data: DataCache | None = None  # one per worker process: the jets are read once per worker


def run_one(spec: BenchSpec, model: ModelSpec, seed: int, key: str, data: DataCache, prefix: str) -> dict:
    """Train, predict and measure one run, write its predictions, weights and record; returns the record
    (status "failed" with the one-line error if anything in it raised: never the end of the bench). A finished
    run whose predictions are gone has them re-made from its kept weights instead (jetzoo.bench.kept)."""
    out, label = Path(spec.out), spec.label(model)
    record = kept.kept_record(spec, model, seed, key)
    if record is not None:
        outputs = kept.remade_outputs(spec, model, seed, data, prefix, record)
        if outputs is not None:
            write_outputs(out, label, seed, key, outputs)
            return record
    plan = spec.training_plan(model)
    recipe = f", recipe {plan.recipe.name}" if plan.recipe else ""
    try:
        from jetzoo.registry import get_model

        task = get_model(model.name).task
        if task == "generation":  # no early stopping: the budget ends the fit, the best validation W1M is kept
            stop = f" within {spec.cpu_budget_hours or DEFAULT_CPU_BUDGET_HOURS} CPU-hours, keeping the best validation W1M"
            say(f"{prefix}: training{stop}{recipe}")
        else:
            stop = f", stopping after {plan.patience} without improvement" if plan.patience else ""
            say(f"{prefix}: training (at most {plan.max_epochs} epoch(s){stop}{recipe})")
        run, _ = task_functions(task)
        result = run(spec, model, seed, data, prefix, key=key)
    except Exception as err:  # noqa: BLE001 - one failed run is a row, never the end of the bench
        from jetzoo.registry import describe

        message = describe(err)
        say(f"{prefix}: failed: {message}")
        if os.environ.get("JETZOO_VERBOSE") == "1":
            import traceback

            traceback.print_exc()
        return write_failed(spec, model, seed, key, message)
    record = {"key": key, "model": label, "name": model.name, "args": model.args, "seed": seed, **result["record"],
              "code": code_version.identity(), "machine": measure.machine()}  # code: every module the run used is imported
    write_outputs(out, label, seed, key, result)
    store.write_model(store.model_path(out, label, seed), result["model"], {"key": key, "model": label, "seed": seed})
    store.write_json(store.record_path(out, label, seed), record)
    resume.finished(spec, label, seed)  # the record is written: the run's checkpoint is not needed any more
    return record


def write_outputs(out: Path, label: str, seed: int, key: str, result: dict) -> None:
    """A run's predictions: a generator's jets in JetNet's layout (at pT 1 TeV), an anomaly detector's scores, or a
    tagger's logits and probabilities."""
    attrs = {"key": key, "model": label, "seed": seed}
    path = store.predictions_path(out, label, seed)
    if "generated" in result:
        from jetzoo.datamodules.jetnet_writer import write_jetnet

        cloud, mask, labels, class_names = result["generated"]
        write_jetnet(path, cloud, mask, class_names, labels, 1000.0, attrs)
    elif "scores" in result:
        store.write_scores(path, result["scores"], result["labels"], result["class_names"], result["background_classes"],
                           attrs)
    else:
        store.write_predictions(path, result["logits"], result["labels"], result["class_names"],
                                result["background_classes"], {**attrs, "signal_efficiencies": result["signal_efficiencies"]})


def write_failed(spec: BenchSpec, model: ModelSpec, seed: int, key: str, message: str) -> dict:
    """The record of a failed run, written (shown in its own row, retried by the next re-run)."""
    record = {"key": key, "status": "failed", "error": message, "model": spec.label(model), "seed": seed}
    store.write_json(store.record_path(Path(spec.out), spec.label(model), seed), record)
    return record


def finished_runs(spec: BenchSpec, todo: list[Job], data: DataCache) -> Iterator[tuple[ModelSpec, int, dict]]:
    """(model, seed, record) of every job, in the order they finish."""
    prefixes = [f"[{i}/{len(todo)}] {spec.label(m)} seed {s}" for i, (m, s, _) in enumerate(todo, 1)]
    if spec.scheduler and todo:
        from jetzoo.bench.dask_runner import finished_runs_on_dask

        yield from finished_runs_on_dask(spec, todo, prefixes, work, write_failed)
        return
    if spec.workers <= 1 or len(todo) <= 1:
        for (model, seed, key), prefix in zip(todo, prefixes):
            yield model, seed, run_one(spec, model, seed, key, data, prefix)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    workers = min(spec.workers, len(todo))
    say(f"{workers} worker processes, {spec.trainer.threads or 'default'} thread(s) each")
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=start_worker, initargs=(spec, os.getpid()))
    try:
        futures = {pool.submit(work, spec, model, seed, key, prefix): (model, seed, key)
                   for (model, seed, key), prefix in zip(todo, prefixes)}
        for future in as_completed(futures):
            model, seed, key = futures[future]
            try:
                record = future.result()
            except Exception as err:  # noqa: BLE001 - the worker process itself died (killed, out of memory)
                message = f"its worker process died: {type(err).__name__}: {err}"
                say(f"{spec.label(model)} seed {seed}: failed: {message}")
                record = write_failed(spec, model, seed, key, message)
            yield model, seed, record
    except BaseException:  # Ctrl-C, or the caller stopped: no queued run starts; the running ones end with us
        # killed first: a worker survives its run's KeyboardInterrupt (Lightning turns it into an exit the
        # pool's worker loop catches) and would go on with the runs already handed to it; shutdown()
        # forgets the processes, and PR_SET_PDEATHSIG only fires once this process has exited
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def start_worker(spec: BenchSpec, parent: int) -> None:
    """A worker's set-up: die with the bench, its thread count, the bench's quiet output."""
    die_with_parent(parent)
    import torch

    from jetzoo.bench.runs import quiet_bench_output

    if spec.trainer.threads:
        torch.set_num_threads(spec.trainer.threads)
    quiet_bench_output()


def work(spec: BenchSpec, model: ModelSpec, seed: int, key: str, prefix: str) -> dict:
    global _worker_data
    if _worker_data is None or _worker_data.spec != spec.data:  # a long-lived (Dask) worker may serve another bench
        _worker_data = DataCache(spec.data)
    return run_one(spec, model, seed, key, _worker_data, prefix)


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when `parent` ends (Linux prctl PR_SET_PDEATHSIG); elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)
