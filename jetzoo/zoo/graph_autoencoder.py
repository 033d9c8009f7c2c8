"""`gnn-autoencoder`: the particle-level graph autoencoder (GNNAE-PL) of Z. Hao, R. Kansal, J. Duarte and
N. Chernyavskaya, "Lorentz Group Equivariant Autoencoders", arXiv:2212.07347 (its strongest anomaly detector,
AUC 0.8195 for t, W, Z against g + q on JetNet30), trained on background jets only.

Architecture as the paper's appendix (reprinted in R. Kansal's thesis, github.com/rkansal47/dissertation at
fdca65a, Appendix "Model details / GNNAE"; authors' code zichunhao/gnn-jet-autoencoder at f599535):
fully connected message passing adapted from MPGAN, m_i = sum_j f_e(x_i, x_j, d_ij), x_i' = f_n(x_i, m_i), with
d_ij the squared Euclidean distance of the node features (the code's metric; the paper says the norm), the
sum over every j (self included, padded senders excluded), LeakyReLU(0.2) after every linear map; 3 layers in
the encoder and 3 in the decoder with f_e widths (50, 40, 30), (30, 30, 30), (16, 20, 30) and f_n widths (30,
15), (15, 8), (8, out); node features zero-padded to 30 first; the encoder ends in a latent of 2 per particle
(the table's dim(L) = 2 x 30), the decoder in the 3 particle features. Trained with the MSE between the input
and output particles (the PL model's loss); the anomaly score is the Chamfer distance between them (the
paper's best score for graph models). Adam, lr 1e-3 (the paper; the code's defaults differ).

Input (view "cloud"): (eta_rel, phi_rel, pT_rel) of the 30 leading particles and the mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo.generative_base import AnomalyDetector

NODE_WIDTH = 30  # node features are zero-padded to this width before the first layer
EDGE_WIDTHS = ((50, 40, 30), (30, 30, 30), (16, 20, 30))
NODE_WIDTHS = ((30, 15), (15, 8), (8,))
LEAKY = 0.2


def _mlp(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(LEAKY)]
    return nn.Sequential(*layers)


class GraphLayer(nn.Module):
    def __init__(self, in_dim: int, edge: tuple[int, ...], node: tuple[int, ...]):
        super().__init__()
        self.fe = _mlp([2 * in_dim + 1, *edge])
        self.fn = _mlp([in_dim + edge[-1], *node])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, p, f = x.shape
        d = (x.unsqueeze(2) - x.unsqueeze(1)).pow(2).sum(-1, keepdim=True)
        pairs = torch.cat([x.unsqueeze(2).expand(b, p, p, f), x.unsqueeze(1).expand(b, p, p, f), d], -1)
        messages = (self.fe(pairs) * mask[:, None, :, None]).sum(2)
        return self.fn(torch.cat([x, messages], -1))


def _stack(out_dim: int) -> nn.ModuleList:
    dims, layers = NODE_WIDTH, []
    for k, (edge, node) in enumerate(zip(EDGE_WIDTHS, NODE_WIDTHS)):
        node = (*node, out_dim) if k == len(EDGE_WIDTHS) - 1 else node
        layers.append(GraphLayer(dims, edge, node))
        dims = node[-1]
    return nn.ModuleList(layers)


def chamfer(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-jet Chamfer distance between the real particles of x and of y (B, P, F): the mean over each set of the
    squared distance to the nearest particle of the other."""
    d = (x.unsqueeze(2) - y.unsqueeze(1)).pow(2).sum(-1)
    pad = ~mask.bool()
    big = torch.finfo(d.dtype).max / 4
    d = d.masked_fill(pad[:, None, :], big).masked_fill(pad[:, :, None], big)
    n = mask.sum(1).clamp_min(1)
    near_y = torch.where(pad, 0.0, d.min(2).values).sum(1) / n
    near_x = torch.where(pad, 0.0, d.min(1).values).sum(1) / n
    return near_y + near_x


class GraphAutoencoderBackbone(nn.Module):
    """GNNAE-PL (see the module docstring). Inputs `cloud` (B, P, 3), `mask` (B, P); output the Chamfer score (B,).

    Args:
        latent_per_particle: latent features per particle (the paper's 2 or 3).
    """

    inputs = ("cloud", "mask")
    input_view = "cloud"
    exportable = False
    export_blocker = "the anomaly score is a Chamfer distance over padded pair matrices, not exported"

    def __init__(self, latent_per_particle: int = 2):
        super().__init__()
        self.encoder = _stack(latent_per_particle)
        self.decoder = _stack(3)

    def reconstruct(self, cloud: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.to(cloud.dtype)
        x = F.pad(cloud, (0, NODE_WIDTH - cloud.size(-1))) * m.unsqueeze(-1)
        for layer in self.encoder:
            x = layer(x, m)
        x = F.pad(x, (0, NODE_WIDTH - x.size(-1)))
        for layer in self.decoder:
            x = layer(x, m)
        return x * m.unsqueeze(-1)

    def forward(self, cloud: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return chamfer(cloud * mask.unsqueeze(-1).to(cloud.dtype), self.reconstruct(cloud, mask), mask)

    def loss(self, cloud: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.to(cloud.dtype).unsqueeze(-1)
        error = (self.reconstruct(cloud, mask) - cloud * m).pow(2).sum((1, 2)) / (3 * m.sum((1, 2)).clamp_min(1))
        return error.mean()


class GraphAutoencoder(AnomalyDetector):
    """`gnn-autoencoder`: the particle-level graph autoencoder GNNAE-PL (Hao, Kansal, Duarte, Chernyavskaya)."""

    backbone_class = GraphAutoencoderBackbone
    input_view = "cloud"
