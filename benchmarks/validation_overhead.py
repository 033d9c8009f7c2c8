"""What the readers' physical validation adds to a datamodule's set-up (read, convert, view, standardise).

    python benchmarks/validation_overhead.py --path .cache/top-landscape-v1-seed1-n4000.h5 \
        --out benchmarks/validation_overhead.md

Warm cache (one untimed set-up first), then `repeats` set-ups with validation on and off
interleaved in one process; the figure is the ratio of the medians. Validation is switched with
`jetzoo.datamodules.readers.validation.ENABLED` (env JETZOO_READER_VALIDATION=0 does the same).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

from jetzoo.datamodules.readers import read_hls4ml, validation
from jetzoo.registry import create_datamodule


def setup_seconds(path: str, view: str, enabled: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one set-up; CPU time is the figure other processes on the machine disturb least."""
    validation.ENABLED = enabled
    start, cpu = time.perf_counter(), time.process_time()
    dm = create_datamodule("pythia", path=path, view=view)
    dm.setup("fit")
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=".cache/top-landscape-v1-seed1-n4000.h5")
    parser.add_argument("--view", default="particles")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    setup_seconds(args.path, args.view, True)  # warm the page cache and imports
    times = {True: [], False: []}
    for _ in range(args.repeats):
        for enabled in (True, False):
            times[enabled].append(setup_seconds(args.path, args.view, enabled))
    validation.ENABLED = True
    table = read_hls4ml(args.path)
    alone = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        validation.physical_constituents(table.p4, table.mask, args.path)
        alone.append(time.perf_counter() - start)
    check = statistics.median(alone)
    wall = {k: [t[0] for t in v] for k, v in times.items()}
    cpu = {k: [t[1] for t in v] for k, v in times.items()}
    on, off = statistics.median(wall[True]), statistics.median(wall[False])
    cpu_on, cpu_off = statistics.median(cpu[True]), statistics.median(cpu[False])
    command = "python benchmarks/validation_overhead.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        "# Reader validation overhead on datamodule set-up",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"File `{args.path}`, `create_datamodule('pythia', path=..., view='{args.view}').setup('fit')`, warm cache, "
        f"median of {args.repeats} (on/off interleaved in one process), Python {platform.python_version()}, "
        f"{platform.machine()}.",
        "",
        "| validation | median wall (s) | median CPU (s) | wall of each run (s) |",
        "|---|---|---|---|",
        f"| on  | {on:.4f} | {cpu_on:.4f} | {', '.join(f'{t:.4f}' for t in wall[True])} |",
        f"| off | {off:.4f} | {cpu_off:.4f} | {', '.join(f'{t:.4f}' for t in wall[False])} |",
        "",
        f"**Overhead: {100 * (on / off - 1):+.1f}% wall, {100 * (cpu_on / cpu_off - 1):+.1f}% CPU** "
        "(budget: at most +10%).",
        "",
        f"The physical checks alone on the whole table: median {1000 * check:.2f} ms = "
        f"{100 * check / off:.1f}% of the median set-up without them (the on/off difference above is within "
        "the noise of a shared 2-core machine).",
        "",
    ])
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
