"""Leaderboard v2 against the published Top Tagging ordering (issue 23, item 4), model by model.

    python benchmarks/leaderboard_v2_ordering.py     # writes benchmarks/leaderboard-v2/ordering.md

Each jetzoo model with a published kin on the Top Tagging Reference dataset (`jetzoo.bench.published`, the
rows the board prints under "published, other data") is set beside it: jetzoo's AUC (mean ± sd over the
seeds finished so far, from leaderboard.json) and the published AUC, each with its rank among the models
that have both. Kendall's tau (scipy.stats.kendalltau) measures how far the two orders agree. For every pair
the two orders put differently, the table says how far apart jetzoo's two AUCs are in units of their
combined seed spread, so a swap inside the noise is told from a real one. The datasets differ (jetzoo's:
~100k training jets through a parametric ATLAS-like detector; theirs: 1.2M Delphes jets), so the
comparison is of orders, never of values.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from pathlib import Path

from scipy.stats import kendalltau

from jetzoo.bench.published import TOP_TAGGING, published_for

HERE = Path(__file__).resolve().parent / "leaderboard-v2"

# jetzoo model -> its published kin on Top Tagging, and why it is that one
KIN = {
    "part-lite": ("ParT", "the same architecture, smaller (lite)"),
    "particlenet-lite": ("ParticleNet", "the same architecture, smaller (lite)"),
    "pfn": ("PFN", "the same architecture"),
    "efn": ("EFN", "the same architecture"),
    "cnn": ("CNN", "a jet-image CNN"),
    "mlp": ("Multi-body N-subjettiness 8", "a dense network on high-level substructure features and the mass"),
}
NO_KIN = {
    "perceptron": "a linear model on high-level features: the comparison has none",
    "rnn": "a recurrent network on constituents: the comparison has none",
    "interaction-net": "JEDI-net was published on the hls4ml dataset, not on Top Tagging",
}


def ours(board: dict) -> dict[str, tuple[float, float, int]]:
    """{model: (mean AUC, sd over seeds or nan, seeds)} of the rows with at least one finished seed made by
    the board's code (a stale run, made by older code and waiting to be re-made, is left out)."""
    out = {}
    for row in board["rows"]:
        auc = row.get("auc") or {}
        values = auc.get("values") or []
        if values and not row.get("stale"):
            sd = auc.get("std")
            out[row["model"]] = (float(auc["mean"]), float("nan") if sd is None else float(sd), len(values))
    return out


def published_auc() -> dict[str, float]:
    return {r.model: r.value for r in published_for(TOP_TAGGING) if r.metric == "auc"}


def ranks(values: dict[str, float]) -> dict[str, int]:
    return {name: i + 1 for i, name in enumerate(sorted(values, key=lambda n: -values[n]))}


def report(board: dict) -> str:
    mine, theirs = ours(board), published_auc()
    both = {m: KIN[m][0] for m in KIN if m in mine and KIN[m][0] in theirs}
    our_rank = ranks({m: mine[m][0] for m in both})
    their_rank = ranks({m: theirs[k] for m, k in both.items()})
    lines = [
        "# Leaderboard v2 beside the published Top Tagging ordering",
        "",
        "Made by: `python benchmarks/leaderboard_v2_ordering.py` from `benchmarks/leaderboard-v2/leaderboard.json`.",
        "",
        "jetzoo: detector-level `top-landscape` (ATLAS-like), ~100k training jets, AUC mean ± sd over the seeds "
        "finished so far. Published: the Top Tagging Reference dataset (1.2M training jets, Delphes), AUC as "
        "`jetzoo.bench.published` records it (its source per row in the board's published section). Ranks are "
        "among the models that have both.",
        "",
        "| jetzoo model | seeds | jetzoo AUC | rank | published kin | published AUC | rank | kin because |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in sorted(both, key=lambda m: our_rank[m]):
        mean, sd, n = mine[m]
        spread = "" if math.isnan(sd) else f" ± {sd:.4f}"
        lines.append(f"| {m} | {n} | {mean:.4f}{spread} | {our_rank[m]} | {both[m]} | {theirs[both[m]]:.4f} | "
                     f"{their_rank[m]} | {KIN[m][1]} |")
    waiting = [m for m in KIN if m not in mine]
    lines += ["", "Not compared: " + "; ".join(
        [f"{m} ({why})" for m, why in NO_KIN.items()] + [f"{m} (no finished seed of the current code yet)" for m in waiting]) + "."]
    if len(both) >= 2:
        names = sorted(both)
        tau, p = kendalltau([our_rank[m] for m in names], [their_rank[m] for m in names])
        lines += ["", f"Kendall's tau between the two orders: {tau:.2f} (p = {p:.2g}, {len(names)} models)."]
        swaps = []
        for a, b in itertools.combinations(names, 2):
            if (our_rank[a] - our_rank[b]) * (their_rank[a] - their_rank[b]) < 0:
                (ma, sa, _), (mb, sb, _) = mine[a], mine[b]
                sigma = math.sqrt((0 if math.isnan(sa) else sa) ** 2 + (0 if math.isnan(sb) else sb) ** 2)
                apart = f"{abs(ma - mb) / sigma:.1f} σ of the seeds" if sigma > 0 else "no seed spread yet"
                swaps.append(f"- {a} vs {b}: jetzoo {ma:.4f} vs {mb:.4f} ({apart}); published "
                             f"{theirs[both[a]]:.4f} vs {theirs[both[b]]:.4f}")
        lines += ["", "Pairs in a different order:" if swaps else "No pair is in a different order.", *swaps]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", type=Path, default=HERE / "leaderboard.json")
    parser.add_argument("--out", type=Path, default=HERE / "ordering.md")
    args = parser.parse_args()
    text = report(json.loads(args.board.read_text()))
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
