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


# Published rows, "published, other data" (JetNet30, not jetzoo's jets), in this table's units (W1M, W1P ×10⁻³, W1EFP
# ×10⁻⁵, FPD, KPD ×10⁻³). Read from R. Kansal's dissertation (github.com/rkansal47/dissertation @ fdca65a, which
# reprints both papers): arXiv:2106.11535 Table 2 (MPGAN; its W1P averages η_rel, φ_rel, pT_rel as jetzoo's does) and
# Table 1 (truth: 10k vs 10k real jets); arXiv:2211.10295's model table (FPD, KPD and W1M; gluon jets per the
# reprint's text, the table itself carries no jet-type label). EPiC-GAN's and PC-JeDi's JetNet30 tables could not be
# sourced here and are left out rather than guessed.
PUBLISHED = {
    "g": [
        ("MPGAN (arXiv:2106.11535 Table 2)", {"w1m": "0.7 ± 0.2", "w1p": "0.9 ± 0.3", "w1efp": "0.7 ± 0.2"}, "FPND 0.12"),
        ("truth (arXiv:2106.11535 Table 1)", {"w1m": "0.7 ± 0.2", "w1p": "0.44 ± 0.09", "w1efp": "0.62 ± 0.07"},
         "10k vs 10k real jets"),
        ("MPGAN (arXiv:2211.10295)", {"w1m": "0.54 ± 0.06", "fpd": "0.30 ± 0.06", "kpd": "-0.001 ± 0.004"}, "41 µs/jet (GPU)"),
        ("GAPT (arXiv:2211.10295)", {"w1m": "0.56 ± 0.08", "fpd": "0.66 ± 0.09", "kpd": "0.001 ± 0.005"}, "9 µs/jet (GPU)"),
        ("truth (arXiv:2211.10295)", {"w1m": "0.28 ± 0.05", "fpd": "0.08 ± 0.03", "kpd": "-0.006 ± 0.005"}, ""),
    ],
    "t": [
        ("MPGAN (arXiv:2106.11535 Table 2)", {"w1m": "0.6 ± 0.2", "w1p": "2.3 ± 0.3", "w1efp": "2 ± 1"}, "FPND 0.37"),
        ("truth (arXiv:2106.11535 Table 1)", {"w1m": "0.51 ± 0.07", "w1p": "0.55 ± 0.07", "w1efp": "1.1 ± 0.1"},
         "10k vs 10k real jets"),
    ],
    "q": [
        ("MPGAN (arXiv:2106.11535 Table 2)", {"w1m": "0.6 ± 0.2", "w1p": "4.9 ± 0.5", "w1efp": "0.7 ± 0.4"}, "FPND 0.35"),
        ("truth (arXiv:2106.11535 Table 1)", {"w1m": "0.5 ± 0.1", "w1p": "0.5 ± 0.1", "w1efp": "0.46 ± 0.04"},
         "10k vs 10k real jets"),
    ],
}


def published_rows(classes) -> list[str]:
    """The published rows of the one jet type a board trains on (none for several types or another one)."""
    classes = list(classes or [])
    if len(classes) != 1 or classes[0] not in PUBLISHED:
        return []
    lines = []
    for name, cells, note in PUBLISHED[classes[0]]:
        values = [cells.get(key, "–") for key in COLUMNS.values()]
        lines.append(f"| {name} | – | " + " | ".join(values) + f" | – | – | – | published, other data (JetNet30)"
                     f"{'; ' + note if note else ''} |")
    return lines


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
        "validation W1M is tested. µs/jet (CPU): the CPU time of sampling the N jets in batches of 1024, per jet, on "
        f"{spec.trainer.threads or 'all'} thread(s).", "",
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
        notes += [f"seed {r.get('seed')} diverged (NaN), its best epoch before tested" for r in runs if r.get("diverged")]
        lines.append(f"| {row['label']} | {len(runs)} | " + " | ".join(cells) + f" | {speed} | {cpu} | {epochs} | "
                     f"{'; '.join(notes)} |")
    if ok:
        floors = [_cell([r["metrics"].get(f"{k}_floor") for r in ok], [r["metrics"].get(f"{k}_err_floor") for r in ok],
                        SCALES[k]) for k in COLUMNS.values()]
        lines.append("| truth | – | " + " | ".join(floors) + " | – | – | – | real vs real, same N |")
    lines += published_rows(spec.data.args.get("classes"))
    return "\n".join(lines) + "\n"
