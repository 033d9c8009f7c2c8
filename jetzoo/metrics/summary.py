"""The test summary jetzoo prints: each metric, "> X" for a lower bound, and its bootstrap interval."""

from __future__ import annotations

from jetzoo.metrics.roc import CONFIDENCE_LEVEL, MIN_PASSING_BACKGROUND
from jetzoo.metrics.tagging import TaggingResult


def format_summary(result: TaggingResult, stage: str, n_resamples: int) -> str:
    """Lines `stage/name  value  [lo, hi]`; a lower-bound rejection shows as "> X"."""
    bounds = {p.name for p in result.rejections if p.lower_bound}
    values = result.values()
    width = max((len(f"{stage}/{k}") for k in values), default=0)
    level = round(CONFIDENCE_LEVEL * 100)
    lines = [f"jetzoo: {stage} metrics on {result.jets} jets, [{level}% bootstrap interval over {n_resamples} resamples]:"]
    for name, value in values.items():
        shown = f"> {value:.4g}" if name in bounds else f"{value:.4g}"
        lo, hi = result.intervals.get(name, (float("nan"), float("nan")))
        lines.append(f"  {f'{stage}/{name}':<{width}}  {shown:>10}  [{lo:.4g}, {hi:.4g}]")
    if bounds:
        lines.append(
            f"  > X: fewer than {MIN_PASSING_BACKGROUND} background jets pass; X = 1 / the upper end of the "
            f"{level}% Clopper-Pearson interval on eps_B"
        )
    return "\n".join(lines)
