"""Tagging metrics as torchmetrics Metrics, so they sync across DDP processes.

`BackgroundRejection` is the 1/eps_B at fixed signal efficiency of the Top Tagging and
ParT tables: for class c as signal (score = its softmax probability) against all other
classes, the inverse false-positive rate at true-positive rate eps_S.
"""

from __future__ import annotations

import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat


def background_rejection(scores: torch.Tensor, is_signal: torch.Tensor, signal_efficiency: float) -> torch.Tensor:
    """1/eps_B at the score threshold that keeps `signal_efficiency` of the signal.

    Threshold = the (1 - eps_S) quantile of the signal scores (ties count as passing), as in
    an ROC curve interpolated at eps_S. Returns inf when no background passes.
    """
    sig = scores[is_signal].double()
    bkg = scores[~is_signal].double()
    if len(sig) == 0 or len(bkg) == 0:
        return torch.tensor(float("nan"))
    threshold = torch.quantile(sig, 1.0 - signal_efficiency, interpolation="lower")
    eps_b = (bkg >= threshold).double().mean()
    return 1.0 / eps_b if eps_b > 0 else torch.tensor(float("inf"), dtype=torch.float64)


class BackgroundRejection(Metric):
    """Per-class one-vs-rest background rejection 1/eps_B at the given signal efficiencies."""

    full_state_update = False
    higher_is_better = True

    def __init__(self, num_classes: int, signal_efficiencies: tuple[float, ...] = (0.5, 0.3), **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.signal_efficiencies = tuple(signal_efficiencies)
        self.add_state("probs", default=[], dist_reduce_fx="cat")
        self.add_state("target", default=[], dist_reduce_fx="cat")

    def update(self, probs: torch.Tensor, target: torch.Tensor) -> None:
        self.probs.append(probs.detach().float())
        self.target.append(target.detach())

    def compute(self) -> dict[str, torch.Tensor]:
        probs, target = dim_zero_cat(self.probs), dim_zero_cat(self.target)
        out = {}
        # binary taggers: report only the signal class (index 1), as the tables do
        classes = [1] if self.num_classes == 2 else range(self.num_classes)
        for c in classes:
            for eff in self.signal_efficiencies:
                out[f"c{c}_eff{eff}"] = background_rejection(probs[:, c], target == c, eff)
        return out


class ClassCounts(Metric):
    """Jets per true class (summed across processes): which classes a macro average may include."""

    full_state_update = False

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.add_state("counts", default=torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, probs: torch.Tensor, target: torch.Tensor) -> None:
        self.counts += torch.bincount(target.detach().long(), minlength=self.num_classes)[: self.num_classes]

    def compute(self) -> torch.Tensor:
        return self.counts
