"""How long the JetNet metrics take on 50k jets (issue 22 §2: all of them for 50k jets in <= 60 s on 2 cores).

    python benchmarks/jetnet_metrics_timing.py --data .cache/leaderboard-v2/ --jets 50000 --efp-jobs 2

Real jets as 30-particle JetNet clouds (the `cloud` view of the data given), split into a "real" and a
"generated" sample of N each (a generator's sample costs the same to evaluate as real jets do). Times each step of
`jetzoo.metrics.jetnet_metrics.evaluate` on one sample against the other, the EFPs of both samples included, and
writes benchmarks/jetnet_metrics_timing.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent / ".cache" / "leaderboard-v2"))
    parser.add_argument("--jets", type=int, default=50_000)
    parser.add_argument("--efp-jobs", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "jetnet_metrics_timing.md"))
    args = parser.parse_args(argv)
    from jetzoo.metrics import jetnet_metrics as jm
    from jetzoo.registry import create_datamodule

    dm = create_datamodule("pythia", path=args.data, view="cloud", batch_size=2 * args.jets, streaming=False,
                           max_jets=int(2 * args.jets / 0.9) + 2000, test_fraction=0.9, val_fraction=0.05)
    dm.setup("test")
    batch = next(iter(dm.test_dataloader()))
    cloud, mask = batch["cloud"].double().numpy(), batch["mask"].bool().numpy()
    n = min(args.jets, len(cloud) // 2)
    real, other = (cloud[:n], mask[:n]), (cloud[n:2 * n], mask[n:2 * n])
    rng = np.random.default_rng(0)
    times = {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - start
        return out

    f_real = timed("36 EFPs (d <= 4), real sample", lambda: jm.fpd_features(real, args.efp_jobs))
    f_gen = timed("36 EFPs (d <= 4), generated sample", lambda: jm.fpd_features(other, args.efp_jobs))
    timed("W1M", lambda: jm.w1m(real, other, rng, n))
    timed("W1P", lambda: jm.w1p(real, other, rng, n))
    timed("W1EFP (from the 36)", lambda: jm.w1efp(real, other, rng, n, real_efps=f_real, generated_efps=f_gen))
    timed("FPD", lambda: jm.fpd(f_real, f_gen, min_samples=int(0.4 * n), max_samples=n))
    timed("KPD", lambda: jm.kpd(f_real, f_gen, batch_size=min(5000, n)))
    generated_only = sum(t for k, t in times.items() if "real sample" not in k)
    command = "python benchmarks/jetnet_metrics_timing.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = ["# JetNet metrics: time for 50k jets", "", f"Command: `{command}`  ",
             f"{n:,} real jets against {n:,} others ({args.data}, 30-particle clouds); {os.cpu_count()} cores, EFPs in "
             f"{args.efp_jobs} process(es); the other jobs on the machine paused.", "",
             "| step | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in times.items()]
    lines += [f"| **a generated sample against the (cached) real one** | **{generated_only:.1f}** |",
              f"| everything, the real sample's EFPs included | {sum(times.values()):.1f} |", ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
