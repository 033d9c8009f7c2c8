"""`generate`: make a labelled jet file from a recipe; `ensure_generated`: the same, cached on disk."""

from __future__ import annotations

import os
from pathlib import Path

from jetzoo.generate.recipes import get_recipe

DEFAULT_MAX_PARTICLES = 100


def cache_dir() -> Path:
    """`$JETZOO_CACHE` if set, else `~/.cache/jetzoo`."""
    return Path(os.environ.get("JETZOO_CACHE") or Path.home() / ".cache" / "jetzoo")


def default_dataset_path(recipe: str, n: int, seed: int = 0, max_particles: int = DEFAULT_MAX_PARTICLES) -> Path:
    """`<cache_dir>/<recipe>-v<version>-seed<seed>-n<n>.h5` (`-p<P>` added when P is not the default)."""
    r = get_recipe(recipe)
    suffix = "" if max_particles == DEFAULT_MAX_PARTICLES else f"-p{max_particles}"
    return cache_dir() / f"{r.name}-v{r.version}-seed{seed}-n{n}{suffix}.h5"


def generate(
    recipe: str,
    n: int,
    seed: int = 0,
    out: str | Path | None = None,
    workers: int | None = None,
    max_particles: int = DEFAULT_MAX_PARTICLES,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Generate `n` jets (n / K per class) of `recipe` with Pythia 8 + FastJet and write them to `out`.

    The arrays depend only on (recipe, seed, n, max_particles), never on `workers` (default: all cores).
    `out` defaults to `default_dataset_path(...)`. An existing `out` raises JetDataError unless `overwrite`.
    """
    from jetzoo.generate.runner import default_workers, plan_chunks, run_chunks, shuffle_permutation
    from jetzoo.generate.writer import refuse_existing, write_jets

    r = get_recipe(recipe)
    if n < 1:
        raise ValueError(f"n must be a positive number of jets, got {n}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if max_particles < 1:
        raise ValueError(f"max_particles must be >= 1, got {max_particles}")
    path = Path(out) if out is not None else default_dataset_path(recipe, n, seed, max_particles)
    refuse_existing(path, overwrite)  # fail before spending time on generation
    tasks = plan_chunks(r, n, seed, max_particles)
    chunks = run_chunks(tasks, workers or default_workers(), progress, total=n)
    return write_jets(path, chunks, shuffle_permutation(n, seed), r, seed, n, overwrite)


def ensure_generated(
    recipe: str,
    n: int,
    seed: int = 0,
    max_particles: int = DEFAULT_MAX_PARTICLES,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """The cached file for (recipe, n, seed), generated on first use. Files are only ever complete (atomic write).

    Two processes racing to create the same file both generate it; the content is identical, so the
    later atomic rename (overwrite=True) replaces a file with an equal one.
    """
    path = default_dataset_path(recipe, n, seed, max_particles)
    if path.exists():
        return path
    return generate(
        recipe, n, seed, path, workers=workers, max_particles=max_particles, overwrite=True, progress=progress
    )
