"""Anomaly-detection metrics (issue 22 §4), in the convention of arXiv:2212.07347 (Table 3): for each signal class
against the background classes a detector was trained on, the AUC of the anomaly score and the signal efficiency
eps_S at a background efficiency eps_B = 1e-2; and the baseline a learned detector must beat: the best single
observable among the jet mass, tau21 and tau32, each taken in whichever direction separates that signal class
better (a top or W jet is heavier than a QCD jet, but more two- or three-pronged: lower tau21, tau32)."""

from __future__ import annotations

import numpy as np

from jetzoo.metrics.roc import resampled_roc, signal_efficiency_at

BACKGROUND_EFFICIENCY = 1e-2
BASELINE_OBSERVABLES = {"mass": "j_mass", "tau21": "j_tau21_b1", "tau32": "j_tau32_b1"}


def _auc(scores: np.ndarray, is_signal: np.ndarray) -> float:
    return float(resampled_roc(scores, is_signal).auc()[0])


def per_signal_class(scores: np.ndarray, labels: np.ndarray, class_names: list[str], background: list[str]):
    """(name, scores, is_signal) of every signal class present, each against all the background jets."""
    labels = np.asarray(labels)
    is_bkg = np.isin(labels, [i for i, c in enumerate(class_names) if c in background])
    for c, name in enumerate(class_names):
        if name in background:
            continue
        sel = is_bkg | (labels == c)
        is_sig = labels[sel] == c
        if is_sig.any() and not is_sig.all():
            yield name, np.asarray(scores)[sel], is_sig


def anomaly_report(scores, labels, class_names, background) -> dict[str, float]:
    """{auc_<c>, eps_s_<c>} of the anomaly scores (higher: more anomalous) for every signal class c."""
    out = {}
    for name, s, is_sig in per_signal_class(scores, labels, class_names, background):
        out[f"auc_{name}"] = _auc(s, is_sig)
        out[f"eps_s_{name}"] = signal_efficiency_at(s, is_sig, BACKGROUND_EFFICIENCY)
    return out


def single_observable_baseline(hl: np.ndarray, hl_names: list[str], labels, class_names, background) -> dict:
    """For every signal class c: the best of mass, tau21, tau32 in its better direction, by AUC, as
    {baseline_auc_<c>, baseline_eps_s_<c>, baseline_<c>: "mass" / "-tau32" ...} (a minus: lower is more anomalous)."""
    out: dict = {}
    columns = {name: hl[:, hl_names.index(column)] for name, column in BASELINE_OBSERVABLES.items() if column in hl_names}
    if not columns:
        raise ValueError(f"none of {', '.join(BASELINE_OBSERVABLES.values())} among the high-level features "
                         f"({', '.join(hl_names)}): no single-observable baseline")
    candidates = {f"{sign}{name}": (1.0 if sign == "" else -1.0) * values
                  for name, values in columns.items() for sign in ("", "-")}
    for c in [n for n in class_names if n not in background]:
        best = None
        for label, values in candidates.items():
            for name, s, is_sig in per_signal_class(values, labels, class_names, background):
                if name != c:
                    continue
                auc = _auc(s, is_sig)
                if best is None or auc > best[1]:
                    best = (label, auc, signal_efficiency_at(s, is_sig, BACKGROUND_EFFICIENCY))
        if best is not None:
            out[f"baseline_{c}"], out[f"baseline_auc_{c}"], out[f"baseline_eps_s_{c}"] = best
    return out
