"""Sharded output of `jetzoo generate --out DIR/`, generated on a Dask cluster (local or `--scheduler`).

Plan: the chunks of `plan_chunks` (the same chunks, hence the same jets, as a single-file generation of
this recipe, seed and n), interleaved over the classes ((chunk 0, class 0), (chunk 0, class 1), ...,
(chunk 1, class 0), ...) and cut into shards of `shard_jets // chunk_jets` consecutive chunks. A shard's
rows are shuffled by a permutation drawn from SeedSequence(seed, spawn_key=(SHARD_SHUFFLE_KEY, shard)).
Every shard is therefore a pure function of (recipe, seed, n, chunk size, shard size, shard index): the
output does not depend on how many workers or machines made it, and a task run twice (a worker that died
and its task retried elsewhere) writes the same bytes.

Each shard file is in the hls4ml layout (writer.write_jet_file) plus `jetIdentity` (N, 2) int64 =
(class index, index of the jet within its class), the same identity the jet has in a single file of
the recipe and seed (jet_identity.py), and the attributes `dataset_n` (the n of the whole dataset),
`shard_index`, `chunk_jets`, `shard_jets`. A worker writes `part-N.h5.tmp-HOST-PID` into the output
directory and renames it into place, then returns only (name, sha256, counts). The driver records each
finished shard's sha256 in `manifest.json` (rewritten atomically); a run of the same command again
keeps the shards whose bytes match the manifest and generates only the others.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from jetzoo.errors import JetDataError

# Dask's own bookkeeping, turned down for long CPU-bound tasks (benchmarks/generation_scaling.md):
# the workers' statistical profiler (a thread sampling every stack every 10 ms) cost +14% CPU per jet
# against the local runner; the 20 ms event-loop tick and the 0.5 s system monitor keep an idle
# 2-worker cluster at 9% of a core. Workers started by `dask worker` read their own config (README).
QUIET_DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "jetzoo-shards-v1"
SHARD_SHUFFLE_KEY = (1 << 30) + 1
DEFAULT_SHARD_JETS = 10_000


def shard_name(index: int) -> str:
    return f"part-{index:05d}.h5"


def is_directory_output(out) -> bool:
    """`--out DIR/` (a trailing slash) or an existing directory means sharded output."""
    return out is not None and (str(out).endswith(("/", os.sep)) or Path(out).is_dir())


@dataclass(frozen=True)
class ShardSpec:
    """Everything one worker needs to write one shard (picklable, no state)."""

    index: int
    recipe_name: str
    seed: int
    dataset_n: int
    chunk_jets: int
    shard_jets: int
    tasks: tuple  # ChunkTask, in shard order

    @property
    def name(self) -> str:
        return shard_name(self.index)

    @property
    def chunk_ids(self) -> list[list[int]]:
        return [[t.class_index, t.chunk_index] for t in self.tasks]


def plan_shards(recipe, n, seed, max_particles, tau_axes, detector, chunk_jets, shard_jets) -> list[ShardSpec]:
    from jetzoo.generate.runner import plan_chunks

    if shard_jets % chunk_jets:
        raise ValueError(f"shard size {shard_jets} must be a multiple of the chunk size {chunk_jets}")
    tasks = plan_chunks(recipe, n, seed, max_particles, tau_axes, detector, chunk_jets)
    tasks.sort(key=lambda t: (t.chunk_index, t.class_index))
    per = shard_jets // chunk_jets
    return [
        ShardSpec(k, recipe.name, seed, n, chunk_jets, shard_jets, tuple(tasks[i : i + per]))
        for k, i in enumerate(range(0, len(tasks), per))
    ]


def make_shard(spec: ShardSpec, out_dir: str) -> dict:
    """Generate and write one shard (on a worker); returns its name, sha256 and counts. Idempotent."""
    from jetzoo.io.files import file_sha256
    from jetzoo.generate.recipes import get_recipe
    from jetzoo.generate.runner import _run_task
    from jetzoo.generate.writer import (
        GENERATOR_EVENT,
        generator_description,
        generator_events,
        remove_stale_temp_files,
        write_jet_file,
    )

    recipe = get_recipe(spec.recipe_name)
    chunks = [_run_task(t) for t in spec.tasks]
    identity = np.concatenate(
        [
            np.stack([np.full(len(c.labels), t.class_index), t.chunk_index * spec.chunk_jets + np.arange(len(c.labels))], 1)
            for t, c in zip(spec.tasks, chunks)
        ]
    ).astype(np.int64)
    order = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(SHARD_SHUFFLE_KEY, spec.index)))
    order = order.permutation(len(identity))
    join = lambda field: np.concatenate([getattr(c, field) for c in chunks])[order]  # noqa: E731
    first = spec.tasks[0]
    out = Path(out_dir) / spec.name
    remove_stale_temp_files(out)
    tmp = out.with_name(f"{out.name}.tmp-{socket.gethostname()}-{os.getpid()}")
    try:
        write_jet_file(
            tmp, join("hl"), join("labels"), join("particles"), join("p4"), recipe.class_names,
            datasets={"jetIdentity": identity[order], GENERATOR_EVENT: generator_events(chunks)[order]},
            **recipe.provenance(first.tau_axes, first.detector),
            seed=spec.seed,
            jet_radius=recipe.jet_radius,
            generator=generator_description(),
            max_particles=first.max_particles,
            recipe_json=json.dumps(asdict(recipe)),
            dataset_n=spec.dataset_n,
            shard_index=spec.index,
            chunk_jets=spec.chunk_jets,
            shard_jets=spec.shard_jets,
            chunks=json.dumps(spec.chunk_ids),
        )
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    counts = np.bincount(identity[:, 0], minlength=len(recipe.class_names))
    return {"name": spec.name, "sha256": file_sha256(out), "n": int(len(identity)), "class_counts": counts.tolist()}


# --- the manifest ------------------------------------------------------------------------------------
def manifest_plan(recipe, specs, n, seed, max_particles, tau_axes, detector) -> dict:
    from jetzoo.generate.writer import generator_description

    return {
        "format": MANIFEST_FORMAT,
        "recipe": recipe.name,
        "recipe_version": recipe.version,
        "seed": seed,
        "n": n,
        "class_names": recipe.class_names,
        "max_particles": max_particles,
        "tau_axes": tau_axes,
        "detector": detector,
        "generator": generator_description(),
        "chunk_jets": specs[0].chunk_jets,
        "shard_jets": specs[0].shard_jets,
        "shards": [
            {
                "name": s.name,
                "chunks": s.chunk_ids,
                "n": sum(t.n_jets for t in s.tasks),
                "class_counts": [sum(t.n_jets for t in s.tasks if t.class_index == c) for c in range(len(recipe.sources))],
                "sha256": None,
            }
            for s in specs
        ],
    }


def _without_checksums(manifest: dict) -> dict:
    return {**manifest, "shards": [{k: v for k, v in s.items() if k != "sha256"} for s in manifest["shards"]]}


def write_manifest(out_dir: Path, manifest: dict) -> None:
    path = out_dir / MANIFEST
    tmp = path.with_name(f"{MANIFEST}.tmp-{socket.gethostname()}-{os.getpid()}")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, path)


def read_manifest(out_dir: Path) -> dict | None:
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise JetDataError(f"{path}: unreadable manifest ({err})") from err


def shard_problem(out_dir: Path, entry: dict) -> str | None:
    """None when the shard is present and its bytes match the manifest's sha256, else what is wrong."""
    from jetzoo.io.files import file_sha256

    path = out_dir / entry["name"]
    if not path.exists():
        return "missing"
    if not entry.get("sha256"):
        return "no checksum recorded (its generation did not finish)"
    if file_sha256(path) != entry["sha256"]:
        return "fails its sha256 checksum (truncated or changed)"
    return None


# --- the driver --------------------------------------------------------------------------------------
def generate_shards(
    recipe, n, seed, out_dir, workers, max_particles, overwrite, progress, tau_axes, detector,
    chunk_jets=None, shard_jets=None, scheduler=None, announce=True,
) -> Path:
    from jetzoo.generate.runner import say

    out_dir = Path(out_dir)
    chunk_jets = chunk_jets or recipe.chunk_jets
    shard_jets = shard_jets or max(chunk_jets, DEFAULT_SHARD_JETS // chunk_jets * chunk_jets)
    specs = plan_shards(recipe, n, seed, max_particles, tau_axes, detector, chunk_jets, shard_jets)
    manifest = manifest_plan(recipe, specs, n, seed, max_particles, tau_axes, detector)
    out_dir.mkdir(parents=True, exist_ok=True)
    old = None if overwrite else read_manifest(out_dir)
    if old is None and not overwrite and any(out_dir.glob("part-*.h5")):
        raise JetDataError(f"{out_dir}: holds shards but no {MANIFEST}; pass --overwrite to replace them")
    if old is not None:
        if _without_checksums(old) != _without_checksums(manifest):
            differs = sorted(k for k in manifest if old.get(k) != manifest[k])
            raise JetDataError(
                f"{out_dir}: its {MANIFEST} is of another generation (differs in {', '.join(differs)}); "
                "pass --overwrite to replace it"
            )
        manifest = old
    todo = []
    for spec, entry in zip(specs, manifest["shards"]):
        problem = None if overwrite else shard_problem(out_dir, entry)
        if overwrite or problem is not None:
            if problem not in (None, "missing") and old is not None:
                say(f"{out_dir / entry['name']}: {problem}; generating it again")
            entry["sha256"] = None
            todo.append(spec)
    write_manifest(out_dir, manifest)
    if not todo:
        if announce:
            say(f"{out_dir}: all {len(specs)} shards present and verified; nothing to generate")
        return out_dir
    if announce:
        where = f"the Dask scheduler {scheduler}" if scheduler else f"a local Dask cluster of {workers} workers"
        say(
            f"generating {sum(s['n'] for s in manifest['shards'] if s['sha256'] is None)} {recipe.name} jets "
            f"(recipe v{recipe.version}, seed {seed}) as {len(todo)} of {len(specs)} shards of {shard_jets} jets "
            f"into {out_dir}/ on {where}"
        )
    entries = {e["name"]: e for e in manifest["shards"]}
    for result in run_on_dask(todo, out_dir, scheduler, workers, progress):
        entry = entries[result["name"]]
        if result["n"] != entry["n"] or result["class_counts"] != entry["class_counts"]:
            raise JetDataError(f"{out_dir / result['name']}: a worker wrote {result['n']} jets, the plan says {entry['n']}")
        entry["sha256"] = result["sha256"]
        write_manifest(out_dir, manifest)
    return out_dir


def run_on_dask(specs, out_dir: Path, scheduler: str | None, workers: int, progress: bool):
    """Yield each shard's result as it completes, from `scheduler` or a local cluster of `workers` processes."""
    import logging

    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    import dask

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        with dask.config.set(QUIET_DASK_CONFIG):
            cluster = LocalCluster(
                n_workers=max(1, min(workers, len(specs))), threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR, memory_limit=0,
            )
        client = Client(cluster)
    run = uuid.uuid4().hex[:8]
    bar = tqdm(total=sum(t.n_jets for s in specs for t in s.tasks), unit="jet", desc="generating shards",
               disable=not progress)
    try:
        futures = [client.submit(make_shard, s, str(out_dir), key=f"jetzoo-{s.name}-{run}", retries=1) for s in specs]
        for future in as_completed(futures):
            result = future.result()
            bar.update(result["n"])
            yield result
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
