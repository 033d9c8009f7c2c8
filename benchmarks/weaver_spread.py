"""The spread of benchmarks/weaver_comparison.py's speed ratios over reruns (issue 21: the targets apply to the
median of 3 runs): reads the CSVs the reruns wrote and prints, for each (case, mode, threads, precision), the
jetzoo / weaver-core ratio of every run, their median and range.

    for r in 1 2 3; do python benchmarks/weaver_comparison.py --parts speed --full-part && \\
        cp benchmarks/weaver_comparison.csv /tmp/run$r.csv; done
    python benchmarks/weaver_spread.py /tmp/run1.csv /tmp/run2.csv /tmp/run3.csv --out benchmarks/weaver_spread.md
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

TARGETS = {  # issue 21: (train, inference) in fp32; training in bf16
    ("ParT lite", "fp32"): (2.0, 2.0), ("ParT full", "fp32"): (2.0, 2.0),
    ("ParticleNet lite", "fp32"): (3.0, 2.0), ("ParticleNet full", "fp32"): (3.0, 2.0),
    ("ParT lite", "bf16"): (4.0, None), ("ParT full", "bf16"): (4.0, None),
    ("ParticleNet lite", "bf16"): (6.0, None), ("ParticleNet full", "bf16"): (6.0, None),
}


def ratios(paths: list[str]) -> dict[tuple, list[float]]:
    out: dict[tuple, list[float]] = {}
    for path in paths:
        for row in csv.DictReader(open(path)):
            if row["part"] == "speed" and row["impl"] == "jetzoo":
                key = (row["case"], row["mode"], row["threads"], row["precision"])
                out.setdefault(key, []).append(float(row["ratio_vs_weaver"]))
    return out


def markdown(paths: list[str]) -> str:
    lines = ["| case | mode | threads | precision | ratio per run | median | target | met |", "|---|---|---|---|---|---|---|---|"]
    for (case, mode, threads, precision), values in ratios(paths).items():
        median = statistics.median(values)
        target = TARGETS.get((case, precision), (None, None))[0 if mode.startswith("train") else 1]
        met = "–" if target is None or threads != "1" else ("yes" if median >= target else "no")
        lines.append(f"| {case} | {mode} | {threads} | {precision} | {', '.join(f'{v:.2f}' for v in values)} | "
                     f"{median:.2f} | {'–' if target is None or threads != '1' else f'≥ {target:g}'} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csvs", nargs="+")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    text = markdown(args.csvs)
    print(text)
    if args.out:
        Path(args.out).write_text("# jetzoo / weaver-core speed ratios over reruns\n\nCommand: `python benchmarks/"
                                  f"weaver_spread.py {' '.join(args.csvs)}`, each CSV written by `python benchmarks/"
                                  "weaver_comparison.py --parts speed --full-part` on the same idle machine (the "
                                  "background benches paused with SIGSTOP), one after another. The targets are "
                                  "issue 21's, on one thread; they apply to the median.\n\n" + text)


if __name__ == "__main__":
    main()
