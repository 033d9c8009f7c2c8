"""The generative leaderboard's table (issue 22 §5): one row per generator, every metric as mean ± standard
deviation over its seeds, with the metric's own spread (its batches', or FPD's extrapolation error) in brackets,
the `truth` row (each metric between two independent real samples at the same N, averaged over the runs), the
generation time a jet on the CPU and the training CPU-hours."""

from __future__ import annotations

import json
import math
import statistics

COLUMNS = {"W1M": "w1m", "W1P": "w1p", "W1EFP": "w1efp", "FPD": "fpd", "KPD": "kpd", "two-sample AUC": "c2st_auc"}
SCALES = {"w1m": 1e3, "w1p": 1e3, "w1efp": 1e5, "fpd": 1e3, "kpd": 1e3, "c2st_auc": 1.0}  # MPGAN's units (×10⁻³ ...)


def _cell(values: list[float], errors: list[float], scale: float) -> str:
    values = [v * scale for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "–"
    mean = statistics.fmean(values)
    spread = f" ± {statistics.stdev(values):.2g}" if len(values) > 1 else ""
    own = [e * scale for e in errors if e is not None and math.isfinite(e)]
    inner = f" [{statistics.fmean(own):.2g}]" if own else ""
    return f"{mean:.3g}{spread}{inner}"


def rows(spec, records: dict) -> list[dict]:
    out = []
    for model in spec.models:
        label = spec.label(model)
        runs = [records[label, s] for s in spec.seeds_of(model) if records.get((label, s), {}).get("status") == "ok"]
        failed = [s for s in spec.seeds_of(model) if records.get((label, s), {}).get("status") == "failed"]
        out.append({"label": label, "runs": runs, "failed": failed})
    return out


def markdown(spec, records: dict, info: dict) -> str:
    table = rows(spec, records)
    ok = [r for row in table for r in row["runs"]]
    n = sorted({r["n_jets"] for r in ok})
    head = ["model", "seeds", *COLUMNS, "µs/jet (CPU)", "training CPU-h", "best epoch / run", "note"]
    lines = [
        "# Generative leaderboard", "",
        f"Command: `{info['command']}`  ", f"Data: {spec.data.name} {json.dumps(spec.data.args)}; metrics at N = "
        f"{', '.join(f'{v:,}' for v in n) or '?'} jets (generated and real), each with its truth floor in the "
        "`truth` row.", "",
        "Cells: mean ± standard deviation over seeds, [the metric's own spread]; units: W1M, W1P ×10⁻³, W1EFP ×10⁻⁵, "
        "FPD, KPD ×10⁻³ (as MPGAN and arXiv:2211.10295 report them); two-sample AUC: 0.5 is indistinguishable. "
        f"Every generator trains for at most {spec.cpu_budget_hours or 1.5} CPU-hours; its checkpoint of lowest "
        "validation W1M is tested.", "",
        "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table:
        runs = row["runs"]
        cells = [_cell([r["metrics"].get(k) for r in runs], [r["metrics"].get(f"{k}_err") for r in runs], SCALES[k])
                 for k in COLUMNS.values()]
        speed = _cell([r.get("gen_us_per_jet") for r in runs], [], 1.0)
        cpu = _cell([r.get("train_cpu_s", float("nan")) / 3600 for r in runs], [], 1.0)
        epochs = ", ".join(f"{r.get('best_epoch')}/{r.get('epochs_run')}" for r in runs) or "–"
        notes = [f"seed {s} failed" for s in row["failed"]]
        notes += ["stale"] if any(r.get("stale") for r in runs) else []
        lines.append(f"| {row['label']} | {len(runs)} | " + " | ".join(cells) + f" | {speed} | {cpu} | {epochs} | "
                     f"{'; '.join(notes)} |")
    if ok:
        floors = [_cell([r["metrics"].get(f"{k}_floor") for r in ok], [r["metrics"].get(f"{k}_err_floor") for r in ok],
                        SCALES[k]) for k in COLUMNS.values()]
        lines.append("| truth | – | " + " | ".join(floors) + " | – | – | – | real vs real, same N |")
    return "\n".join(lines) + "\n"
