"""Write generated jets as one HDF5 file in the layout of docs/DESIGN.md section 3, atomically.

The file is written to `<out>.tmp-<host>-<pid>` in the same directory and renamed over `out` only when
complete; on any error or Ctrl-C the temporary file is removed, so a file at `out` is always whole. A
writer killed outright (kill -9, power loss) leaves its temporary file; the next write of the same `out`
removes the temporary files of this host whose process is gone (other hosts may share the filesystem:
their files are left alone).
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import socket
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np

import jetzoo
from jetzoo.errors import JetDataError
from jetzoo.generate.chunk import JetChunk
from jetzoo.generate.recipes import Recipe
from jetzoo.io.files import process_is_alive
from jetzoo.physics.features import HL_FEATURE_NAMES, HLS4ML_PARTICLE_FEATURE_NAMES

COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


def refuse_existing(out: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise JetDataError(f"{out}: exists; pass --overwrite to replace it")


def temp_path(out: Path) -> Path:
    return out.with_name(f"{out.name}.tmp-{socket.gethostname()}-{os.getpid()}")


def remove_stale_temp_files(out: Path) -> list[Path]:
    """Remove `<out>.tmp-<this host>-<pid>` files whose process is dead; returns what was removed."""
    prefix = f"{out.name}.tmp-{socket.gethostname()}-"
    removed = []
    for tmp in out.parent.glob(f"{glob.escape(prefix)}*"):
        pid = tmp.name[len(prefix) :]
        if pid.isdigit() and int(pid) != os.getpid() and not process_is_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def copy_atomically(src: Path, out: Path, overwrite: bool) -> Path:
    """Copy `src` to `out` through a temporary file + rename (as `write_jets`)."""
    refuse_existing(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out)
    tmp = temp_path(out)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def unreadable_reason(path: Path) -> str | None:
    """None if `path` reads as a whole generated file, else what is wrong (a truncated file, a missing dataset)."""
    try:
        with h5py.File(path, "r") as f:
            n = int(f.attrs["n"])
            jets = f["jets"][:]
            if len(jets) != n:
                return f"{len(jets)} jets where its attributes say {n}"
            for key in ("jetConstituentList", "jetConstituentP4"):
                if len(f[key]) != n:
                    return f"{key} has {len(f[key])} rows, not {n}"
                if n:
                    f[key][n - 1]  # the last chunk: what a truncated file lacks first
    except Exception as err:  # noqa: BLE001 - any failure to read is the answer
        lines = str(err).strip().splitlines()
        return f"{type(err).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return None


def jet_column_names(class_names: list[str]) -> list[str]:
    # labels directly before j_index, so jets[:, -6:-1] are g, q, W, Z, t as in the public hls4ml files
    return [*HL_FEATURE_NAMES, "j_undef", *(f"j_{c.lower()}" for c in class_names), "j_index"]


def generator_description() -> str:
    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "unknown"

    return f"Pythia 8 (pythia8mc {version('pythia8mc')}) + FastJet (fastjet {version('fastjet')})"


def write_jets(
    out: Path,
    chunks: list[JetChunk],
    order: np.ndarray,
    recipe: Recipe,
    seed: int,
    n: int,
    overwrite: bool,
    tau_axes: str | None = None,
    detector: str = "none",
    chunk_jets: int | None = None,
) -> Path:
    """Concatenate `chunks`, reorder rows by `order`, and write them atomically to `out`.

    `tau_axes` and `detector` are written as provenance attributes (`recipe_json` keeps the recipe's defaults).
    """
    refuse_existing(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out)
    tmp = temp_path(out)
    try:
        _write(tmp, chunks, order, recipe, seed, n, tau_axes or recipe.tau_axes, detector, chunk_jets)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def write_jet_file(path, hl, labels, particles, p4, class_names: list[str], datasets=None, **attrs) -> None:
    """One file in the hls4ml-superset layout of docs/DESIGN.md §3 (callers rename it into place).

    `datasets`: further datasets by name (a shard's `jetIdentity`), written uncompressed.
    """
    onehot = np.eye(len(class_names), dtype=np.float32)[labels]
    undef, index = np.zeros((len(labels), 1)), np.arange(len(labels))[:, None]
    jets = np.concatenate([hl, undef, onehot, index], axis=1).astype(np.float32)  # order of jet_column_names
    with h5py.File(path, "w") as f:
        put = functools.partial(write_dataset, f)
        put("jets", jets)
        put("jetFeatureNames", np.array([s.encode() for s in jet_column_names(class_names)]))
        put("jetConstituentList", particles, chunks=True, **COMPRESSION)
        put("particleFeatureNames", np.array([s.encode() for s in HLS4ML_PARTICLE_FEATURE_NAMES]))
        put("jetConstituentP4", p4, chunks=True, **COMPRESSION)
        for name, values in (datasets or {}).items():
            put(name, values)
        f.attrs.update(jetzoo_version=jetzoo.__version__, class_names=list(class_names), n=len(labels), **attrs)


def write_dataset(f: h5py.File, name: str, data: np.ndarray, **options) -> None:
    """Create and write one dataset, its chunks flushed to the file at once.

    Reproducible bytes: HDF5 places a chunked dataset's data when its chunk cache is flushed, which
    is when the last reference to the dataset goes, unless it is flushed explicitly. In a Dask
    worker that moment varied (a reference lived on until the file closed), and the same jets came
    out in a different layout (same data, other bytes, another sha256), about one run in five.
    """
    f.create_dataset(name, data=data, **options).flush()


def _write(
    path: Path,
    chunks: list[JetChunk],
    order: np.ndarray,
    recipe: Recipe,
    seed: int,
    n: int,
    tau_axes: str,
    detector: str = "none",
    chunk_jets: int | None = None,
) -> None:
    join = lambda field: np.concatenate([getattr(c, field) for c in chunks])[order]  # noqa: E731
    write_jet_file(
        path, join("hl"), join("labels"), join("particles"), join("p4"), recipe.class_names,
        datasets={GENERATOR_EVENT: generator_events(chunks)[order]},
        **recipe.provenance(tau_axes, detector),
        seed=seed,
        jet_radius=recipe.jet_radius,
        generator=generator_description(),
        max_particles=chunks[0].p4.shape[1] if chunks else 0,
        recipe_json=json.dumps(asdict(recipe)),
        **chunk_attrs(recipe, chunk_jets),
    )


GENERATOR_EVENT = "generatorEvent"  # (N, 3) int64: chunk of the jet's class, event in that chunk's run, rank in the event


def generator_events(chunks: list[JetChunk]) -> np.ndarray:
    """Each jet's generated event, in chunk order (DESIGN.md §3): (chunk index within its class, event number in
    that chunk's Pythia run, rank among the event's selected jets). With the class and the recipe and seed it
    names the physical event, whatever detector the jet passed through."""
    return np.concatenate([np.column_stack([np.full(len(c.labels), c.chunk_index), c.events]) for c in chunks]
                          ).astype(np.int64) if chunks else np.zeros((0, 3), np.int64)


def chunk_attrs(recipe: Recipe, chunk_jets: int | None) -> dict:
    """`chunk_jets` as a file attribute, only when it is not the recipe's (files of the default stay as they were)."""
    return {} if chunk_jets in (None, recipe.chunk_jets) else {"chunk_jets": int(chunk_jets)}
