"""`rnn`: a recurrent network (GRU or LSTM) over the pT-ordered jet constituents.

The constituent-sequence tagger of Egan et al., "Long Short-Term Memory (LSTM) networks
with jet constituents for boosted top tagging at the LHC" (arXiv:1711.09059), and
Guest et al. (arXiv:1607.08633): the particles, hardest first, are read one by one by a
GRU or LSTM; the final hidden state feeds a dense head. Sequences are packed with their
true lengths (`mask.sum(1)`, at least 1), so padding never enters the recurrent state
(padding found between real particles is moved behind them first, keeping their order).

Dense path (`jetzoo.zoo.dense`: export, `torch.compile`, `dense_path = True`): real particles moved
to the front by a scatter (no sort), the cell run over the full padded sequence and the output
read at each jet's last real particle; the recurrence is causal, so that equals the packed final
state, in training mode too. A bidirectional cell has no such dense path (its backward direction
would start on the padding) and is not exportable.

Input (`particles` view): `features` (B, P, num_particle_features), `mask` (B, P) bool with
real particles first. Output: logits (B, num_classes).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from jetzoo.zoo.base import JetTagger
from jetzoo.zoo.dense import use_dense
from jetzoo.zoo.mlp import ACTIVATIONS, Activation, dense_stack

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


class ConstituentRNNBackbone(nn.Module):
    """GRU or LSTM over the pT-ordered constituents (see the module docstring for the papers and shapes).

    Args:
        num_classes: number of classes (set from the data).
        num_particle_features: features per particle (set from the data).
        cell: recurrent cell, `gru` or `lstm`.
        embed_dim: width of the per-particle embedding before the cell (0: none).
        hidden_size: hidden-state width of the cell.
        num_layers: stacked recurrent layers.
        bidirectional: also read the particles softest first (not exportable).
        rnn_dropout: dropout between stacked recurrent layers.
        dense: widths of the dense head.
        activation: activation of the embedding and the dense head.
        dropout: dropout probability in the dense head.
    """

    inputs = ("features", "mask")
    input_view = "particles"
    exportable = True  # unidirectional cells; see `export_blocker`
    compile_supported = True
    dense_path = False  # True: always the dense path (see jetzoo.zoo.dense)

    @property
    def export_blocker(self) -> str | None:
        """Why this configuration cannot be exported, or None."""
        if self.bidirectional:
            return "a bidirectional rnn has no dense path (its backward direction would read the padding first)"
        return None

    def __init__(
        self,
        num_classes: int = 2,
        num_particle_features: int = 7,
        cell: Literal["gru", "lstm"] = "gru",
        embed_dim: int = 32,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        rnn_dropout: float = 0.0,
        dense: list[int] = [64],  # noqa: B006 - jsonargparse shows the default
        activation: Activation = "relu",
        dropout: float = 0.1,
    ):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell '{cell}' ({', '.join(CELLS)})")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}' ({', '.join(ACTIVATIONS)})")
        if embed_dim > 0:
            self.embed = nn.Sequential(nn.Linear(num_particle_features, embed_dim), ACTIVATIONS[activation]())
            in_size = embed_dim
        else:
            self.embed = nn.Identity()
            in_size = num_particle_features
        self.cell, self.bidirectional = cell, bidirectional
        self.rnn = CELLS[cell](
            in_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=rnn_dropout if num_layers > 1 else 0.0,
        )
        out = hidden_size * (2 if bidirectional else 1)
        self.head = nn.Sequential(
            dense_stack(dense, out, activation, dropout),
            nn.Linear(dense[-1] if dense else out, num_classes),
        )

    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The final hidden state of the last layer (both directions concatenated): (B, out)."""
        mask = mask.bool()
        if use_dense(self) and not self.bidirectional:
            return self.encode_dense(x, mask)
        # real particles first, in their given (pT) order, should a source interleave padding
        order = (~mask).to(torch.int8).argsort(dim=1, stable=True)
        x = self.embed(torch.gather(x, 1, order.unsqueeze(-1).expand_as(x)))
        lengths = mask.sum(1).clamp_min(1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)
        h = state[0] if self.cell == "lstm" else state  # (layers * directions, B, hidden)
        if self.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=-1)
        return h[-1]

    def encode_dense(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """`encode` without packing: x (B, P, F), mask (B, P) -> (B, out)."""
        # destination of every particle: real ones first in their order, then the padding
        real = mask.to(torch.long)
        counts = real.sum(1, keepdim=True)
        dest = torch.where(mask, real.cumsum(1) - 1, counts + (1 - real).cumsum(1) - 1)
        x = torch.zeros_like(x).scatter(1, dest.unsqueeze(-1).expand_as(x), x)
        out, _ = self.rnn(self.embed(x))
        last = (counts - 1).clamp(min=0).unsqueeze(-1).expand(-1, 1, out.size(-1))
        return out.gather(1, last).squeeze(1)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.encode(features, mask))


class ConstituentRNN(JetTagger):
    """`rnn`: GRU or LSTM over the pT-ordered jet constituents (Egan et al.; Guest et al.)."""

    recipe = "jetzoo-default"  # its training recipe (jetzoo/training/recipes/jetzoo-default.yaml)

    backbone_class = ConstituentRNNBackbone
    task_defaults = {"lr": 3e-3}  # higher than the other models' default
