"""Recompute a bench's accuracy, AUC and 1/eps_B from its written predictions with sklearn.

For every finished run of a `jetzoo bench` output directory, the per-run predictions
(`OUT/predictions/<model>-seed<k>.h5`: logits, labels) are scored independently of jetzoo.metrics:
the ParT-style signal-vs-background score log p_s - log(sum of p_b) in float64 (scipy's
logsumexp), sklearn's `roc_auc_score` and `roc_curve`, 1/eps_B interpolated linearly at the exact
eps_S. Each value is compared with the run's record (`OUT/runs/<model>-seed<k>.json`), which the
table is made from; a value the table shows as a lower bound (fewer than 10 background jets pass)
must lie below sklearn's. Then the table itself (`OUT/leaderboard.json`): each model's seed mean
and σ (ddof 1) of every column, against the mean and σ of sklearn's per-seed values. Prints one
line per run and per model, and the largest relative difference; exits 1 when any exceeds 1e-6.

    python benchmarks/leaderboard_sklearn_check.py benchmarks/leaderboard
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from sklearn.metrics import roc_auc_score, roc_curve

from jetzoo.bench import store


def sklearn_values(predictions: dict, efficiencies) -> dict[str, float]:
    logits, labels = predictions["logits"].astype(np.float64), predictions["labels"]
    names, background = predictions["class_names"], predictions["background_classes"]
    out = {"acc": float((logits.argmax(1) == labels).mean())}
    bkg = [names.index(c) for c in background]
    for signal, name in enumerate(names):
        if signal in bkg:
            continue
        score = logits[:, signal] - logsumexp(logits[:, bkg], axis=1)
        keep = np.isin(labels, [signal, *bkg])
        is_signal = labels[keep] == signal
        fpr, tpr, _ = roc_curve(is_signal, score[keep])
        if len(names) == 2:
            out["auc"] = roc_auc_score(is_signal, score[keep])
        for eff in efficiencies:
            out[f"rej{round(eff * 100)}_{name}_vs_bkg"] = 1.0 / np.interp(eff, tpr, fpr)
    return out


def table_against(board_path: Path, per_seed: dict[tuple[str, str], list[float]]) -> float:
    """Largest relative difference between the table's seed mean and σ and sklearn's per-seed values."""
    board = json.loads(board_path.read_text())
    worst = 0.0
    for row in board["rows"]:
        shown = []
        for column, name in board["columns"].items():
            cell = row.get(column)
            values = per_seed.get((row["model"], name))
            if not cell or not values or cell["lower_bound"]:
                continue
            for what, ours, theirs in (("mean", cell["mean"], np.mean(values)),
                                       ("σ", cell["std"], np.std(values, ddof=1) if len(values) > 1 else float("nan"))):
                if np.isnan(theirs) and np.isnan(ours):
                    continue
                rel = abs(ours - theirs) / abs(theirs) if theirs else abs(ours)
                worst = max(worst, rel)
                shown.append(f"{column} {what} {ours:.6g} vs {theirs:.6g} (rel {rel:.1e})")
        print(f"table: {row['model']} over {len(row['seeds_ok'])} seed(s): " + "; ".join(shown))
    return worst


def main(out: str) -> int:
    out = Path(out)
    worst = 0.0
    per_seed: dict[tuple[str, str], list[float]] = {}
    runs = sorted((out / "runs").glob("*.json"))
    for path in runs:
        record = json.loads(path.read_text())
        if record.get("status") != "ok":
            continue
        predictions = store.read_predictions(store.predictions_path(out, record["model"], record["seed"]))
        efficiencies = json.loads(predictions["attrs"].get("signal_efficiencies", "[0.5, 0.3]"))
        theirs = sklearn_values(predictions, efficiencies)
        shown = []
        for name, value in theirs.items():
            per_seed.setdefault((record["model"], name), []).append(value)
            ours = record["metrics"][name]
            if record["lower_bounds"].get(name):
                ok = ours < value
                shown.append(f"{name} > {ours:.4g} (sklearn {value:.4g}: {'below, as a bound must be' if ok else 'NOT below'})")
                worst = max(worst, 0.0 if ok else float("inf"))
                continue
            rel = abs(ours - value) / abs(value) if value else abs(ours)
            worst = max(worst, rel)
            shown.append(f"{name} {ours:.6g} vs {value:.6g} (rel {rel:.1e})")
        print(f"{record['model']} seed {record['seed']} ({len(predictions['labels'])} test jets): " + "; ".join(shown))
    table_worst = table_against(out / "leaderboard.json", per_seed)
    worst = max(worst, table_worst)
    print(f"largest relative difference: {worst:.2e} over {len(runs)} run record(s) and the table "
          f"(table alone: {table_worst:.2e})")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/leaderboard"))
