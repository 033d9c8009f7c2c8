"""Generator throughput: jets/s per core for each recipe, against Pythia's own event rate x acceptance.

For every class of a recipe, one chunk of `--jets-per-class` jets is generated in this process
(`jetzoo.generate.chunk.generate_chunk`: Pythia nextBatch + FastJet + truth matching + features).
CPU time (time.process_time) is used so that other load on a shared machine distorts little, and
Pythia's share is timed inside the same run (a proxy around the Pythia object), so both sides see
the same events:

    Pythia-only mark = acceptance (jets per event) / Pythia CPU seconds per event
    overhead         = (chunk CPU - Pythia init - Pythia nextBatch CPU) / Pythia nextBatch CPU

The overhead is split into CPU inside FastJet's compiled extension (anti-kT on whole events, C/A
reclustering, N-subjettiness, energy correlators) and everything else (Python, awkward, numpy glue).

`--ref-events` plain `pythia.next()` calls on the same settings give the cost of nextBatch's
conversion to awkward arrays (nextBatch vs next per event). Then `jetzoo.generate.generate` runs with
1 and with 2 workers (wall clock) to show the scaling.

    python benchmarks/generator_rate.py --jets-per-class 300 --ref-events 200
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import tempfile
import time
from pathlib import Path

import jetzoo.generate.chunk as chunk_module
from jetzoo.generate import RECIPES, generate
from jetzoo.generate.chunk import generate_chunk, make_pythia

SEED = 20240


class TimedPythia:
    """Pythia stand-in that adds the CPU time of init and nextBatch to `clock`."""

    def __init__(self, settings: list[str], seed: int, clock: dict):
        t0 = time.process_time()
        self._pythia = make_pythia(settings, seed)
        clock["init"] += time.process_time() - t0
        self._clock = clock

    def __getattr__(self, name: str):  # everything else (particleData, ...) is Pythia's own
        return getattr(self._pythia, name)

    def nextBatch(self, n_events: int):  # noqa: N802 (Pythia's name)
        t0 = time.process_time()
        events = self._pythia.nextBatch(n_events)
        self._clock["pythia"] += time.process_time() - t0
        return events


@contextlib.contextmanager
def fastjet_cpu_clock(clock: dict):
    """Add the CPU time spent inside FastJet's compiled extension (clustering, substructure) to clock["fastjet"]."""
    import fastjet._ext as ext

    def timed(function):
        def wrapper(*args, **kwargs):
            t0 = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                clock["fastjet"] += time.process_time() - t0

        return wrapper

    names = [name for name in dir(ext.output_wrapper) if name.startswith("to_numpy")]
    methods = {name: getattr(ext.output_wrapper, name) for name in names}
    original_multi = ext.interfacemulti
    ext.interfacemulti = timed(original_multi)
    for name, method in methods.items():
        setattr(ext.output_wrapper, name, timed(method))
    try:
        yield
    finally:
        ext.interfacemulti = original_multi
        for name, method in methods.items():
            setattr(ext.output_wrapper, name, method)


def next_vs_batch(settings: list[str], n_events: int) -> float:
    """CPU per event of nextBatch relative to plain next() on the same settings (1.0 = no cost)."""
    pythia = make_pythia(settings, SEED)
    t0 = time.process_time()
    for _ in range(n_events):
        pythia.next()
    t1 = time.process_time()
    pythia.nextBatch(n_events)
    return (time.process_time() - t1) / (t1 - t0)


def measure_recipe(name: str, jets_per_class: int, ref_events: int) -> dict:
    recipe = RECIPES[name]
    total = {"jets": 0, "events": 0, "cpu": 0.0, "pythia": 0.0, "init": 0.0, "fastjet": 0.0}
    per_class = []
    real_make_pythia = chunk_module.make_pythia
    for c, class_name in enumerate(recipe.class_names):
        clock = {"init": 0.0, "pythia": 0.0, "fastjet": 0.0}
        chunk_module.make_pythia = lambda settings, seed: TimedPythia(settings, seed, clock)  # noqa: B023
        try:
            with fastjet_cpu_clock(clock):
                t0 = time.process_time()
                chunk = generate_chunk(recipe, c, jets_per_class, SEED + c, max_particles=100)
                cpu = time.process_time() - t0
        finally:
            chunk_module.make_pythia = real_make_pythia
        ratio = next_vs_batch(recipe.pythia_settings(c), ref_events)
        work, pythia = cpu - clock["init"], clock["pythia"]
        per_class.append(
            f"| {name} | {class_name} | {pythia / chunk.n_events * 1e3:.2f} | {ratio:.2f} | "
            f"{jets_per_class / chunk.n_events:.2f} | {jets_per_class / pythia:.1f} | {jets_per_class / work:.1f} | "
            f"{(work - pythia) / pythia * 100:+.0f}% |"
        )
        for key, value in (
            ("jets", jets_per_class), ("events", chunk.n_events), ("cpu", cpu), ("pythia", pythia),
            ("init", clock["init"]), ("fastjet", clock["fastjet"]),
        ):  # fmt: skip
            total[key] += value
    work, pythia, fj = total["cpu"] - total["init"], total["pythia"], total["fastjet"]
    summary = (
        f"| {name} | {total['jets'] / pythia:.1f} | {total['jets'] / work:.1f} | "
        f"{total['jets'] / total['cpu']:.1f} | {(work - pythia) / pythia * 100:+.0f}% | "
        f"{fj / pythia * 100:.0f}% | {(work - pythia - fj) / pythia * 100:.0f}% |"
    )
    return {"per_class": per_class, "summary": summary}


def measure_scaling(name: str, n: int) -> list[str]:
    """Wall clock and CPU (this process + finished worker processes) of `generate` with 1 and 2 workers."""

    def cpu_seconds() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        for workers in (1, 2):
            t0, c0 = time.perf_counter(), cpu_seconds()
            generate(name, n, seed=SEED, out=Path(tmp) / f"w{workers}.h5", workers=workers, progress=False)
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            base = base or wall
            rows.append(f"| {name} | {n} | {workers} | {wall:.1f} | {cpu:.1f} | {n / wall:.1f} | {base / wall:.2f}x |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--jets-per-class", type=int, default=200)
    parser.add_argument("--ref-events", type=int, default=200)
    parser.add_argument("--scaling-recipe", default="top-landscape", choices=list(RECIPES))
    parser.add_argument("--scaling-n", type=int, default=400)
    args = parser.parse_args()

    results = [measure_recipe(name, args.jets_per_class, args.ref_events) for name in args.recipes]
    print(
        "| recipe | class | Pythia CPU ms/event | nextBatch/next | jets/event | Pythia-only jets/s/core "
        "| jetzoo jets/s/core | overhead |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print("\n".join(r["per_class"]))
    print()
    print(
        "| recipe | Pythia-only mark (jets/s/core) | jetzoo (jets/s/core) | jetzoo incl. Pythia init | overhead "
        "| of which FastJet C++ | of which Python glue |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(r["summary"] for r in results))
    print()
    print("| recipe | n | workers | wall s | CPU s (all processes) | jets/s | speed-up |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(measure_scaling(args.scaling_recipe, args.scaling_n)))


if __name__ == "__main__":
    main()
