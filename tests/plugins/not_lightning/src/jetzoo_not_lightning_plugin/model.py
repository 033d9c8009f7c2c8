"""A tagger written as a plain torch.nn.Module, and a datamodule that is a plain class:
neither is what the Lightning CLI can train."""

import torch
from torch import nn


class PlainTagger(nn.Module):
    input_view = "hl"
    task = "tagging"

    def __init__(self, num_hl_features: int = 12, num_classes: int = 2):
        super().__init__()
        self.linear = nn.Linear(num_hl_features, num_classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.linear(batch["hl"])


class PlainData:
    """Jets from nowhere."""
