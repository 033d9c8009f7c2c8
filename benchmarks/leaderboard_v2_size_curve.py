"""Leaderboard v2's training-size curve (issue 23 §3): where each architecture stands on its learning curve.

    python benchmarks/leaderboard_v2_size_curve.py   # writes benchmarks/leaderboard-v2/size-curve.md and plots/size-curve.png

The 25k and 50k points are `benchmarks/leaderboard-v2/size-curve/` (spec size-curve.yaml: the board's data,
splits, recipes and patience, the training split cut to a nested random subset, 1 seed); the ~100k point is the
board itself (`benchmarks/leaderboard-v2/`). Every run is tested on the same 154,143 test jets. The curve
compares seed 0 at every size, so a step between sizes is not a seed change; the 100k column also gives the
board's mean ± σ over its finished seeds, the yardstick for how large a step has to be to mean anything.
"Per doubling" is the AUC gained per doubling of the training jets, over the sizes the model has so far (a
least-squares slope in log2 of the training jets). Only finished runs made by the board's code are used.
Whatever follows a "## Reading" heading in an existing output is kept.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from training_size import kept_reading  # benchmarks/ is on sys.path when a script here runs

HERE = Path(__file__).resolve().parent / "leaderboard-v2"


def records(out: Path) -> list[dict]:
    """The finished, current records of a bench output (a stale one waits to be re-made: left out)."""
    board = json.loads((out / "leaderboard.json").read_text()) if (out / "leaderboard.json").exists() else {}
    stale = {(row["model"], seed) for row in board.get("rows", []) for seed in row.get("stale") or []}
    found = []
    for path in sorted((out / "runs").glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("status") == "ok" and (record["model"], record["seed"]) not in stale:
            found.append(record)
    return found


def points(size_curve: Path, board: Path) -> dict[str, dict[int, list[dict]]]:
    """{architecture: {training jets: [records]}}: the size curve's labelled runs and the board's own."""
    curve: dict[str, dict[int, list[dict]]] = {}
    for record in records(size_curve) + records(board):
        curve.setdefault(record["name"], {}).setdefault(record["train_jets"], []).append(record)
    return curve


def value(record: dict, metric: str) -> float:
    return float(record["metrics"][metric])


def per_doubling(sizes: list[int], aucs: list[float]) -> float:
    """Least-squares slope of AUC against log2(training jets): the AUC gained per doubling."""
    if len(sizes) < 2:
        return math.nan
    return float(np.polyfit(np.log2(sizes), aucs, 1)[0])


def seed0(items: list[dict]) -> dict | None:
    return next((r for r in items if r["seed"] == 0), None)


def table(curve: dict[str, dict[int, list[dict]]]) -> tuple[list[str], list[int]]:
    sizes = sorted({n for by_size in curve.values() for n in by_size})
    head = " | ".join(f"AUC {n // 1000}k" for n in sizes)
    lines = [f"| model | {head} | board AUC (seeds) | per doubling | " + " | ".join(f"rej30 {n // 1000}k" for n in sizes) + " |",
             "|---|" + "---|" * (2 * len(sizes) + 2)]
    order = sorted(curve, key=lambda m: -(value(seed0(curve[m][max(curve[m])]) or curve[m][max(curve[m])][0], "auc")))
    for model in order:
        by_size = curve[model]
        first = {n: seed0(by_size.get(n, [])) for n in sizes}
        auc_cells = [f"{value(r, 'auc'):.4f}{'' if r.get('converged', True) else ' (not converged)'}" if r else "—"
                     for r in first.values()]
        rej_cells = [f"{value(r, 'rej30_top_vs_bkg'):.0f}" if r else "—" for r in first.values()]
        board = by_size.get(max(sizes), [])
        aucs = [value(r, "auc") for r in board]
        board_cell = (f"{np.mean(aucs):.4f} ± {np.std(aucs, ddof=1):.4f} ({len(aucs)})" if len(aucs) > 1
                      else f"{aucs[0]:.4f} (1)" if aucs else "—")
        known = [(n, value(r, "auc")) for n, r in first.items() if r]
        slope = per_doubling([n for n, _ in known], [a for _, a in known])
        slope_cell = f"{slope:+.4f}" if not math.isnan(slope) else "—"
        lines.append(f"| {model} | " + " | ".join(auc_cells) + f" | {board_cell} | {slope_cell} | " + " | ".join(rej_cells) + " |")
    return lines, sizes


def plot(curve: dict[str, dict[int, list[dict]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for model, by_size in sorted(curve.items()):
        known = sorted((n, value(seed0(items), "auc")) for n, items in by_size.items() if seed0(items))
        if len(known) < 2:
            continue
        ax.plot([n for n, _ in known], [a for _, a in known], marker="o", label=model)
    ax.set_xscale("log", base=2)
    sizes = sorted({n for by_size in curve.values() for n in by_size})
    ax.set_xticks(sizes, [f"{n / 1000:.0f}k" for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training jets (seed 0)")
    ax.set_ylabel("test AUC (154k detector-level jets)")
    ax.set_title("Leaderboard v2: AUC against training-set size")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-curve", type=Path, default=HERE / "size-curve")
    parser.add_argument("--board", type=Path, default=HERE)
    parser.add_argument("--out", type=Path, default=HERE / "size-curve.md")
    parser.add_argument("--plot", type=Path, default=HERE / "plots" / "size-curve.png")
    args = parser.parse_args()
    curve = points(args.size_curve, args.board)
    rows, sizes = table(curve)
    lines = ["# Leaderboard v2: the training-size curve", "",
             "Command: `python benchmarks/leaderboard_v2_size_curve.py`, over `jetzoo bench --config "
             "benchmarks/leaderboard-v2/size-curve.yaml` (25k, 50k) and the board (`spec.yaml`, ~100k). Per doubling: the "
             "least-squares AUC slope against log2(training jets) over the sizes a model has so far. Seed 0 at every "
             "size, the same 154,143 test jets; each run trained until its validation loss stopped falling, with its recipe "
             "(patience ≥ 3; a run that hit its maximum still improving says so). Training jets: "
             + ", ".join(f"{n:,}" for n in sizes) + ".", "", *rows, "",
             f"![AUC against training jets](plots/{args.plot.name})"]
    reading = kept_reading(args.out)
    args.out.write_text("\n".join(lines) + "\n" + (f"\n{reading}" if reading else ""))
    plot(curve, args.plot)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
