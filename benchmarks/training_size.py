"""The training-size curve of the MLP (high-level features) and ParticleNet-lite (particles), from
finished `jetzoo bench` runs on one fixed test set.

Each point is a bench output directory: `benchmarks/training_size/n<N>/` made by
`jetzoo bench --config benchmarks/training_size/size-<N>.yaml` (a subset of the leaderboard's
training jets, `--data.max_train_jets N`), and the leaderboard itself (`benchmarks/leaderboard/`,
all ~50k training jets). Every run is tested on the same ~150k test jets. For each size: AUC and
1/eps_B at eps_S = 0.5 and 0.3, mean ± σ over the finished seeds, and the ParticleNet-lite − MLP AUC
difference per seed (paired: same seed, same test jets). Only finished runs are used; the seed
count is shown. The 100k point moves the validation jets into training (val_fraction 0; the test jets
are the same). Whatever follows a "## Reading" heading in an existing output file is kept.

    python benchmarks/training_size.py --out benchmarks/training_size.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

MODELS = ("mlp", "particlenet-lite")


def finished_runs(out: Path) -> dict[str, dict[int, dict]]:
    runs: dict[str, dict[int, dict]] = {}
    for path in sorted((out / "runs").glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("status") == "ok" and record.get("model") in MODELS:
            runs.setdefault(record["model"], {})[record["seed"]] = record
    return runs


READING_HEADING = "## Reading"


def kept_reading(out: Path) -> str:
    """The hand-written interpretation below READING_HEADING in an existing output, kept across re-collections."""
    if not out.exists():
        return ""
    text = out.read_text()
    at = text.find(READING_HEADING)
    return text[at:] if at >= 0 else ""


def mean_sd(values, digits: int) -> str:
    if not values:
        return "—"
    v = np.asarray(values, dtype=float)
    sd = f" ± {v.std(ddof=1):.{digits}f}" if len(v) > 1 else ""
    return f"{v.mean():.{digits}f}{sd} ({len(v)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", nargs="*", default=["benchmarks/training_size/n12500", "benchmarks/training_size/n25000",
                                                         "benchmarks/leaderboard", "benchmarks/training_size/n100000"])
    parser.add_argument("--out", default="benchmarks/training_size.md")
    args = parser.parse_args()
    rows = []
    for point in args.points:
        runs = finished_runs(Path(point))
        if not runs:
            continue
        any_run = next(iter(next(iter(runs.values())).values()))
        cells = {}
        for model in MODELS:
            items = runs.get(model, {})
            cells[model] = {"auc": [r["metrics"]["auc"] for r in items.values()],
                            "rej50": [r["metrics"]["rej50_top_vs_bkg"] for r in items.values()],
                            "rej30": [r["metrics"]["rej30_top_vs_bkg"] for r in items.values()]}
        paired = [runs["particlenet-lite"][s]["metrics"]["auc"] - runs["mlp"][s]["metrics"]["auc"]
                  for s in sorted(set(runs.get("mlp", {})) & set(runs.get("particlenet-lite", {})))]
        rows.append((any_run["train_jets"], any_run["test_jets"], point, cells, paired))
    rows.sort()
    lines = [
        "# Training-size curve: MLP (high-level features) against ParticleNet-lite (particles)",
        "",
        f"Command: `python benchmarks/training_size.py --out {args.out}` over the bench outputs below (each made by "
        "the `jetzoo bench` command in its spec). Same test jets at every size; 5 epochs, 1 thread, batch 256. "
        "Cells: mean ± σ over seeds (number of finished seeds).",
        "",
        "| training jets | test jets | MLP AUC | ParticleNet-lite AUC | PN-lite − MLP AUC (paired per seed) | MLP 1/εB(0.5) | PN-lite 1/εB(0.5) | MLP 1/εB(0.3) | PN-lite 1/εB(0.3) | source |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for train, test, point, cells, paired in rows:
        lines.append(f"| {train:,} | {test:,} | {mean_sd(cells['mlp']['auc'], 4)} | {mean_sd(cells['particlenet-lite']['auc'], 4)} | "
                     f"{mean_sd(paired, 4)} | {mean_sd(cells['mlp']['rej50'], 1)} | {mean_sd(cells['particlenet-lite']['rej50'], 1)} | "
                     f"{mean_sd(cells['mlp']['rej30'], 0)} | {mean_sd(cells['particlenet-lite']['rej30'], 0)} | "
                     f"`{point}/` |")
    lines += ["", "The 50k point is the leaderboard, which streams its shards; the smaller points read the same jets "
              "in memory (`--data.max_train_jets` needs it), so their batch order differs from the leaderboard's."]
    out = Path(args.out)
    reading = kept_reading(out)
    out.write_text("\n".join(lines) + "\n" + (f"\n{reading}" if reading else ""))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
