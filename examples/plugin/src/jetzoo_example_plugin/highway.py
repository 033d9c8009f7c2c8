"""`highway`: a highway network (Srivastava et al., arXiv:1505.00387) on high-level jet features.

Input: `hl` (B, num_hl_features). Output: logits (B, num_classes). It subclasses jetzoo's
tagger contract, so it gets the same loss, optimiser, metrics and tests as the built-ins.
"""

import torch
from torch import nn

from jetzoo.zoo.base import JetTagger


class HighwayTagger(JetTagger):
    input_view = "hl"

    def __init__(
        self,
        num_classes: int = 2,
        num_hl_features: int = 12,
        width: int = 64,
        depth: int = 3,
        class_names: list[str] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: str = "cosine",
    ):
        super().__init__(num_classes, class_names, lr, weight_decay, scheduler)
        self.save_hyperparameters()
        self.embed = nn.Linear(num_hl_features, width)
        self.transforms = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.gates = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.head = nn.Linear(width, num_classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = torch.relu(self.embed(batch["hl"]))
        for transform, gate in zip(self.transforms, self.gates):
            g = torch.sigmoid(gate(x))
            x = g * torch.relu(transform(x)) + (1 - g) * x
        return self.head(x)
