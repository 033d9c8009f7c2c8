"""The anomaly-detection leaderboard's table (issue 22 §4-5): per signal class the AUC and εS at εB = 10⁻² of every
detector (mean ± standard deviation over its seeds), the single-observable `baseline` row a learned detector must
beat (computed on the same test jets), and the published rows of arXiv:2212.07347, marked as other data."""

from __future__ import annotations

import json
import math
import statistics

# arXiv:2212.07347 (Hao, Kansal, Duarte, Chernyavskaya), JetNet30 with a g+q background: per-class AUCs from its ROC
# figure's legends (R. Kansal's thesis, figures/06-ML4Jets/lgae/anomaly/roc_curves-cnnae.pdf), the combined
# t+W+Z signal's AUC and εS(εB = 10⁻²) from its Table 3 (tab:06_lgae_ad).
PUBLISHED = [
    ("LGAE-Mix, τ=2", {"auc_t": 0.8669, "auc_W": 0.7489, "auc_Z": 0.7909}, "combined AUC 0.8023, εS 0.1662"),
    ("GNNAE-PL, 2×30", {"auc_t": 0.8917, "auc_W": 0.7558, "auc_Z": 0.7805}, "combined AUC 0.8195, εS 0.0564"),
    ("CNNAE, 55", {"auc_t": 0.8962, "auc_W": 0.6886, "auc_Z": 0.7247}, "combined AUC 0.7700, εS 0.0469"),
]
PUBLISHED_SOURCE = "arXiv:2212.07347 Table 3 and its ROC figure (JetNet30, g+q background)"


def signal_classes(records: list[dict]) -> list[str]:
    names: list[str] = []
    for record in records:
        for key in record.get("metrics", {}):
            if key.startswith("auc_") and key[4:] not in names:
                names.append(key[4:])
    return names


def _cell(values: list[float | None], digits: int = 3) -> str:
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "–"
    spread = f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""
    return f"{statistics.fmean(values):.{digits}f}{spread}"


def columns(records: list[dict]) -> dict[str, str]:
    """{header: metric key}: AUC then εS for every signal class found in the records."""
    out = {}
    for c in signal_classes(records):
        out[f"AUC {c}"] = f"auc_{c}"
        out[f"εS {c}"] = f"eps_s_{c}"
    return out


def markdown(spec, records: dict, info: dict) -> str:
    ok_all = [r for r in records.values() if r.get("status") == "ok"]
    cols = columns(ok_all)
    head = ["model", "seeds", *cols, "epochs (best)", "CPU-h/run", "note"]
    background = sorted({c for r in ok_all for c in r.get("train_classes", [])})
    test_jets = next((f"{r['test_jets']:,}" for r in ok_all), "?")
    lines = [
        "# Anomaly-detection leaderboard", "",
        f"Command: `{info['command']}`  ", f"Data: {spec.data.name} {json.dumps(spec.data.args)}; trained on "
        f"{', '.join(background) or 'the background classes'} only; {test_jets} test jets.", "",
        "Cells: mean ± standard deviation over seeds. AUC of the anomaly score for each signal class against all the "
        "background jets; εS: the signal efficiency at a background efficiency εB = 10⁻² (arXiv:2212.07347's "
        "convention). `baseline`: the best single observable among the jet mass, τ21 and τ32, in its better "
        "direction for that class (a minus: lower is more anomalous), on the same test jets: the row a learned "
        "detector must beat.", "",
        "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model in spec.models:
        label = spec.label(model)
        runs = [records[label, s] for s in spec.seeds_of(model) if records.get((label, s), {}).get("status") == "ok"]
        failed = [s for s in spec.seeds_of(model) if records.get((label, s), {}).get("status") == "failed"]
        cells = [_cell([r["metrics"].get(k) for r in runs]) for k in cols.values()]
        epochs = ", ".join(f"{r.get('epochs_run')} ({r.get('best_epoch')})" for r in runs) or "–"
        cpu = _cell([r.get("train_cpu_s", float("nan")) / 3600 for r in runs], 2)
        notes = [f"seed {s} failed" for s in failed]
        notes += [f"not converged ({sum(r.get('converged') is False for r in runs)} of {len(runs)})"] \
            if any(r.get("converged") is False for r in runs) else []
        notes += ["stale"] if any(r.get("stale") for r in runs) else []
        lines.append(f"| {label} | {len(runs)} | " + " | ".join(cells) + f" | {epochs} | {cpu} | {'; '.join(notes)} |")
    if ok_all:
        first = ok_all[0]["metrics"]  # the same test jets in every run: one baseline
        cells = []
        for key in cols.values():
            value, observable = first.get(f"baseline_{key}"), first.get(f"baseline_{key.removeprefix('auc_').removeprefix('eps_s_')}")
            cells.append(f"{value:.3f} ({observable})" if value is not None else "–")
        lines.append("| baseline | – | " + " | ".join(cells) + " | – | – | best of mass, τ21, τ32 |")
    for name, values, note in PUBLISHED:
        cells = [f"{values[k]:.3f}" if k in values else "–" for k in cols.values()]
        lines.append(f"| {name} | – | " + " | ".join(cells) + f" | – | – | published, other data: {note} |")
    lines += ["", f"Published rows: {PUBLISHED_SOURCE}; their signal classes are t, W and Z."]
    return "\n".join(lines) + "\n"
