"""Is bf16 as accurate as fp32 on the CPU? (issue 21, item 1) The table from the two halves of
benchmarks/bf16-accuracy/ (`jetzoo bench --config benchmarks/bf16-accuracy/{fp32,bf16}.yaml`).

    python benchmarks/bf16_accuracy.py            # writes benchmarks/bf16-accuracy/README.md

For each model and metric (test AUC, 1/eps_B at 30% signal efficiency): mean +- sample standard deviation
over the seeds of each precision, the difference of the means, its standard deviation
sigma = sqrt(s_fp32^2 / n_fp32 + s_bf16^2 / n_bf16), and the test |delta| < 2 sigma. The same-seed
(paired) differences are shown too: a seed fixes the initial weights and the data order in both, but the
trainings part ways after a few steps of different rounding, so the test does not assume a pairing.
Training throughput (the bench's timing on one batch) and CPU-hours are compared as well.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent / "bf16-accuracy"
METRICS = [("auc", "AUC", 4), ("rej30_top_vs_bkg", "1/eps_B(0.3)", 1)]


def records(directory: Path) -> dict[str, dict[int, dict]]:
    out: dict[str, dict[int, dict]] = {}
    for path in sorted((directory / "runs").glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("status") == "ok":
            out.setdefault(record["model"], {})[record["seed"]] = record
    return out


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def compare(fp32: dict, bf16: dict) -> list[str]:
    lines = ["| model | metric | fp32 (mean ± sd) | bf16 (mean ± sd) | Δ = bf16 − fp32 | σ(Δ) | |Δ| < 2σ | "
             "same-seed Δ |", "|---|---|---|---|---|---|---|---|"]
    for model in sorted(set(fp32) & set(bf16)):
        for key, label, digits in METRICS:
            a = [r["metrics"][key] for r in fp32[model].values()]
            b = [r["metrics"][key] for r in bf16[model].values()]
            (ma, sa), (mb, sb) = mean_sd(a), mean_sd(b)
            sigma = (sa**2 / len(a) + sb**2 / len(b)) ** 0.5
            delta = mb - ma
            paired = [bf16[model][s]["metrics"][key] - fp32[model][s]["metrics"][key]
                      for s in sorted(set(fp32[model]) & set(bf16[model]))]
            verdict = "yes" if abs(delta) < 2 * sigma else "**no**"
            lines.append(f"| {model} | {label} | {ma:.{digits}f} ± {sa:.{digits}f} (n={len(a)}) | "
                         f"{mb:.{digits}f} ± {sb:.{digits}f} (n={len(b)}) | {delta:+.{digits}f} | {sigma:.{digits}f} | "
                         f"{verdict} | {', '.join(f'{d:+.{digits}f}' for d in paired)} |")
    return lines


def speed(fp32: dict, bf16: dict) -> list[str]:
    lines = ["| model | precision | train jets/s (median over seeds) | test jets/s | epochs run (best) | CPU-h per run |",
             "|---|---|---|---|---|---|"]
    for model in sorted(set(fp32) & set(bf16)):
        for name, runs in (("fp32", fp32[model]), ("bf16", bf16[model])):
            rs = list(runs.values())
            epochs = ", ".join(f"{r['epochs_run']} ({r['best_epoch']})" for r in rs)
            lines.append(f"| {model} | {name} ({rs[0]['precision']}) | "
                         f"{statistics.median(r['train_jets_per_s'] for r in rs):,.0f} | "
                         f"{statistics.median(r['infer_jets_per_s'] for r in rs):,.0f} | {epochs} | "
                         f"{statistics.fmean(r['cpu_s'] for r in rs) / 3600:.2f} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE / "README.md"))
    args = parser.parse_args(argv)
    fp32, bf16 = records(HERE / "fp32"), records(HERE / "bf16")
    code = {r["code"]["source_sha256"][:12] for half in (fp32, bf16) for runs in half.values() for r in runs.values()}
    total = sum(r["cpu_s"] for half in (fp32, bf16) for runs in half.values() for r in runs.values()) / 3600
    text = "\n".join([
        "# bf16 against fp32 on the CPU: accuracy", "",
        "Commands: `jetzoo bench --config benchmarks/bf16-accuracy/fp32.yaml`, the same with `bf16.yaml`, then "
        "`python benchmarks/bf16_accuracy.py`.", "",
        "Leaderboard-v2 data (detector-level top-landscape): 25k training jets (a nested random subset of its "
        "training split), its validation split for early stopping and its full test split; each model's recipe, "
        "at most 6 epochs; 3 seeds per precision. Test: |Δ mean| < 2σ(Δ), σ(Δ)² = s²_fp32/n + s²_bf16/n.", "",
        *compare(fp32, bf16), "", *speed(fp32, bf16), "",
        f"Total: {total:.2f} CPU-hours. Code (source sha256 of the runs): {', '.join(sorted(code))}.", ""])
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
