"""ROC curves, AUC and 1/eps_B of one score under many resamplings of the jets at once (numpy, float64).

A resampling is one row of a (R, M) matrix of jet indices ("draws"): `arange(N)` for the measured
value, N indices drawn with replacement for a bootstrap resample. The jets are sorted once; each
row then costs one `bincount` into the distinct-score bins and one cumulative sum over them, so
hundreds of resamples stay cheap.

The ROC is built as `sklearn.metrics.roc_curve` builds it: one point per distinct score (tied
jets pass or fail together, so a tie is a straight segment), starting at (0, 0). eps_B at eps_S is
read off it as `np.interp(eps_S, tpr, fpr)` reads it: linear between the two points around eps_S,
and where the curve is vertical at exactly eps_S, its top end. AUC is the trapezoidal area
(`sklearn.metrics.roc_auc_score`: a tie counts one half).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats

# below this many passing background jets the summary says that 1/eps_B rests on few jets
MIN_PASSING_BACKGROUND = 10
CONFIDENCE_LEVEL = 0.68


@dataclass(frozen=True)
class Roc:
    """Signal (tps) and background (fps) jet counts above each distinct threshold, (R, G + 1).

    Column 0 is the (0, 0) point, then one column per distinct score, highest first; one row per
    resampling.
    """

    tps: np.ndarray
    fps: np.ndarray

    @property
    def tpr(self) -> np.ndarray:
        """The ROC's signal efficiencies (for plots); the metrics below work on the counts."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.tps / self.tps[:, -1:]

    @property
    def fpr(self) -> np.ndarray:
        """The ROC's background efficiencies (for plots)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.fps / self.fps[:, -1:]

    def auc(self) -> np.ndarray:
        """(R,) area under each ROC (trapezoids; NaN without signal or background)."""
        # sum over steps of d(fps) * (tps before + tps after) / 2, normalised by S * B
        twice_area = np.einsum("ij,ij->i", np.diff(self.fps, axis=1), self.tps[:, 1:] + self.tps[:, :-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            return twice_area / (2.0 * self.tps[:, -1] * self.fps[:, -1])

    def background_efficiency(self, signal_efficiency: float) -> np.ndarray:
        """(R,) eps_B interpolated linearly at eps_S, as np.interp(eps_S, tpr, fpr)."""
        signal, background = self.tps[:, -1].astype(np.float64), self.fps[:, -1].astype(np.float64)
        # m = the most signal jets with m / S <= eps_S, in the float division np.interp compares
        m = np.floor(signal_efficiency * signal)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where((m + 1) / signal <= signal_efficiency, m + 1, m)
            m = np.where(m / signal > signal_efficiency, m - 1, m)
        last = self.tps.shape[1] - 1
        j = np.clip((self.tps <= m[:, None]).sum(1) - 1, 0, last)  # the last point at or below eps_S
        k = np.minimum(j + 1, last)
        rows = np.arange(len(self.tps))
        with np.errstate(invalid="ignore", divide="ignore"):
            x0, x1 = self.tps[rows, j] / signal, self.tps[rows, k] / signal
            y0, y1 = self.fps[rows, j] / background, self.fps[rows, k] / background
            interpolated = (y1 - y0) / (x1 - x0) * (signal_efficiency - x0) + y0
        return np.where(j >= last, y1, interpolated)


def signal_efficiency_at(scores, is_signal, background_efficiency: float) -> float:
    """eps_S at a fixed eps_B (the anomaly-detection convention, eps_B = 1e-2 in arXiv:2212.07347): the ROC's signal
    efficiency interpolated linearly at eps_B (np.interp over the ROC's points, highest score first)."""
    roc = resampled_roc(scores, is_signal)
    return float(np.interp(background_efficiency, roc.fpr[0], roc.tpr[0]))


def resampled_roc(scores, is_signal, draws: np.ndarray | None = None, keep: np.ndarray | None = None) -> Roc:
    """The ROC of `scores` for each row of `draws` (R, M) of jet indices (default: every jet once).

    `keep` (N,) bool marks the jets of this comparison: `scores` and `is_signal` are those of the
    kept jets, `draws` index all N jets, and drawn jets outside `keep` are not counted.
    """
    scores = np.asarray(scores, dtype=np.float64)
    is_signal = np.asarray(is_signal, dtype=bool)
    if scores.ndim != 1 or scores.shape != is_signal.shape:
        raise ValueError(f"scores {scores.shape} and is_signal {is_signal.shape} must be equal 1-d shapes")
    if np.isnan(scores).any():
        raise ValueError(f"{int(np.isnan(scores).sum())} NaN scores: no ROC")
    if keep is None:
        keep = np.ones(len(scores), dtype=bool)
    if draws is None:
        draws = np.arange(len(keep))[None]
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    group = np.empty(len(scores), dtype=np.int64)  # the rank of each kept jet's distinct score
    group[order] = np.cumsum(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]]) - 1 if len(scores) else []
    n_groups = int(group.max()) + 1 if len(scores) else 0
    # bins per row: background groups, signal groups, then one for jets outside the comparison
    code = np.full(len(keep), 2 * n_groups, dtype=np.int64)
    code[keep] = group + n_groups * is_signal
    width = 2 * n_groups + 1
    bins = code[draws] + width * np.arange(len(draws))[:, None]
    counts = np.bincount(bins.ravel(), minlength=width * len(draws)).reshape(len(draws), width)
    tps, fps = np.zeros((2, len(draws), n_groups + 1), dtype=counts.dtype)
    np.cumsum(counts[:, n_groups : 2 * n_groups], axis=1, out=tps[:, 1:])
    np.cumsum(counts[:, :n_groups], axis=1, out=fps[:, 1:])
    return Roc(tps, fps)


def clopper_pearson_upper(passing: float, total: int, confidence_level: float = CONFIDENCE_LEVEL) -> float:
    """Upper end of the central Clopper-Pearson interval on an efficiency (passing may be fractional).

    The 68% interval's upper end is the one-sided 84% upper limit: Beta(0.84; k + 1, n - k).
    """
    if total <= 0:
        return float("nan")
    if passing >= total:
        return 1.0
    return float(scipy.stats.beta.ppf(0.5 + confidence_level / 2, passing + 1, total - passing))


@dataclass(frozen=True)
class Rejection:
    """1/eps_B, the estimate, whenever a background jet passes; when none passes (eps_B = 0, an infinite
    estimate) `lower_bound` is set and `value` is 1 / the one-sided Clopper-Pearson upper limit on eps_B
    at LIMIT_LEVEL. The rule depends only on whether any background jet passes, so it never switches
    between an estimate and a bound on a fluctuation of a handful of jets."""

    value: float
    lower_bound: bool
    background_passing: float  # interpolated, so possibly fractional
    background_jets: int

    def __str__(self) -> str:
        return f"> {self.value:.4g}" if self.lower_bound else f"{self.value:.4g}"


# the one-sided level of the limit printed when no background jet passes: the upper end of the
# central 68% Clopper-Pearson interval, i.e. an 84% one-sided upper limit on eps_B
LIMIT_LEVEL = 0.5 + CONFIDENCE_LEVEL / 2


def rejection_from_efficiency(eps_b: float, background_jets: int) -> Rejection:
    """The reported 1/eps_B for a measured eps_B over `background_jets` jets."""
    passing = float(eps_b) * background_jets
    if not np.isfinite(passing) or background_jets == 0:
        return Rejection(float("nan"), False, passing, background_jets)
    if passing <= 0:
        return Rejection(1.0 / clopper_pearson_upper(0.0, background_jets), True, passing, background_jets)
    return Rejection(1.0 / float(eps_b), False, passing, background_jets)


def background_rejection(scores, is_signal, signal_efficiency: float) -> Rejection:
    """1/eps_B at `signal_efficiency` of one score (higher = more signal-like), with its lower-bound rule."""
    if not 0.0 < signal_efficiency <= 1.0:
        raise ValueError(f"signal efficiency {signal_efficiency} is not in (0, 1]")
    is_signal = np.asarray(is_signal, dtype=bool)
    if is_signal.all() or not is_signal.any():
        return Rejection(float("nan"), False, float("nan"), int((~is_signal).sum()))
    eps_b = resampled_roc(scores, is_signal).background_efficiency(signal_efficiency)[0]
    return rejection_from_efficiency(eps_b, int((~is_signal).sum()))
