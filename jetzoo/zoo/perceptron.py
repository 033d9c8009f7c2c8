"""`perceptron`: one linear layer on the high-level jet features (logistic regression).

The seeds' logistic perceptron. Input: `hl` (B, num_hl_features). Output: logits (B, num_classes).
"""

from __future__ import annotations

import torch
from torch import nn

from jetzoo.zoo.base import JetTagger


class PerceptronBackbone(nn.Module):
    """Logistic regression: one linear layer on the high-level jet features.

    Input `hl` (B, num_hl_features), standardised; output logits (B, num_classes).

    Args:
        num_classes: number of classes (set from the data).
        num_hl_features: number of high-level features (set from the data).
    """

    inputs = ("hl",)
    input_view = "hl"
    exportable = True
    compile_supported = True

    def __init__(self, num_classes: int = 2, num_hl_features: int = 12):
        super().__init__()
        self.linear = nn.Linear(num_hl_features, num_classes)

    def forward(self, hl: torch.Tensor) -> torch.Tensor:
        return self.linear(hl)

    def hls4ml_network(self) -> nn.Sequential:
        """The network as plain layers, hl (B, F) -> logits, for `jetzoo export --format hls4ml`."""
        return nn.Sequential(self.linear)


class Perceptron(JetTagger):
    """`perceptron`: logistic regression, one linear layer on the high-level jet features."""

    recipe = "jetzoo-default"  # its training recipe (jetzoo/training/recipes/jetzoo-default.yaml)

    backbone_class = PerceptronBackbone
    task_defaults = {"lr": 1e-2, "weight_decay": 0.0}  # a convex problem: larger steps, no decay
