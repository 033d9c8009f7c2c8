"""The leaderboard: one row per model, each metric as mean ± σ over its seeds and the 68% bootstrap
interval of its median run, the paired significance against the best model, and the cost columns.

Columns (`headline_columns`): acc, auc, and rej<E> for each of the datamodule's signal
efficiencies: 1/eps_B of the last non-background class against the background classes
(`_vs_bkg`), or one-vs-rest without them (`_vs_rest`); the JSON names the full metric.
σ is the sample standard deviation over the seeds (ddof = 1). The median run is the seed whose
value of the ranking metric is the median (the lower one for an even count); its interval is
the 68% percentile interval of `bootstrap_resamples` resamples of the test jets.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from jetzoo.metrics.tagging import headline_rejection, rejection_name
from jetzoo.bench.published import rank_own_runs

ALPHA_TEXT = "Holm-corrected p < 0.05"
FP32 = {"32-true", "32", "32-bit"}  # Lightning's names of float32 training


def headline_columns(class_names, background_classes, efficiencies) -> dict[str, str]:
    """column -> metric name: acc, auc, rej50 -> rej50_top_vs_bkg, ..."""
    signal, convention = headline_rejection(list(class_names), list(background_classes))
    out = {"acc": "acc", "auc": "auc"}
    for eff in efficiencies:
        name = rejection_name(signal, eff, convention)
        out[name.split("_")[0]] = name
    return out


def _std(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def aggregate(spec, records: dict[tuple[str, int], dict], columns: dict[str, str]) -> list[dict]:
    """One row per model (spec order): values, mean, std, median run and its interval per column."""
    rank_metric = columns[spec.rank_by]
    rows = []
    for model in spec.models:
        label = spec.label(model)
        seeds = spec.seeds_of(model)
        ok = [(s, records[label, s]) for s in seeds if records.get((label, s), {}).get("status") == "ok"]
        failed = [(s, records[label, s]) for s in seeds if records.get((label, s), {}).get("status") == "failed"]
        row = {
            "model": label, "name": model.name, "args": model.args, "seeds": seeds,
            "seeds_ok": [s for s, _ in ok], "seeds_failed": [s for s, _ in failed],
            "errors": {str(s): r.get("error", "") for s, r in failed},
        }
        if ok:
            by_rank = sorted(ok, key=lambda sr: (sr[1]["metrics"].get(rank_metric, float("nan")), sr[0]))
            median_seed, median = by_rank[(len(by_rank) - 1) // 2]
            row["median_seed"] = median_seed
            row["stale"] = sorted({r["stale"] for _, r in ok if r.get("stale")})  # made by other code (code_version)
            row["precision"] = sorted({str(r.get("precision", "32-true")) for _, r in ok})
            first = ok[0][1]
            row.update(params=first["params"], flops_per_jet=first["flops_per_jet"], train_jets=first["train_jets"],
                       test_jets=first["test_jets"])
            for key in ("train_jets_per_s", "infer_jets_per_s", "wall_s"):
                row[key] = float(np.mean([r[key] for _, r in ok]))
            # convergence (issue 23 §1): epochs run and the best epoch per seed, CPU hours; absent from older runs
            row["epochs_run"] = [r.get("epochs_run") for _, r in ok]
            row["best_epochs"] = [r.get("best_epoch") for _, r in ok]
            row["not_converged"] = sum(r.get("converged") is False for _, r in ok)
            cpu = [r["cpu_s"] for _, r in ok if "cpu_s" in r]
            row["cpu_h"] = float(np.mean(cpu)) / 3600 if cpu else float("nan")
            for column, name in columns.items():
                values = [r["metrics"].get(name, float("nan")) for _, r in ok]
                limits = [bool(r.get("lower_bounds", {}).get(name, False)) for _, r in ok]
                # never a mean of limits and estimates (issue 23 §7): the estimates' mean and σ, the number of
                # seeds that gave only a limit beside them; all limits: the weakest, which holds for every seed
                estimates = [v for v, limit in zip(values, limits) if not limit]
                row[column] = {
                    "metric": name,
                    "values": values,
                    "mean": float(np.mean(estimates)) if estimates else float(np.min(values)),
                    "std": _std(estimates),
                    "lower_bound": not estimates,
                    "limits": sum(limits),
                    "median_interval": list(median.get("intervals", {}).get(name, (float("nan"), float("nan")))),
                }
            row["rank_value"] = row[spec.rank_by]["mean"]
        rows.append(row)
    return rows


def ranked(rows: list[dict]) -> list[dict]:
    """Rows with runs, best first by the ranking metric (rank_own_runs), then rows without."""
    with_runs = rank_own_runs([r for r in rows if "rank_value" in r], "rank_value")
    return [*with_runs, *[r for r in rows if "rank_value" not in r]]


def _fmt(value: float, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"{value:.4f}" if column in ("acc", "auc") else f"{value:.1f}"


def metric_cell(cell: dict, column: str) -> str:
    mean = ("> " if cell["lower_bound"] else "") + _fmt(cell["mean"], column)
    std = "" if math.isnan(cell["std"]) else f" ± {_fmt(cell['std'], column)}"
    lo, hi = cell["median_interval"]
    limits = cell.get("limits", 0)
    partial = f" ({limits} seed(s) only a limit, not averaged)" if limits and not cell["lower_bound"] else ""
    return f"{mean}{std} [{_fmt(lo, column)}, {_fmt(hi, column)}]{partial}"


def epochs_cell(row: dict, fixed_epochs: int) -> str:
    """Mean epochs run (mean best epoch) over the seeds, "not converged" when a seed hit the maximum still
    improving; the fixed count for runs trained without validation."""
    run = [e for e in row.get("epochs_run", []) if e is not None]
    best = [e for e in row.get("best_epochs", []) if e is not None]
    if not best:
        return f"{run[0] if run else fixed_epochs} (fixed)"
    cell = f"{np.mean(run):.3g} ({np.mean(best):.3g})"
    if row.get("not_converged"):
        cell += f", not converged ({row['not_converged']} of {len(best)} seeds)"
    return cell


def significance_cell(row: dict, best: str | None, significance: dict | None) -> str:
    if best is None or "rank_value" not in row:
        return ""
    if row["model"] == best:
        return "best"
    if significance is None:
        return "pending"
    result = significance.get(row["model"])
    if result is None or math.isnan(result["p_holm"]):
        return "n/a"
    verdict = "worse" if result["worse"] else "not distinguishable"
    floor = ", floor" if result.get("at_floor") else ""
    seeds_p = result.get("p_seeds_holm", float("nan"))
    seeds = "" if math.isnan(seeds_p) else f"; seeds p={seeds_p:.2g}"
    return f"{verdict} (p={result['p_holm']:.3g}{floor}{seeds})"


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def markdown(spec, rows: list[dict], columns: dict[str, str], info: dict, significance: dict | None) -> str:
    order = ranked(rows)
    best = order[0]["model"] if order and "rank_value" in order[0] else None
    metric_cols = list(columns)
    rank_at = metric_cols.index(spec.rank_by) + 1
    header = ["rank", "model", "seeds", "params", "FLOPs/jet", *metric_cols[:rank_at], f"vs best ({spec.rank_by})",
              *metric_cols[rank_at:], "epochs (best)", "CPU-h/run", "train jets/s", "infer jets/s", "wall s/run"]
    lines = [
        "# jetzoo leaderboard",
        "",
        f"Made by: `{info['command']}`",
        "",
        f"Data: `{spec.data.name}` {json.dumps(spec.data.args, sort_keys=True)} (data hash {info['data_hash']}); "
        f"test set: its test split, {info.get('test_jets', '?')} jets; {spec.epochs} epoch(s); seeds {spec.seed_list}; "
        f"{spec.trainer.threads} CPU thread(s), torch {info['torch']}.",
        "",
        f"Ranked by {columns[spec.rank_by]}. Each metric: mean ± σ over the seeds [68% bootstrap interval of the "
        f"median run ({spec.bootstrap_resamples} resamples of the test jets)]. `vs best`: paired bootstrap on the "
        f"same test jets against the best model's seed mean ({spec.bootstrap_resamples} resamples, {ALPHA_TEXT} "
        "is \"worse\"); \"floor\": no resample favoured the model, so p is the smallest "
        f"{spec.bootstrap_resamples} resamples can give. That test is the noise of the test jets only; "
        "\"seeds p\": Welch's t-test of the per-seed values against the best's (Holm-corrected), the seed-to-seed "
        "spread, which the verdict does not include. Rejection columns: "
        + ", ".join(f"{c} = 1/eps_B of {n}" for c, n in columns.items() if c.startswith("rej"))
        + ' ("> X": no background jet passed for any seed; X is the weakest of their 84% CL limits. A seed with '
        "only a limit is left out of the mean and σ of the others' estimates, and counted beside them).",
        "FLOPs/jet: torch's FlopCounterMode on one forward pass of a test batch (matrix products and convolutions), "
        "per jet; train/infer jets/s: a fixed test batch of "
        f"{info.get('timing_batch', '?')} jets after 3 warm-up iterations (training: forward, backward, AdamW step); "
        "wall s/run: training plus prediction, bootstrap and measurements, mean over the seeds. These three are wall-clock "
        "figures taken inside the bench, beside its other workers and whatever else the machine ran: they compare "
        "models only when every run had the machine to itself (`workers: 1`, nothing else running); CPU-h/run does "
        "not depend on that.",
        (f"epochs (best): epochs trained and, in brackets, the epoch of the lowest validation loss, whose weights "
         f"were tested (means over the seeds); each run stopped after its patience (its recipe's, at least "
         f"{spec.patience or 3}) epochs without improvement, at most its recipe's maximum, capped at {spec.epochs}; "
         "\"not converged\": stopped at its maximum still improving. CPU-h/run: CPU time "
         "of the run's process and its loader workers, all threads." if getattr(spec, "patience", None) or getattr(spec, "recipes", False) else
         "epochs (best): trained a fixed number of epochs, without validation. CPU-h/run: CPU time of the run's "
         "process and its loader workers, all threads (n/a: a run made before it was recorded)."),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for rank, row in enumerate(order, 1):
        seeds = f"{len(row['seeds_ok'])}/{len(row['seeds'])}"
        if len(row["seeds"]) == 1 < len(spec.seed_list):
            seeds += " (one seed)"  # a model run once by its own `seeds` (a full-size variant): no σ
        if "rank_value" not in row:
            cells = ["–", row["model"], seeds, *[""] * (len(header) - 3)]
        else:
            metrics = [metric_cell(row[c], c) for c in metric_cols]
            model = row["model"] + "".join(f" ({p})" for p in row.get("precision", []) if p not in FP32)
            model += " (stale)" if row.get("stale") else ""
            cells = [
                str(rank), model, seeds, f"{row['params']:,}", _si(row["flops_per_jet"]), *metrics[:rank_at],
                significance_cell(row, best, significance), *metrics[rank_at:], epochs_cell(row, spec.epochs),
                "n/a" if math.isnan(row["cpu_h"]) else f"{row['cpu_h']:.2f}",
                f"{row['train_jets_per_s']:.0f}", f"{row['infer_jets_per_s']:.0f}", f"{row['wall_s']:.1f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    failed = [(row["model"], s, row["errors"][str(s)]) for row in rows for s in row["seeds_failed"]]
    if failed:
        lines += ["", "Failed runs (a re-run of the same command retries them):", "", "| model | seed | error |", "|---|---|---|"]
        lines += [f"| {m} | {s} | {e.replace('|', '/')} |" for m, s, e in failed]
    other = sorted({p for row in rows for p in row.get("precision", []) if p not in FP32})
    if other:
        lines += ["", f"({', '.join(other)}): the run trained in that precision (the model's `trainer_kwargs`), the "
                  "others in float32 (whether it matches float32's accuracy is the spec's to show: benchmarks/bf16-accuracy "
                  "for bf16-mixed). Tested in float32, as every run."]
    stale = sorted({reason for row in rows for reason in row.get("stale", [])})
    if stale:
        lines += ["", f"(stale): runs made by other code than this jetzoo ({'; '.join(stale)}); kept as they are, "
                  "re-made only with --rerun_stale true."]
    pending = sum(len(r["seeds"]) - len(r["seeds_ok"]) - len(r["seeds_failed"]) for r in rows)
    if pending:
        lines += ["", f"{pending} run(s) not finished yet: re-run the same command to continue."]
    return "\n".join(lines) + "\n"


def csv_text(rows: list[dict], columns: dict[str, str], significance: dict | None) -> str:
    fields = ["model", "name", "args", "seeds_ok", "seeds_total", "params", "flops_per_jet", "train_jets", "test_jets"]
    for c in columns:
        fields += [f"{c}_mean", f"{c}_std", f"{c}_median_lo", f"{c}_median_hi", f"{c}_lower_bound"]
    fields += ["p_holm_vs_best", "p_at_floor", "p_seeds_holm_vs_best", "worse_than_best", "train_jets_per_s", "infer_jets_per_s", "wall_s_per_run", "errors"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, lineterminator="\n")
    writer.writeheader()
    for row in ranked(rows):
        out = {"model": row["model"], "name": row["name"], "args": json.dumps(row["args"], sort_keys=True),
               "seeds_ok": len(row["seeds_ok"]), "seeds_total": len(row["seeds"]),
               "errors": json.dumps(row["errors"]) if row["errors"] else ""}
        if "rank_value" in row:
            for key in ("params", "flops_per_jet", "train_jets", "test_jets", "train_jets_per_s", "infer_jets_per_s"):
                out[key] = row[key]
            out["wall_s_per_run"] = row["wall_s"]
            for c in columns:
                cell = row[c]
                out.update({f"{c}_mean": repr(cell["mean"]), f"{c}_std": repr(cell["std"]),
                            f"{c}_median_lo": repr(cell["median_interval"][0]),
                            f"{c}_median_hi": repr(cell["median_interval"][1]), f"{c}_lower_bound": cell["lower_bound"]})
            result = (significance or {}).get(row["model"])
            if result:
                out["p_holm_vs_best"], out["worse_than_best"] = result["p_holm"], result["worse"]
                out["p_at_floor"], out["p_seeds_holm_vs_best"] = result.get("at_floor", ""), result.get("p_seeds_holm", "")
        writer.writerow(out)
    return buffer.getvalue()
