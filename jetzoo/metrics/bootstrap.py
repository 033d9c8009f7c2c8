"""68% bootstrap intervals of every tagging metric over the test jets, vectorised over resamples.

A resample draws N of the N jets with replacement: one row of jet indices, counted into the
distinct-score bins of the jets sorted once (jetzoo.metrics.roc), in chunks of resamples of at
most 2M draws. The jets are first put in a canonical order (by label, then logits), so the
interval depends on the seed and the jets, not on the order DDP processes gathered them in.
A rejection's interval is that of eps_B, inverted: (1 / eps_B upper, 1 / eps_B lower), so a resample
with no passing background jet gives an infinite upper end, not a NaN.
"""

from __future__ import annotations

import numpy as np

from jetzoo.metrics.roc import CONFIDENCE_LEVEL
from jetzoo.metrics.tagging import as_float64, plan_for, resampled_values

MAX_DRAWS = 2_000_000
DEFAULT_RESAMPLES = 300


def bootstrap_intervals(
    logits,
    labels,
    class_names,
    background_classes=(),
    signal_efficiencies=(0.5, 0.3),
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence_level: float = CONFIDENCE_LEVEL,
) -> dict[str, tuple[float, float]]:
    """name -> (lo, hi), the central `confidence_level` percentile interval of each metric of `evaluate`."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    logits, labels = as_float64(logits, labels, class_names)
    plan = plan_for(class_names, labels, background_classes, signal_efficiencies)
    if len(labels) == 0:
        return {}
    order = np.lexsort([*logits.T, labels])
    logits, labels = logits[order], labels[order]
    rng = np.random.default_rng(seed)
    chunk = max(1, MAX_DRAWS // len(labels))
    parts = []
    for start in range(0, n_resamples, chunk):
        draws = rng.integers(0, len(labels), size=(min(chunk, n_resamples - start), len(labels)))
        parts.append(resampled_values(logits, labels, plan, draws).by_name(plan))
    rejections = {name for _, _, name in plan.rejection_names()}
    quantiles = [(1 - confidence_level) / 2, (1 + confidence_level) / 2]
    out = {}
    for name in parts[0]:
        values = np.concatenate([p[name] for p in parts])
        lo, hi = np.nanquantile(values, quantiles) if not np.isnan(values).all() else (np.nan, np.nan)
        if name in rejections:
            with np.errstate(divide="ignore"):
                lo, hi = 1.0 / hi, 1.0 / lo
        out[name] = (float(lo), float(hi))
    return out
