"""Dropout with its keep mask drawn 16 bits at a time (issue 21): on the CPU, drawing a float per element
(`rand`, or the Bernoulli sampling of `F.dropout`) costs 3.3 ms per million elements on one core, a tenth of
a ParT-lite training step; one 64-bit draw gives four 16-bit lanes, 0.9 ms per million.

The drop probability is realised to 1/65536: p' = round(65536 p) / 65536 (0.1 -> 0.1000061), and the kept
entries are scaled by 1 / (1 - p'), so the expectation is kept exactly. This is the only difference from
`torch.nn.Dropout`, whose float draw realises p to 2^-24.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def keep_mask(shape: torch.Size, p: float, device: torch.device) -> tuple[torch.Tensor, float]:
    """A bool mask of `shape`, each entry True with probability 1 - p' (independently), and 1 / (1 - p')."""
    drop = round(p * 65536)
    n = math.prod(shape)
    bits = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_(-2**63, None)
    return bits.view(torch.int16)[:n].view(shape).ge(drop - 32768), 65536.0 / (65536 - drop)


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout of `x` with probability `p` (identity when not training or p = 0)."""
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    keep, scale = keep_mask(x.shape, p, x.device)
    return (x * keep.view(torch.uint8)).mul_(scale)  # a uint8 factor: 3x faster than a bool one or `where`


class Dropout(nn.Module):
    """`nn.Dropout` with the mask of `dropout`."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
