"""Generation on Dask against the local runner: CPU-seconds per jet, and wall-clock scaling 1 -> 2 workers.

Issue 8's targets: Dask adds at most 5% CPU-seconds per jet over the local runner (the 'spawn' process
pool of a single-file `jetzoo generate`), on at least 20 chunks; with 2 workers / 1 worker, wall-clock
jets/s is at least 1.8 on an idle machine (load average below 2.5, reported beside each run).

Every configuration is one real `jetzoo generate` process, the same chunks each time (same recipe,
n, seed and --chunk-jets). Its CPU time is that of the whole process tree: `os.wait4` returns the
rusage of the command and of every descendant it waited for (pool workers, Dask nannies and the
workers they reaped). Pythia's own rate comes from one chunk timed in this process, with Pythia's
`nextBatch` timed apart (generator_rate.py's proxy), so the per-worker start-up can be quoted in
jets Pythia would have made meanwhile.

    python benchmarks/generation_scaling.py --recipe top-landscape --n 4000 --chunk-jets 100 \
        --out benchmarks/generation_scaling.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generator_rate import TimedPythia  # noqa: E402

import jetzoo.generate.chunk as chunk_module  # noqa: E402
from jetzoo.generate.recipes import get_recipe  # noqa: E402
from jetzoo.generate.runner import plan_chunks  # noqa: E402

JETZOO = Path(sys.executable).with_name("jetzoo")


def timed_command(args: list[str]) -> dict:
    """Wall seconds and CPU seconds (user + system, the whole process tree) of one command."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{shlex.join(args)} failed: {process.stderr.read().decode()[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "load": load}


def pythia_rate(recipe_name: str, jets: int, seed: int) -> dict:
    """One chunk per class in this process: jets per CPU-second of Pythia's nextBatch alone, and of all of it."""
    recipe = get_recipe(recipe_name)
    clock = {"init": 0.0, "pythia": 0.0}
    real = chunk_module.make_pythia
    chunk_module.make_pythia = lambda settings, s: TimedPythia(settings, s, clock)
    try:
        start = time.process_time()
        for c in range(len(recipe.sources)):
            chunk_module.generate_chunk(recipe, c, jets, seed + c, 150)
        total = time.process_time() - start
    finally:
        chunk_module.make_pythia = real
    n = jets * len(recipe.sources)
    return {"pythia_jets_per_s": n / clock["pythia"], "jetzoo_jets_per_s": n / total, "init_s": clock["init"] / len(recipe.sources)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="top-landscape")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--chunk-jets", type=int, default=100)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    chunks = len(plan_chunks(get_recipe(args.recipe), args.n, args.seed, 150, chunk_jets=args.chunk_jets))
    common = ["generate", "--recipe", args.recipe, "--n", str(args.n), "--seed", str(args.seed),
              "--chunk-jets", str(args.chunk_jets), "--no-progress"]
    work = Path(tempfile.mkdtemp(prefix="jetzoo-scaling-"))
    runs = {}
    try:
        # interleaved, so that a change of load hits both runners alike
        plan = [("local", 1), ("dask", 1), ("local", 2), ("dask", 2)]
        for runner, workers in plan:
            out = work / f"{runner}-{workers}"
            target = f"{out}/" if runner == "dask" else f"{out}.h5"
            extra = ["--shard-jets", str(args.chunk_jets)] if runner == "dask" else []
            command = [str(JETZOO), *common, "--workers", str(workers), *extra, "--out", target]
            runs[runner, workers] = timed_command(command) | {"command": shlex.join(["jetzoo", *command[1:]])}
            print(runner, workers, runs[runner, workers], flush=True)
            shutil.rmtree(out, ignore_errors=True)
            Path(f"{out}.h5").unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = pythia_rate(args.recipe, args.chunk_jets, args.seed)
    print(rate, flush=True)

    n = args.n
    lines = [
        "# Generation scaling: Dask against the local runner",
        "",
        f"Command: `python benchmarks/generation_scaling.py --recipe {args.recipe} --n {n} --chunk-jets "
        f"{args.chunk_jets} --out {args.out}`",
        "",
        f"{n} {args.recipe} jets in {chunks} chunks of {args.chunk_jets} (Dask: one chunk per shard, "
        f"`--shard-jets {args.chunk_jets}`). CPU = user + system seconds of the whole process tree (`os.wait4`). "
        "Load = 1-minute load average just before the run.",
        "",
        "| runner | workers | wall s | CPU s | CPU ms / jet | wall jets/s | load before |",
        "|---|---|---|---|---|---|---|",
    ]
    for (runner, workers), r in runs.items():
        name = "local (single file, spawn pool)" if runner == "local" else "Dask (shards, LocalCluster)"
        lines.append(f"| {name} | {workers} | {r['wall']:.1f} | {r['cpu']:.1f} | {1000 * r['cpu'] / n:.2f} | "
                     f"{n / r['wall']:.1f} | {r['load']:.2f} |")
    overhead = {w: runs["dask", w]["cpu"] / runs["local", w]["cpu"] - 1 for w in (1, 2)}
    scaling = {r: runs[r, 1]["wall"] / runs[r, 2]["wall"] for r in ("local", "dask")}
    startup = runs["dask", 1]["cpu"] - runs["local", 1]["cpu"]  # the same work in one worker process
    slowdown = (runs["local", 2]["cpu"] / runs["local", 1]["cpu"]) - 1
    lines += [
        "",
        f"- **Dask CPU overhead over the local runner**: {100 * overhead[1]:+.1f}% with 1 worker, "
        f"{100 * overhead[2]:+.1f}% with 2 (target: at most +5%).",
        f"- **2 workers / 1 worker, wall-clock jets/s**: Dask {scaling['dask']:.2f}x, local runner "
        f"{scaling['local']:.2f}x (target: at least 1.8 on an idle machine; load averages in the table).",
        f"- **Why not 2.0x**: with both cores busy, each jet costs {100 * slowdown:.0f}% more CPU in the local "
        "runner as well (the two cores share caches and clock), which alone caps 2 workers at "
        f"{2 / (1 + slowdown):.2f}x; Dask loses no more than the local runner does.",
        f"- **Per-worker overhead**: one Dask worker doing the local runner's work costs {startup:.1f} CPU-s more "
        f"(scheduler, nanny and worker processes, their imports, task and heartbeat traffic), the time Pythia "
        f"alone would take to make {startup * rate['pythia_jets_per_s']:.0f} jets ({rate['pythia_jets_per_s']:.1f} jets per CPU-s of "
        f"Pythia's nextBatch; with FastJet, features and Pythia's init of {rate['init_s']:.2f} s per chunk, "
        f"{rate['jetzoo_jets_per_s']:.1f} jets per CPU-s, one chunk per class of {args.chunk_jets} jets timed "
        "in-process).",
        "",
        "Commands run:",
        "",
        *[f"- `{r['command']}`" for r in runs.values()],
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
