"""The test summary jetzoo prints: each metric's estimate, its bootstrap interval with the level stated
and, for a rejection 1/eps_B, the count of background jets behind it.

    jetzoo: test metrics on 3,982 jets (68% bootstrap intervals over 300 resamples of the test jets)
      test/acc                  0.9238  [0.9194, 0.9278]
      test/rej50_top_vs_bkg        246  [165, 389]  from 8.0 of 1,970 background jets
      test/rej30_top_vs_bkg      > 426  84% CL limit: no background jet of 1,970 passes

The interval is the bootstrap's, not Clopper-Pearson's: the count above a threshold is interpolated
(fractional) and the threshold itself moves with the resampled jets, which only the bootstrap sees.
"""

from __future__ import annotations

import os

from jetzoo.metrics.roc import CONFIDENCE_LEVEL, LIMIT_LEVEL, MIN_PASSING_BACKGROUND
from jetzoo.metrics.tagging import TaggingResult


VERBOSE_ENV = "JETZOO_VERBOSE"  # set by --verbose, inherited by DDP ranks and loader workers


def lightning_table_too() -> bool:
    """Whether Lightning's own table of every logged test key (`_lo`, `_hi`, `_lower_bound`...) is printed
    after jetzoo's summary: only with --verbose. jetzoo's one table is the one to read."""
    return os.environ.get(VERBOSE_ENV) == "1"


def _count(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"


def format_summary(result: TaggingResult, stage: str, n_resamples: int) -> str:
    """Lines `name  value  [lo, hi]`, a rejection followed by its background count; a limit as "> X"."""
    points = {p.name: p for p in result.rejections}
    values = result.values()
    width = max((len(f"{stage}/{k}") for k in values), default=0)
    level = round(CONFIDENCE_LEVEL * 100)
    lines = [
        f"jetzoo: {stage} metrics on {result.jets:,} jets ({level}% bootstrap intervals over {n_resamples} "
        f"resamples of the {stage} jets)"
    ]
    few = []
    for name, value in values.items():
        point, label = points.get(name), f"{stage}/{name}"
        if point is not None and point.lower_bound:
            lines.append(
                f"  {label:<{width}}  {'> ' + format(value, '.4g'):>9}  {round(LIMIT_LEVEL * 100)}% CL limit: "
                f"no background jet of {point.background_jets:,} passes"
            )
            continue
        lo, hi = result.intervals.get(name, (float("nan"), float("nan")))
        line = f"  {label:<{width}}  {value:>9.4g}  [{lo:.4g}, {hi:.4g}]"
        if point is not None:
            line += f"  from {_count(point.background_passing)} of {point.background_jets:,} background jets"
            if point.background_passing < MIN_PASSING_BACKGROUND:
                few.append(name)
        lines.append(line)
    if few:
        lines.append(
            f"  {', '.join(f'{stage}/{n}' for n in few)}: fewer than {MIN_PASSING_BACKGROUND} background jets pass; test on more jets "
            "for a rejection to rest on"
        )
    return "\n".join(lines)
