"""The tagging metrics of one set of logits: which comparisons are reported, their names, their values.

A `Comparison` is one signal class against a set of background classes in one of the two
conventions (see the package docstring); its score is a log-odds computed from the logits in
float64, which orders jets exactly as the probability ratio does but never saturates.
`evaluate` returns the named objects (`TaggingResult`, `RejectionPoint`); `resampled_values` is the
same computation for many resamplings at once, shared with the bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import logsumexp

from jetzoo.metrics.roc import rejection_from_efficiency, resampled_roc

Convention = Literal["vs_bkg", "vs_rest"]


def percent(efficiency: float) -> str:
    """0.5 -> '50', 0.995 -> '99.5': the eps_S in a metric name."""
    return f"{round(efficiency * 100, 6):g}"


@dataclass(frozen=True)
class Comparison:
    """Class `signal` against the classes `background` (indices), scored in float64 from the logits.

    vs_rest: every jet, score log(p_s / (1 - p_s)); vs_bkg: only jets of `signal` and
    `background`, score log(p_s / sum_b p_b). Both are monotone in the probability they stand for.
    """

    signal: int
    background: tuple[int, ...]
    convention: Convention

    def select(self, logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keep (N,) bool, scores of the kept jets, is_signal of the kept jets)."""
        keep = np.isin(labels, (self.signal, *self.background))
        z = logits[keep]
        score = z[:, self.signal] - logsumexp(z[:, list(self.background)], axis=1)
        return keep, score, labels[keep] == self.signal


@dataclass(frozen=True)
class RejectionPoint:
    """One reported 1/eps_B: `signal` against `background` at eps_S = `efficiency` in `convention`."""

    signal: str
    background: tuple[str, ...]
    efficiency: float
    convention: Convention
    value: float
    lower_bound: bool
    background_passing: float = float("nan")  # the count behind the value (interpolated: may be fractional)
    background_jets: int = 0

    @property
    def name(self) -> str:
        return rejection_name(self.signal, self.efficiency, self.convention)

    def __str__(self) -> str:
        return f"> {self.value:.4g}" if self.lower_bound else f"{self.value:.4g}"


def rejection_name(signal: str, efficiency: float, convention: Convention) -> str:
    """The logged name of a rejection point, e.g. rej50_top_vs_bkg, rej30_W_vs_rest."""
    return f"rej{percent(efficiency)}_{signal}_{convention}"


def auc_name(class_name: str) -> str:
    """The logged name of a class's one-vs-rest AUC (multi-class taggers)."""
    return f"auc_{class_name}"


@dataclass(frozen=True)
class TaggingPlan:
    """What is reported for the data: the comparisons (and their names) and the efficiencies."""

    class_names: tuple[str, ...]
    comparisons: tuple[Comparison, ...]
    auc_classes: tuple[int, ...]  # one-vs-rest AUC of each; the macro `auc` averages them
    signal_efficiencies: tuple[float, ...]

    def rejection_names(self) -> list[tuple[Comparison, float, str]]:
        return [
            (c, eff, rejection_name(self.class_names[c.signal], eff, c.convention))
            for c in self.comparisons
            for eff in self.signal_efficiencies
        ]


def plan_for(class_names, labels, background_classes=(), signal_efficiencies=(0.5, 0.3)) -> TaggingPlan:
    """The comparisons of classes with jets in `labels`.

    ParT-style (vs_bkg): each present non-background class against the present background
    classes. One-vs-rest (vs_rest): every present class when there are more than two classes; for
    a binary tagger only its signal class (the non-background one, else class 1). A vs_rest point
    whose score and jets equal a vs_bkg one (the background classes are all the others) is not
    repeated: a binary top-vs-QCD tagger reports rej50_top_vs_bkg only.
    """
    names = tuple(class_names)
    unknown = [b for b in background_classes if b not in names]
    if unknown:
        raise ValueError(f"background classes {unknown} are not among the classes {list(names)}")
    for eff in signal_efficiencies:
        if not 0.0 < eff <= 1.0:
            raise ValueError(f"signal efficiency {eff} is not in (0, 1]")
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(names))[: len(names)]
    present = [c for c in range(len(names)) if counts[c] > 0]
    if len(present) < 2:
        return TaggingPlan(names, (), (), tuple(signal_efficiencies))
    bkg = tuple(c for c in present if names[c] in background_classes)
    signals = [c for c in present if c not in bkg]
    comparisons = [Comparison(s, bkg, "vs_bkg") for s in signals if bkg]
    if len(names) > 2:
        rest_classes = present
    else:
        declared = [c for c in range(2) if names[c] not in background_classes]
        rest_classes = [declared[0] if len(declared) == 1 else 1]
    everything = set(range(len(names)))
    for c in rest_classes:
        if bkg and c in signals and set(bkg) | {c} == everything:
            continue  # identical to its vs_bkg point
        comparisons.append(Comparison(c, tuple(sorted(everything - {c})), "vs_rest"))
    auc_classes = tuple(present) if len(names) > 2 else (rest_classes[0],)
    return TaggingPlan(names, tuple(comparisons), auc_classes, tuple(signal_efficiencies))


@dataclass
class TaggingResult:
    """The measured metrics of one test (or validation) set."""

    jets: int
    acc: float
    auc: float | None
    auc_per_class: dict[str, float] = field(default_factory=dict)
    rejections: list[RejectionPoint] = field(default_factory=list)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> 68% bootstrap (lo, hi)

    def values(self) -> dict[str, float]:
        """name -> value of every metric (a lower-bound rejection holds its bound)."""
        out = {"acc": self.acc}
        if self.auc is not None:
            out["auc"] = self.auc
        out.update({auc_name(c): v for c, v in self.auc_per_class.items()})
        out.update({point.name: point.value for point in self.rejections})
        return out

    def scalars(self) -> dict[str, float]:
        """`values` plus, for each rejection, `<name>_lower_bound` (1.0 or 0.0): what is logged."""
        out = self.values()
        out.update({f"{point.name}_lower_bound": float(point.lower_bound) for point in self.rejections})
        return out


def as_float64(logits, labels, class_names) -> tuple[np.ndarray, np.ndarray]:
    """(float64 logits (N, C), int64 labels (N,)), checked against the C class names."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    if logits.ndim != 2 or labels.shape != (len(logits),):
        raise ValueError(f"logits {logits.shape} must be (N, classes) and labels {labels.shape} (N,)")
    if logits.shape[1] != len(class_names):
        raise ValueError(f"logits have {logits.shape[1]} columns for {len(class_names)} classes")
    if len(labels) and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must lie in 0..{logits.shape[1] - 1}, got {labels.min()}..{labels.max()}")
    if not np.isfinite(logits).all():
        raise ValueError(f"{int((~np.isfinite(logits)).any(1).sum())} jets have non-finite logits")
    return logits, labels


@dataclass
class ResampledValues:
    """(R,) values for R resamplings of the jets; rejections as eps_B, not yet inverted."""

    acc: np.ndarray
    auc: dict[int, np.ndarray]  # class index -> one-vs-rest AUC
    eps_b: dict[tuple[Comparison, float], np.ndarray]

    def macro_auc(self) -> np.ndarray | None:
        return np.mean(list(self.auc.values()), axis=0) if self.auc else None

    def by_name(self, plan: TaggingPlan) -> dict[str, np.ndarray]:
        """The logged name of each value (as `TaggingResult.scalars`, without the lower-bound flags)."""
        out = {"acc": self.acc}
        if self.auc:
            out["auc"] = self.macro_auc()
        if len(plan.class_names) > 2:
            out.update({auc_name(plan.class_names[c]): v for c, v in self.auc.items()})
        out.update({name: self.eps_b[c, eff] for c, eff, name in plan.rejection_names()})
        return out


def resampled_values(logits: np.ndarray, labels: np.ndarray, plan: TaggingPlan, draws: np.ndarray) -> ResampledValues:
    """Every metric of `plan` for each row of jet indices `draws` (R, M)."""
    acc = (logits.argmax(1) == labels)[draws].mean(1)
    rocs = {}
    for comparison in plan.comparisons:
        keep, score, is_signal = comparison.select(logits, labels)
        rocs[comparison] = resampled_roc(score, is_signal, draws, keep)
    # the one-vs-rest ROC of an AUC class: its vs_rest comparison, or the vs_bkg one it duplicates
    one_vs_rest = {k.signal: r for k, r in rocs.items() if len(k.background) == len(plan.class_names) - 1}
    auc = {c: one_vs_rest[c].auc() for c in plan.auc_classes}
    eps_b = {(c, eff): rocs[c].background_efficiency(eff) for c, eff, _ in plan.rejection_names()}
    return ResampledValues(acc, auc, eps_b)


def evaluate(logits, labels, class_names, background_classes=(), signal_efficiencies=(0.5, 0.3)) -> TaggingResult:
    """Accuracy, AUC (binary: the signal class's; multi-class: per class and their macro mean over
    present classes, one-vs-rest) and every rejection point of `plan_for`, from float64 logits."""
    logits, labels = as_float64(logits, labels, class_names)
    plan = plan_for(class_names, labels, background_classes, signal_efficiencies)
    if len(labels) == 0:
        return TaggingResult(0, float("nan"), None)
    values = resampled_values(logits, labels, plan, np.arange(len(labels))[None])
    points = []
    for comparison, eff, _ in plan.rejection_names():
        n_bkg = int(np.isin(labels, comparison.background).sum())
        rejection = rejection_from_efficiency(values.eps_b[comparison, eff][0], n_bkg)
        points.append(
            RejectionPoint(
                plan.class_names[comparison.signal], tuple(plan.class_names[b] for b in comparison.background),
                eff, comparison.convention, rejection.value, rejection.lower_bound,
                rejection.background_passing, rejection.background_jets,
            )
        )
    macro = values.macro_auc()
    per_class = {plan.class_names[c]: float(v[0]) for c, v in values.auc.items()} if len(class_names) > 2 else {}
    return TaggingResult(len(labels), float(values.acc[0]), None if macro is None else float(macro[0]), per_class, points)


def headline_rejection(class_names: list[str], background_classes: list[str]) -> tuple[str, str]:
    """(signal class, convention) of the table's rejection columns: the last non-background class
    against the background classes, or the last class one-vs-rest when none is declared."""
    signals = [c for c in class_names if c not in background_classes]
    if background_classes and signals:
        return signals[-1], "vs_bkg"
    return class_names[-1], "vs_rest"
