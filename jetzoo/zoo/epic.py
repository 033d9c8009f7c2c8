"""EPiC layers: equivariant point-cloud layers with a global latent vector (deep sets), and the EPiC velocity
network of `epic-fm`.

Papers: E. Buhmann, G. Kasieczka and J. Thaler, "EPiC-GAN: Equivariant Point Cloud Generation for Particle Jets",
arXiv:2301.08128, §3 and Fig. 1 (the layer); E. Buhmann et al., "EPiC-ly Fast Particle Cloud Generation with
Flow-Matching and Diffusion", arXiv:2310.00049 (the layer in the velocity network of a continuous normalising
flow). The configuration is the authors' (github.com/uhh-pd-ml/EPiC-FM at 09294eb,
configs/model/flow_matching.yaml and src/models/components/epic.py): 6 EPiC layers, particle width 128,
global width 10, weight normalisation on every linear map, leaky ReLU (slope 0.01), masked pooling as the
mean and 0.01 x the sum over real particles, and the time embedding and the conditions concatenated to the
input of every linear map.

An EPiC layer updates the global vector g (B, G) from the pooled particles and g, then every particle h_i
(B, P, H) from (h_i, g'), with residual connections (c: the time embedding and the conditions):

    g' = act(W_g2 [act(W_g1 [0.01 sum_i h_i, mean_i h_i, g, c]), c] + g)
    h_i' = act(W_l2 [act(W_l1 [h_i, g', c]), c] + h_i)

Nothing couples two particles but the pools: the network is permutation equivariant, linear in the particles.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


def _linear(n_in: int, n_out: int) -> nn.Module:
    return weight_norm(nn.Linear(n_in, n_out))


class EPiCLayer(nn.Module):
    """One EPiC layer; `sum_scale` weighs the sum pool (EPiC-FM 0.01, EPiC-GAN 1)."""

    def __init__(self, hidden: int, global_dim: int, cond_dim: int, sum_scale: float = 1e-2):
        super().__init__()
        self.sum_scale = sum_scale
        self.global1 = _linear(2 * hidden + global_dim + cond_dim, hidden)
        self.global2 = _linear(hidden + cond_dim, global_dim)
        self.local1 = _linear(hidden + global_dim + cond_dim, hidden)
        self.local2 = _linear(hidden + cond_dim, hidden)

    def forward(self, h: torch.Tensor, g: torch.Tensor, cond: torch.Tensor, mask: torch.Tensor):
        """h (B, P, H), g (B, G), cond (B, C), mask (B, P) float; padded rows of h stay zero."""
        p = h.size(1)
        g = F.leaky_relu(self.global2(torch.cat([F.leaky_relu(self.global1(torch.cat([pool(h, mask, self.sum_scale), g,
                                                                                       cond], -1))),
                                                 cond], -1)) + g)
        c = cond.unsqueeze(1).expand(-1, p, -1)
        local = F.leaky_relu(self.local1(torch.cat([h, g.unsqueeze(1).expand(-1, p, -1), c], -1)))
        h = F.leaky_relu(self.local2(torch.cat([local, c], -1)) + h)
        return h * mask.unsqueeze(-1), g


def pool(h: torch.Tensor, mask: torch.Tensor, sum_scale: float = 1e-2) -> torch.Tensor:
    """[sum_scale x the sum, the mean] over the real particles: (B, 2H)."""
    total = (h * mask.unsqueeze(-1)).sum(1)
    return torch.cat([sum_scale * total, total / mask.sum(1, keepdim=True).clamp_min(1.0)], -1)


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """The authors' cosine embedding (B, dim) of times t (B,) in [0, 1]: cos(pi t e^k), k = 0..dim-1 (PC-JeDi's
    `cosine_encoding` with exponential frequencies), evaluated in float64."""
    freqs = torch.exp(torch.arange(dim, device=t.device, dtype=torch.float64))
    return torch.cos(torch.pi * t.double()[:, None] * freqs[None, :]).to(t.dtype)


class EPiCVelocity(nn.Module):
    """The velocity field of `epic-fm`: particles (B, P, F) at flow time t (B,), the mask (B, P) and conditions
    (B, C) -> velocities (B, P, F), zero where padded. The output goes through the leaky ReLU as in the
    authors' code.

    Args:
        num_features: features per particle (3: eta_rel, phi_rel, pT_rel, standardised).
        hidden: particle width of the EPiC layers.
        global_dim: width of the global vector.
        num_layers: EPiC layers.
        time_dim: width of the time embedding.
        cond_dim: width of the other conditions (set by the task; 0 for none).
    """

    inputs = ("x", "t", "mask", "cond")

    def __init__(self, num_features: int = 3, hidden: int = 128, global_dim: int = 10, num_layers: int = 6,
                 time_dim: int = 32, cond_dim: int = 0):
        super().__init__()
        self.time_dim = time_dim
        c = time_dim + cond_dim
        self.local1 = _linear(num_features + c, hidden)
        self.local2 = _linear(hidden + c, hidden)
        self.global1 = _linear(2 * hidden + c, hidden)
        self.global2 = _linear(hidden + c, global_dim)
        self.layers = nn.ModuleList(EPiCLayer(hidden, global_dim, c) for _ in range(num_layers))
        self.out = _linear(hidden + c, num_features)

    def forward(self, x: torch.Tensor, t: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        mask = mask.to(x.dtype)
        c = torch.cat([time_embedding(t.to(x.dtype), self.time_dim), cond.to(x.dtype)], -1)
        p = x.size(1)
        cl = c.unsqueeze(1).expand(-1, p, -1)
        h = F.leaky_relu(self.local1(torch.cat([x, cl], -1)))
        h = F.leaky_relu(self.local2(torch.cat([h, cl], -1)) + h) * mask.unsqueeze(-1)
        g = F.leaky_relu(self.global2(torch.cat([F.leaky_relu(self.global1(torch.cat([pool(h, mask), c], -1))), c], -1)))
        for layer in self.layers:
            h, g = layer(h, g, c, mask)
        return F.leaky_relu(self.out(torch.cat([h, cl], -1))) * mask.unsqueeze(-1)
