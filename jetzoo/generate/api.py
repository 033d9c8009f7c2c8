"""`generate`: make a labelled jet file from a recipe; `ensure_generated`: the same, cached on disk.

The cache holds one file per (recipe, recipe version, seed, n, max_particles, tau axes, detector), named
by `default_dataset_path`. `generate(out=...)` copies the cached file when it exists and reads whole,
instead of regenerating the same bytes; `ensure_generated` reuses only that cached file, and regenerates
it (saying so on stderr) when it does not read.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from jetzoo.generate.recipes import DETECTOR_CHOICES, get_recipe
from jetzoo.generate.runner import say

DEFAULT_MAX_PARTICLES = 100
STARTUP_SECONDS = 8.0  # worker start-up (imports) and Pythia init, added to the estimate


def cache_dir() -> Path:
    """`$JETZOO_CACHE` if set, else `~/.cache/jetzoo`."""
    return Path(os.environ.get("JETZOO_CACHE") or Path.home() / ".cache" / "jetzoo")


def _tau_axes(recipe: str, tau_axes: str | None) -> str:
    from jetzoo.physics.features import check_tau_axes

    return check_tau_axes(tau_axes or get_recipe(recipe).tau_axes)


def _detector(detector: str | None) -> str:
    detector = detector or "none"
    if detector not in DETECTOR_CHOICES:
        raise ValueError(f"unknown detector {detector!r}; choose one of {', '.join(DETECTOR_CHOICES)}")
    return detector


def default_dataset_path(
    recipe: str,
    n: int,
    seed: int = 0,
    max_particles: int = DEFAULT_MAX_PARTICLES,
    tau_axes: str | None = None,
    detector: str = "none",
) -> Path:
    """`<cache_dir>/<recipe>-v<version>-seed<seed>-n<n>.h5`.

    `-p<P>` is added when P is not the default, `-tau-<axes>` when the tau axes are not the recipe's,
    `-det-<detector>` when there is a detector (not "none").
    """
    r = get_recipe(recipe)
    suffix = "" if max_particles == DEFAULT_MAX_PARTICLES else f"-p{max_particles}"
    axes = _tau_axes(recipe, tau_axes)
    if axes != r.tau_axes:
        suffix += f"-tau-{axes}"
    if _detector(detector) != "none":
        suffix += f"-det-{detector}"
    return cache_dir() / f"{r.name}-v{r.version}-seed{seed}-n{n}{suffix}.h5"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(5, 5 * round(seconds / 5)):.0f} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60):.0f} min"
    return f"{seconds / 3600:.1f} h"


def announcement(
    recipe: str, n: int, seed: int, path: Path, workers: int, n_chunks: int, tau_axes: str, detector: str = "none"
) -> str:
    """What is generated, where, and how long it should take (from the recipe's measured jets/s/core)."""
    r = get_recipe(recipe)
    cores = max(1, min(workers, n_chunks, os.cpu_count() or 1))
    seconds = STARTUP_SECONDS + n / (r.jets_per_core_second * cores)
    chain = "Pythia 8 + FastJet" if detector == "none" else f"Pythia 8 + {detector} detector (Delphes card) + FastJet"
    return (
        f"generating {n} {r.name} jets ({'/'.join(r.class_names)}; recipe v{r.version}, seed {seed}, "
        f"tau axes {tau_axes}, detector {detector}) with {chain} into {path}; expected ~{_duration(seconds)} "
        f"on {cores} core{'s' if cores > 1 else ''} (~{r.jets_per_core_second:g} jets/s per core)"
    )


def generate(
    recipe: str,
    n: int,
    seed: int = 0,
    out: str | Path | None = None,
    workers: int | None = None,
    max_particles: int = DEFAULT_MAX_PARTICLES,
    overwrite: bool = False,
    progress: bool = True,
    tau_axes: str | None = None,
    announce: bool = True,
    reuse_cache: bool = True,
    detector: str = "none",
    chunk_jets: int | None = None,
    shard_jets: int | None = None,
    scheduler: str | None = None,
) -> Path:
    """Generate `n` jets (n / K per class) of `recipe` with Pythia 8 + FastJet and write them to `out`.

    The arrays depend only on (recipe, seed, n, max_particles, tau_axes, detector), never on `workers`
    (default: all cores). `out` defaults to `default_dataset_path(...)`. An existing `out` raises JetDataError unless
    `overwrite`. When the cache already holds this very file (`default_dataset_path`, reading whole) it
    is copied to `out` (atomically) instead of regenerated, unless `reuse_cache=False`.
    `tau_axes` (None: the recipe's) picks the N-subjettiness axes; `announce` prints one line on stderr
    saying what is generated, where, and the expected time. `detector` ("none", "atlas-like", "cms-like")
    clusters Delphes-like energy-flow objects instead of the generator-level particles (detector.py).

    An `out` ending in "/" or naming an existing directory gets shards of `shard_jets` jets and a
    manifest.json (shards.py), generated on the Dask `scheduler` ("tcp://HOST:PORT") or a local Dask
    cluster of `workers` processes; run again, it generates only the shards missing or failing their
    checksum. `chunk_jets` (None: the recipe's) changes the jets made, and is recorded in the files.
    """
    from jetzoo.generate.runner import default_workers, plan_chunks, run_chunks, shuffle_permutation
    from jetzoo.generate.writer import copy_atomically, refuse_existing, remove_stale_temp_files, unreadable_reason
    from jetzoo.generate.writer import write_jets

    r = get_recipe(recipe)
    if n < 1:
        raise ValueError(f"n must be a positive number of jets, got {n}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if max_particles < 1:
        raise ValueError(f"max_particles must be >= 1, got {max_particles}")
    axes = _tau_axes(recipe, tau_axes)
    detector = _detector(detector)
    if chunk_jets is not None and chunk_jets < 1:
        raise ValueError(f"chunk_jets must be >= 1, got {chunk_jets}")
    from jetzoo.generate.shards import generate_shards, is_directory_output

    if is_directory_output(out) or scheduler is not None or shard_jets is not None:
        if not is_directory_output(out):
            raise ValueError("--scheduler and --shard-jets need a directory output: --out DIR/")
        return generate_shards(
            r, n, seed, out, workers or default_workers(), max_particles, overwrite, progress, axes, detector,
            chunk_jets, shard_jets, scheduler, announce,
        )
    if chunk_jets not in (None, r.chunk_jets):
        reuse_cache = False  # the cache holds files of the recipe's chunk size only
    cached = default_dataset_path(recipe, n, seed, max_particles, axes, detector)
    path = Path(out) if out is not None else cached
    refuse_existing(path, overwrite)  # fail before spending time on generation
    if reuse_cache and path.resolve() != cached.resolve() and cached.exists() and unreadable_reason(cached) is None:
        if announce:
            say(
                f"copying the cached {cached} (same recipe v{r.version}, seed, n, detector) to {path} "
                "instead of regenerating it"
            )
        return copy_atomically(cached, path, overwrite)
    if path.parent.is_dir():
        remove_stale_temp_files(path)
    tasks = plan_chunks(r, n, seed, max_particles, axes, detector, chunk_jets)
    n_workers = workers or default_workers()
    if announce:
        say(announcement(recipe, n, seed, path, n_workers, len(tasks), axes, detector))
    chunks = run_chunks(tasks, n_workers, progress, total=n)
    return write_jets(path, chunks, shuffle_permutation(n, seed), r, seed, n, overwrite, axes, detector, chunk_jets)


def ensure_generated(
    recipe: str,
    n: int,
    seed: int = 0,
    max_particles: int = DEFAULT_MAX_PARTICLES,
    workers: int | None = None,
    progress: bool = True,
    tau_axes: str | None = None,
    detector: str = "none",
) -> Path:
    """The cached file for (recipe, n, seed, detector), generated on first use; files are only ever whole.

    A cached file that does not read whole (truncated, damaged) is regenerated, after one line on stderr.
    Only this exact file is reused: a copy written elsewhere with `generate(out=...)` is not looked for.
    Processes wanting the same file at once (parallel test workers, several jobs on one machine) take
    turns on a lock beside it (`<file>.lock`, POSIX only): one generates, the others then reuse its file.
    """
    from jetzoo.generate.writer import unreadable_reason

    path = default_dataset_path(recipe, n, seed, max_particles, tau_axes, detector)
    with cache_file_lock(path):
        if path.exists():
            problem = unreadable_reason(path)
            if problem is None:
                return path
            say(f"cached file {path} does not read ({problem}); regenerating it")
        return generate(
            recipe,
            n,
            seed,
            path,
            workers=workers,
            max_particles=max_particles,
            overwrite=True,
            progress=progress,
            tau_axes=tau_axes,
            detector=detector,
        )


@contextlib.contextmanager
def cache_file_lock(path: Path):
    """An exclusive advisory lock (fcntl.flock) on `<path>.lock` while held; no lock where fcntl is missing.
    The kernel releases it when its holder dies, so a killed generation never blocks the next one."""
    try:
        import fcntl
    except ImportError:  # Windows: the atomic rename still keeps the cached file whole
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
