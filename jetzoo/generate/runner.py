"""Split a generation job into fixed, independently seeded chunks and run them on worker processes.

The plan depends only on (recipe, n, seed): class c gets n // K jets (+1 for the first n % K classes),
cut into chunks of `recipe.chunk_jets`; chunk (c, i) seeds its Pythia from
SeedSequence(seed, spawn_key=(c, i)). Chunks are collected in plan order and the rows finally shuffled
with a permutation drawn from SeedSequence(seed, spawn_key=(SHUFFLE_KEY,)), so the output is identical
for any number of workers. The tau axes and the detector ride along in every task unchanged; the
detector's randomness is seeded from the chunk's Pythia seed (detector.py), so it keeps this property.

Seeds therefore depend only on (seed, class, chunk): files of one recipe and seed share their jets (the
n = 2000 file is made of the first chunks of the n = 4000 one, before the final shuffle); use different
seeds for independent samples.

Workers die with the process that started them (`_die_with_parent`): a `kill -9` of `jetzoo generate`
leaves no orphan Pythia processes behind.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from jetzoo.generate.chunk import JetChunk, generate_chunk
from jetzoo.generate.recipes import Recipe, get_recipe

PYTHIA_MAX_SEED = 900_000_000  # Pythia's Random:seed accepts 1 .. 900000000
SHUFFLE_KEY = 1 << 30


@dataclass(frozen=True)
class ChunkTask:
    recipe_name: str
    class_index: int
    chunk_index: int
    n_jets: int
    pythia_seed: int
    max_particles: int
    tau_axes: str | None = None  # None: the recipe's
    detector: str = "none"  # "none", "atlas-like", "cms-like" (detector.py); its randomness comes from pythia_seed


def plan_chunks(
    recipe: Recipe,
    n: int,
    seed: int,
    max_particles: int,
    tau_axes: str | None = None,
    detector: str = "none",
    chunk_jets: int | None = None,
) -> list[ChunkTask]:
    """`chunk_jets` (None: the recipe's) changes which jets are made; files record it when not the recipe's."""
    k = len(recipe.sources)
    size = chunk_jets or recipe.chunk_jets
    tasks = []
    for c in range(k):
        n_class = n // k + (1 if c < n % k else 0)
        for i, start in enumerate(range(0, n_class, size)):
            state = np.random.SeedSequence(seed, spawn_key=(c, i)).generate_state(1)[0]
            tasks.append(
                ChunkTask(
                    recipe_name=recipe.name,
                    class_index=c,
                    chunk_index=i,
                    n_jets=min(size, n_class - start),
                    pythia_seed=int(state) % PYTHIA_MAX_SEED + 1,
                    max_particles=max_particles,
                    tau_axes=tau_axes,
                    detector=detector,
                )
            )
    return tasks


def say(message: str) -> None:
    """One line on stderr, outside any progress bar."""
    print(f"jetzoo: {message}", file=sys.stderr, flush=True)


def shuffle_permutation(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SHUFFLE_KEY,))).permutation(n)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_chunks(tasks: list[ChunkTask], workers: int, progress: bool, total: int) -> list[JetChunk]:
    """Results in task order. workers == 1 runs in this process; otherwise a 'spawn' pool (safe next to torch)."""
    bar = tqdm(total=total, unit="jet", desc="generating jets", disable=not progress, smoothing=0.05)
    try:
        if workers <= 1 or len(tasks) <= 1:
            return [_run_task(t, bar.update) for t in tasks]
        return _run_pool(tasks, min(workers, len(tasks)), bar)
    finally:
        bar.close()


def _run_task(task: ChunkTask, on_jets=None) -> JetChunk:
    recipe = get_recipe(task.recipe_name)
    chunk = generate_chunk(
        recipe, task.class_index, task.n_jets, task.pythia_seed, task.max_particles, on_jets, task.tau_axes,
        task.detector,
    )
    chunk.chunk_index = task.chunk_index
    return chunk


_progress_queue = None
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _init_worker(progress_queue, parent_pid: int) -> None:
    global _progress_queue
    _progress_queue = progress_queue
    _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker end when `parent_pid` does, however it ends (kill -9 included).

    Linux: the kernel sends SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG). Elsewhere, or if prctl
    fails: a daemon thread polling the parent pid. Either way, a parent already gone by now ends us at once.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="jetzoo-parent-watch").start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


def _run_task_in_worker(task: ChunkTask) -> JetChunk:
    return _run_task(task, _progress_queue.put)


def _run_pool(tasks: list[ChunkTask], workers: int, bar) -> list[JetChunk]:
    ctx = mp.get_context("spawn")
    progress_queue = ctx.Queue()
    with ctx.Pool(workers, initializer=_init_worker, initargs=(progress_queue, os.getpid())) as pool:
        pending = [pool.apply_async(_run_task_in_worker, (t,)) for t in tasks]
        while True:
            try:
                bar.update(progress_queue.get(timeout=0.2))
            except queue.Empty:
                pass
            failed = [r for r in pending if r.ready() and not r.successful()]
            if failed:
                failed[0].get()  # re-raises the worker's exception; the pool is terminated on exit
            if all(r.ready() for r in pending):
                break
        results = [r.get() for r in pending]
        while True:  # drain late progress messages so the bar ends at the total
            try:
                bar.update(progress_queue.get_nowait())
            except queue.Empty:
                break
    return results
