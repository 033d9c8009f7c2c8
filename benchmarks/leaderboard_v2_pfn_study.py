"""Why the PFN (and the EFN) rank where they do on leaderboard v2 (issue 23 §4): one change at a time.

    python benchmarks/leaderboard_v2_pfn_study.py              # writes benchmarks/leaderboard-v2/pfn-study.md
    python benchmarks/leaderboard_v2_pfn_study.py --study efn  # writes benchmarks/leaderboard-v2/efn-study.md

Rows: the board's pfn, mlp and cnn (seed 0, `benchmarks/leaderboard-v2/`), and the PFN variants of
`pfn-study.yaml` and `pfn-study-rotated.yaml` (seed 0 each: the same data, splits, recipe, patience and
seed as the board's pfn; one thing changed per row), and the size curve's pfn at 25k and 50k; with
`--study efn`, the board's efn, perceptron and pfn, `efn-study.yaml`'s efn-rotated and `efn-scale.yaml`'s
efn-unscaled, and the size curve's efn. Every run
predicts the same 154,143 test jets, so each variant is compared with the board's pfn, and with the mlp and
the cnn, by a paired bootstrap on those jets (`jetzoo.bench.significance.paired_bootstrap`, 1000
resamples; the p-values of each comparison column Holm-corrected together). That is the test-set noise
only; the seed-to-seed spread of the board's rows (mean ± σ in leaderboard.md, once 3 seeds exist) is the
other yardstick. Runs not finished yet are listed as pending. Whatever follows a "## Reading" heading in an
existing output is kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from training_size import kept_reading  # benchmarks/ is on sys.path when a script here runs

from jetzoo.bench import store
from jetzoo.bench.significance import paired_bootstrap

HERE = Path(__file__).resolve().parent / "leaderboard-v2"

# (row, output directory, run label, what differs from the board's pfn)
ROWS = [
    ("cnn (board)", HERE, "cnn", "jet images, centred, rotated and flipped (its recipe)"),
    ("mlp (board)", HERE, "mlp", "high-level features (its recipe)"),
    ("pfn (board)", HERE, "pfn", "the recipe's inputs: pT/pT_jet, Δη, Δφ (energyflow's example), Φ (100, 100, 128)"),
    ("pfn-log-features", HERE / "pfn-study", "pfn-log-features", "ParticleNet's 7 inputs: Δη, Δφ, log pT, log E, log pT/pT_jet, log E/E_jet, ΔR"),
    ("pfn-latent-256", HERE / "pfn-study", "pfn-latent-256", "Φ (100, 100, 256): twice the latent dimension"),
    ("pfn-rotated", HERE / "pfn-study-rotated", "pfn-rotated", "pT/pT_jet with Δη, Δφ centred, rotated and flipped as the cnn's images"),
    ("pfn-log-rotated", HERE / "pfn-study-rotated", "pfn-log-rotated", "the 7 log inputs with the rotated Δη, Δφ"),
    ("pfn-25k", HERE / "size-curve", "pfn-25k", "the recipe's inputs, 25k training jets"),
    ("pfn-50k", HERE / "size-curve", "pfn-50k", "the recipe's inputs, 50k training jets"),
]
EFN_ROWS = [
    ("perceptron (board)", HERE, "perceptron", "a linear model on the high-level features (its recipe)"),
    ("pfn (board)", HERE, "pfn", "the pfn, the recipe's inputs"),
    ("pfn-rotated", HERE / "pfn-study-rotated", "pfn-rotated", "the pfn with the rotated Δη, Δφ"),
    ("efn (board)", HERE, "efn", "the recipe's inputs: z = pT/ΣpT and Δη, Δφ × 2.5 (jetzoo's `angle_scale`)"),
    ("efn-rotated", HERE / "efn-study", "efn-rotated", "Δη, Δφ centred, rotated and flipped as the cnn's images"),
    ("efn-unscaled", HERE / "efn-scale", "efn-unscaled", "Δη, Δφ unscaled (`angle_scale` 1, as efn_example.py)"),
    ("efn-25k", HERE / "size-curve", "efn-25k", "the recipe's inputs, 25k training jets"),
    ("efn-50k", HERE / "size-curve", "efn-50k", "the recipe's inputs, 50k training jets"),
]
STUDIES = {  # --study: (rows, reference columns, title, its own specs)
    "pfn": (ROWS, ("pfn (board)", "mlp (board)", "cnn (board)"), "why the PFN ranks where it does",
            "`pfn-study.yaml` and `pfn-study-rotated.yaml`"),
    "efn": (EFN_ROWS, ("efn (board)", "perceptron (board)", "pfn (board)"), "why the EFN ranks where it does",
            "`efn-study.yaml` and `efn-scale.yaml`"),
}


def load(out: Path, label: str) -> tuple[dict, dict] | None:
    record = store.read_record(store.record_path(out, label, 0))
    path = store.predictions_path(out, label, 0)
    if not record or record.get("status") != "ok" or not path.exists():
        return None
    predictions = store.read_predictions(path)
    predictions["signal_efficiencies"] = json.loads(predictions["attrs"].get("signal_efficiencies", "[0.5, 0.3]"))
    return record, predictions


def compare(found: dict[str, tuple[dict, dict]], reference: str, resamples: int) -> dict[str, dict]:
    """Paired bootstrap of every other row's AUC against `reference`, Holm-corrected over those rows."""
    if reference not in found:
        return {}
    runs = {row: [predictions] for row, (_, predictions) in found.items()}
    return paired_bootstrap(runs, "auc", reference, True, resamples)


def cell(found, tests, row: str, reference: str) -> str:
    if row == reference or reference not in found or row not in tests.get(reference, {}):
        return "—"
    delta = found[row][0]["metrics"]["auc"] - found[reference][0]["metrics"]["auc"]
    test = tests[reference][row]
    p = f"p {'≤' if test['at_floor'] else '='} {test['p_holm']:.3f}"
    return f"{delta:+.4f} ({p})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=sorted(STUDIES), default="pfn")
    parser.add_argument("--out", type=Path, help="default benchmarks/leaderboard-v2/<study>-study.md")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    rows, references, title, specs = STUDIES[args.study]
    args.out = args.out or HERE / f"{args.study}-study.md"
    found = {row: loaded for row, out, label, _ in rows if (loaded := load(out, label))}
    tests = {ref: compare(found, ref, args.resamples) for ref in references}
    flag = "" if args.study == "pfn" else f" --study {args.study}"
    lines = [f"# Leaderboard v2: {title}", "",
             f"Command: `python benchmarks/leaderboard_v2_pfn_study.py{flag}`, over the board and the runs of {specs} "
             "(`jetzoo bench --config benchmarks/leaderboard-v2/<spec>`; seed 0; every row predicts the "
             "same 154,143 detector-level test jets). ΔAUC: the row's AUC minus the reference's; p: paired bootstrap "
             f"on the test jets ({args.resamples} resamples), Holm-corrected within each column; \"≤\": no resample "
             "went the other way.", "",
             f"| row | what differs from the board's {args.study} | training jets | AUC [68% interval] | rej30 | epochs (best) | "
             + " | ".join(f"Δ vs {ref}" for ref in references) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(references)]
    for row, _, _, what in rows:
        if row not in found:
            lines.append(f"| {row} | {what} | — | pending | | |" + " |" * len(references))
            continue
        record = found[row][0]
        low, high = record["intervals"]["auc"]
        lines.append(f"| {row} | {what} | {record['train_jets']:,} | {record['metrics']['auc']:.4f} [{low:.4f}, {high:.4f}] | "
                     f"{record['metrics']['rej30_top_vs_bkg']:.0f} | {record['epochs_run']} ({record['best_epoch']})"
                     f"{'' if record.get('converged', True) else ', not converged'} | "
                     + " | ".join(cell(found, tests, row, ref) for ref in references) + " |")
    reading = kept_reading(args.out)
    text = "\n".join(lines) + "\n" + (f"\n{reading}" if reading else "")
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
