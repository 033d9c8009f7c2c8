"""`mlp`: a dense network on the high-level jet features.

The hls4ml jet-tagging MLP family (e.g. widths 64-32-32 on 16 features, arXiv:1804.06913).
Input: `hl` (B, num_hl_features). Output: logits (B, num_classes).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo.base import JetTagger

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "elu": nn.ELU}
Activation = Literal["relu", "gelu", "silu", "tanh", "elu"]  # the keys of ACTIVATIONS
ACTIVATION_FUNCTIONS = {"relu": F.relu, "gelu": F.gelu, "silu": F.silu, "tanh": torch.tanh, "elu": F.elu}  # as functions


def dense_stack(widths, in_features: int, activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False):
    """Linear -> [BatchNorm] -> activation -> [Dropout] for each width; shared by dense heads."""
    layers: list[nn.Module] = []
    for width in widths:
        layers.append(nn.Linear(in_features, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_features = width
    return nn.Sequential(*layers)


class MLPBackbone(nn.Module):
    """Dense network on the high-level jet features (the hls4ml jet-tagging MLP family).

    Paper: Duarte et al., arXiv:1804.06913. Input `hl` (B, num_hl_features), standardised; output
    logits (B, num_classes). Benchmarks: benchmarks/quality_table.md.

    Args:
        num_classes: number of classes (set from the data).
        num_hl_features: number of high-level features (set from the data).
        hidden: widths of the hidden layers.
        activation: activation after every hidden layer.
        dropout: dropout probability after every hidden layer.
        batch_norm: batch normalisation after every hidden linear layer.
    """

    inputs = ("hl",)
    input_view = "hl"
    exportable = True
    compile_supported = True

    def __init__(
        self,
        num_classes: int = 2,
        num_hl_features: int = 12,
        hidden: list[int] = [64, 32, 32],  # noqa: B006 - jsonargparse shows the default
        activation: Activation = "relu",
        dropout: float = 0.0,
        batch_norm: bool = True,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}' ({', '.join(ACTIVATIONS)})")
        self.body = dense_stack(hidden, num_hl_features, activation, dropout, batch_norm)
        self.head = nn.Linear(hidden[-1] if hidden else num_hl_features, num_classes)

    def forward(self, hl: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(hl))

    def hls4ml_network(self) -> nn.Sequential:
        """The network as plain layers, hl (B, F) -> logits, for `jetzoo export --format hls4ml`."""
        return nn.Sequential(*self.body, self.head)


class MLP(JetTagger):
    """`mlp`: dense network on the high-level jet features (the hls4ml jet-tagging MLP family)."""

    recipe = "mlp-hls4ml"  # its training recipe (jetzoo/training/recipes/mlp-hls4ml.yaml)

    backbone_class = MLPBackbone
