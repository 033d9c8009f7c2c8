"""`interaction-net`: the JEDI-net interaction network for jet tagging.

Moreno et al., "JEDI-net: a jet identification algorithm based on interaction networks"
(arXiv:1908.05318), after Battaglia et al. (arXiv:1612.00222). The particles of a jet form a
fully connected directed graph. For each ordered pair (receiver r, sender s), r != s, the
edge network f_R maps the concatenated features [x_r, x_s] to an edge vector e_rs; the edge
vectors are summed into each receiver, ē_r = Σ_s e_rs; the node network f_O maps [x_r, ē_r]
to o_r; the o_r are summed over the particles and the classifier φ_C gives the logits.

The graph is built densely as (B, P, P) pairs: pairs with a padded end and self-pairs are
masked out, so the output is invariant under permutations of the real particles and under
appending padding. The first f_R layer is applied as W_r x_r + W_s x_s (the same linear map
on the concatenation) so the pair tensor is only formed at the hidden width. Cost grows as
P^2: `max_particles` keeps the hardest particles, chosen by pT from `p4` (not by position,
so the choice does not depend on the particle order); 0 keeps all. While tracing (ONNX export),
where P is a constant to Python, `max_particles` padded particles are appended and the selection
always runs, which keeps the same real particles.

Input (`particles` view): `features` (B, P, num_particle_features), `p4` (B, P, 4), `mask`
(B, P) bool. Output: logits (B, num_classes).
"""

from __future__ import annotations

import torch
from torch import nn

from jetzoo.physics import kinematics
from jetzoo.zoo.base import JetTagger
from jetzoo.zoo.dense import tracing
from jetzoo.zoo.mlp import ACTIVATIONS, Activation, dense_stack


class InteractionNetworkBackbone(nn.Module):
    """JEDI-net interaction network on all particle pairs (see the module docstring).

    Args:
        num_classes: number of classes (set from the data).
        num_particle_features: features per particle (set from the data).
        edge_sizes: widths of the edge network f_R (the last is the edge dimension D_e).
        node_sizes: widths of the node network f_O (the last is D_o).
        classifier_sizes: hidden widths of the classifier φ_C.
        activation: activation of every network.
        dropout: dropout probability in the classifier.
        max_particles: the hardest particles kept (cost grows as P^2); 0 keeps all.
    """

    inputs = ("features", "p4", "mask")
    input_view = "particles"
    permutation_invariant = True
    exportable = True
    compile_supported = True

    def __init__(
        self,
        num_classes: int = 2,
        num_particle_features: int = 7,
        edge_sizes: list[int] = [64, 32, 16],  # noqa: B006 - f_R widths, the last is D_e
        node_sizes: list[int] = [64, 32, 16],  # noqa: B006 - f_O widths, the last is D_o
        classifier_sizes: list[int] = [64, 32],  # noqa: B006 - φ_C hidden widths
        activation: Activation = "relu",
        dropout: float = 0.0,
        max_particles: int = 30,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}' ({', '.join(ACTIVATIONS)})")
        if not edge_sizes or not node_sizes:
            raise ValueError("edge_sizes and node_sizes need at least one layer each")
        if max_particles < 0:
            raise ValueError(f"max_particles must be >= 0 (0 keeps all), got {max_particles}")
        self.max_particles = max_particles
        nf = num_particle_features
        # f_R: first layer split into receiver and sender halves, then the remaining layers
        self.edge_receiver = nn.Linear(nf, edge_sizes[0])
        self.edge_sender = nn.Linear(nf, edge_sizes[0], bias=False)
        self.edge_act = ACTIVATIONS[activation]()
        self.edge_rest = dense_stack(edge_sizes[1:], edge_sizes[0], activation)
        # f_O on [x_r, ē_r]
        self.node_net = dense_stack(node_sizes, nf + edge_sizes[-1], activation)
        # φ_C on Σ_r o_r
        self.classifier = nn.Sequential(
            dense_stack(classifier_sizes, node_sizes[-1], activation, dropout),
            nn.Linear(classifier_sizes[-1] if classifier_sizes else node_sizes[-1], num_classes),
        )

    def _select(self, x: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features and mask of the `max_particles` hardest real particles (all when 0 or fewer exist)."""
        mask = mask.bool()
        k = self.max_particles
        if k > 0 and tracing():
            x, p4 = (torch.nn.functional.pad(t, (0, 0, 0, k)) for t in (x, p4))
            mask = torch.nn.functional.pad(mask, (0, k))
        elif k == 0 or x.shape[1] <= k:
            return x, mask
        pt = kinematics.pt(p4)
        score = torch.where(mask, pt, torch.full_like(pt, -1.0))
        idx = score.topk(k, dim=1).indices
        x = torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        return x, torch.gather(mask, 1, idx)

    def forward(self, features: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x, mask = self._select(features, p4, mask)
        n = x.shape[1]
        # pair (r, s): both real, r != s
        position = torch.arange(n, device=x.device)
        other = position[:, None] != position[None, :]  # not torch.eye: onnxruntime has no bool EyeLike
        pair = (mask.unsqueeze(2) & mask.unsqueeze(1) & other).unsqueeze(-1).to(x.dtype)  # (B, P, P, 1)
        h = self.edge_receiver(x).unsqueeze(2) + self.edge_sender(x).unsqueeze(1)  # (B, r, s, H)
        e = self.edge_rest(self.edge_act(h))
        e_bar = (e * pair).sum(2)  # aggregate senders into each receiver: (B, P, D_e)
        o = self.node_net(torch.cat([x, e_bar], dim=-1))
        o_sum = (o * mask.unsqueeze(-1).to(o.dtype)).sum(1)  # (B, D_o)
        return self.classifier(o_sum)


class InteractionNetwork(JetTagger):
    """`interaction-net`: the JEDI-net interaction network on all particle pairs (Moreno et al.)."""

    recipe = "jedi-net"  # its training recipe (jetzoo/training/recipes/jedi-net.yaml)

    backbone_class = InteractionNetworkBackbone
