"""The metric state of a tagger: its logits and the true labels, gathered across DDP processes."""

from __future__ import annotations

import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat


class LogitsAndLabels(Metric):
    """Concatenates (logits (B, C), labels (B,)); torchmetrics `cat`s them across processes.

    The metrics themselves are computed from the gathered float64 logits by
    `jetzoo.metrics.evaluate`, because an ROC needs every jet at once.
    """

    full_state_update = False

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.add_state("logits", default=[], dist_reduce_fx="cat")
        self.add_state("labels", default=[], dist_reduce_fx="cat")

    def update(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        if logits.ndim != 2 or logits.shape[1] != self.num_classes or labels.shape != logits.shape[:1]:
            raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} for {self.num_classes} classes")
        # half-precision logits widen to float32 losslessly; float32 and float64 are kept as they are
        self.logits.append(logits.detach().to(torch.promote_types(logits.dtype, torch.float32)))
        self.labels.append(labels.detach().long())

    def compute(self) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(self.logits, list) and not self.logits:
            return torch.zeros(0, self.num_classes), torch.zeros(0, dtype=torch.long)
        return dim_zero_cat(self.logits), dim_zero_cat(self.labels)
