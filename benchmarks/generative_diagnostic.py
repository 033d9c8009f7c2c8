"""Where a generator's jets differ from the real ones, read off a generative bench's output: per pT rank of the
constituents, the median pT_rel and the median and 90% quantile of the distance to the jet axis, and the jet mass's
quantiles, for the spec's real test jets and each generated file under OUT/predictions.

    python benchmarks/generative_diagnostic.py --config benchmarks/generative_leaderboard/gan-tuning.yaml \
        --out benchmarks/generative_leaderboard/gan-tuning-diagnostic.md   (from the repository root)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np
import torch

from jetzoo.bench.generative import test_jets
from jetzoo.bench.runs import DataCache
from jetzoo.bench.spec import parse_spec
from jetzoo.physics.kinematics import relative_mass

RANKS = (1, 5, 10, 20, 30)


def summary(cloud: np.ndarray, mask: np.ndarray) -> list[str]:
    """The table cells of one sample: mass q10/q50/q90, then per rank 'pT_rel; ΔR q50 / q90'."""
    mass = relative_mass(torch.as_tensor(cloud), torch.as_tensor(mask.astype(np.float32))).numpy()
    cells = [" / ".join(f"{q:.3f}" for q in np.quantile(mass, [0.1, 0.5, 0.9]))]
    distance = np.hypot(cloud[..., 0], cloud[..., 1])
    for rank in RANKS:
        real = mask[:, rank - 1]
        pt, dr = cloud[real, rank - 1, 2], distance[real, rank - 1]
        cells.append(f"{np.median(pt):.4f}; {np.median(dr):.3f} / {np.quantile(dr, 0.9):.3f}" if real.any() else "–")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    spec, _ = parse_spec(["--config", args.config])
    cloud, mask, _ = test_jets(DataCache(spec.data).for_view("cloud"))
    rows = [("real (test split)", summary(cloud[0::2], mask[0::2]))]
    for path in sorted(Path(spec.out, "predictions").glob("*.h5")):
        with h5py.File(path) as f:
            particles = f["particle_features"][:]
        rows.append((path.stem, summary(particles[..., :3], particles[..., 3] > 0)))
    head = ["sample", "mass/pT q10 / q50 / q90", *(f"rank {r}: pT_rel; ΔR q50 / q90" for r in RANKS)]
    lines = [f"# Generated against real jets, per constituent rank ({spec.out})", "",
             f"Made by: `python benchmarks/generative_diagnostic.py --config {args.config} --out {args.out}`", "",
             "Medians over jets of the constituent of each pT rank (1 = hardest) that is present: its pT_rel, and its "
             "distance ΔR to the jet axis (median / 90% quantile); the jet mass in units of its pT.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
