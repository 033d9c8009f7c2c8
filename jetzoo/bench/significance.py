"""Is a model worse than the best one, beyond the noise of the test set? A paired bootstrap, Holm-corrected.

Every resample draws N of the N test jets with replacement, the same draw for every run (the
runs predict the same jets, in the same order): the pairing. For each model the metric of a
resample is the mean over its seeds of that resample's metric, so the test compares the seed
means the table shows. For a rejection 1/eps_B the seed mean of eps_B is compared (the same
ordering, and finite where a resample passes no background jet). The p-value of "model differs
from the best" is two-sided, p = min(1, 2 min(P(d <= 0), P(d >= 0))) with the add-one rule
((k + 1) / (R + 1)), d the best's minus the model's metric (oriented so d > 0 means the best is
better); the m = (models - 1) p-values are then Holm-corrected (step-down: p_(i) * (m - i + 1),
made monotone). A model is "worse" when its corrected p < 0.05.

When no resample favours the model (min(P(d <= 0), P(d >= 0)) has k = 0), p is the smallest the
resample count can give, 2 / (R + 1): "at_floor", so the table does not read it as a measured p.

The paired bootstrap is the noise of the test jets only. How much a model moves from seed to seed
is a different question, tested by `seed_welch`: Welch's t-test (scipy) of the model's per-seed
metric against the best's, Holm-corrected the same way. It is shown beside the verdict, not in it.
"""

from __future__ import annotations

import numpy as np

from jetzoo.metrics.bootstrap import MAX_DRAWS
from jetzoo.metrics.tagging import as_float64, plan_for, resampled_values

ALPHA = 0.05


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values (family-wise error control), same keys."""
    order = sorted(pvalues, key=lambda k: pvalues[k])
    m, running, out = len(order), 0.0, {}
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * pvalues[key]))
        out[key] = running
    return out


def paired_bootstrap(
    runs: dict[str, list[dict]], metric_name: str, best: str, higher_is_better: bool, n_resamples: int = 1000, seed: int = 0
) -> dict[str, dict]:
    """model -> {"p": raw p, "p_holm": corrected, "worse": bool} for every model but `best`.

    `runs[model]` is a list of {"logits", "labels", "class_names", "background_classes",
    "signal_efficiencies"} (its seeds); `metric_name` is an `evaluate` name (auc, acc, rej30_top_vs_bkg).
    """
    first = runs[best][0]
    labels = np.asarray(first["labels"]).astype(np.int64)
    for model, items in runs.items():
        for item in items:
            if not np.array_equal(np.asarray(item["labels"]), labels):
                raise ValueError(f"{model}: its test jets differ from {best}'s: no paired test")
    prepared = {}
    for model, items in runs.items():
        prepared[model] = []
        for item in items:
            logits, lab = as_float64(item["logits"], item["labels"], item["class_names"])
            plan = plan_for(item["class_names"], lab, item["background_classes"], item["signal_efficiencies"])
            prepared[model].append((logits, lab, plan))
    rng = np.random.default_rng(seed)
    n = len(labels)
    chunk = max(1, MAX_DRAWS // max(n, 1))
    per_model = {m: [] for m in runs}
    for start in range(0, n_resamples, chunk):
        draws = rng.integers(0, n, size=(min(chunk, n_resamples - start), n))
        for model, items in prepared.items():
            values = [resampled_values(lg, lb, pl, draws).by_name(pl)[metric_name] for lg, lb, pl in items]
            per_model[model].append(np.mean(values, axis=0))
    series = {m: np.concatenate(v) for m, v in per_model.items()}
    # rejections arrive as eps_B: lower is better
    is_rejection = metric_name.startswith("rej")
    sign = -1.0 if is_rejection else (1.0 if higher_is_better else -1.0)
    raw, floor = {}, {}
    for model in runs:
        if model == best:
            continue
        d = sign * (series[best] - series[model])
        d = d[~np.isnan(d)]
        if len(d) == 0:
            raw[model] = float("nan")
            continue
        le, ge = (d <= 0).sum(), (d >= 0).sum()
        raw[model] = float(min(1.0, 2 * min((le + 1) / (len(d) + 1), (ge + 1) / (len(d) + 1))))
        floor[model] = bool(min(le, ge) == 0)
    finite = {k: v for k, v in raw.items() if np.isfinite(v)}
    adjusted = holm(finite)
    out = {}
    for model in runs:
        if model == best:
            continue
        p_holm = adjusted.get(model, float("nan"))
        out[model] = {"p": raw[model], "p_holm": p_holm, "worse": bool(p_holm < ALPHA), "at_floor": floor.get(model, False)}
    return out


def seed_welch(per_seed: dict[str, list[float]], best: str) -> dict[str, float]:
    """model -> Holm-corrected two-sided p of Welch's t-test of its per-seed metric values against the
    best's (scipy.stats.ttest_ind, unequal variances); models with fewer than 2 seeds (or no spread
    anywhere) are left out."""
    from scipy.stats import ttest_ind

    raw = {}
    for model, values in per_seed.items():
        if model == best or len(values) < 2 or len(per_seed[best]) < 2:
            continue
        p = ttest_ind(per_seed[best], values, equal_var=False).pvalue
        if np.isfinite(p):
            raw[model] = float(p)
    return holm(raw)
