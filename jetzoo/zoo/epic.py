"""EPiC layers: equivariant point-cloud layers with a global latent vector (deep sets), and the EPiC velocity
network of `epic-fm`.

Paper: E. Buhmann, G. Kasieczka and J. Thaler, "EPiC-GAN: Equivariant Point Cloud Generation for Particle Jets",
arXiv:2301.08128, §3 and Fig. 1 (the layer); E. Buhmann et al., "EPiC-ly Fast Particle Cloud Generation with
Flow-Matching and Diffusion", arXiv:2310.00049, §3 (the layer as the velocity network of a continuous
normalising flow, with the time and the multiplicity as conditions).

An EPiC layer updates a global vector g (B, G) from the sum- and mean-pooled particles and g itself, then every
particle h_i (B, P, H) from (h_i, g'), both with residual connections and leaky ReLU:

    g' = act(W_g2 act(W_g1 [sum_i h_i / P_max, mean_i h_i, g, c]) + g)
    h_i' = act(W_l2 act(W_l1 [h_i, g', c]) + h_i)

with the pools over real particles only (mask) and c the conditions (time embedding, multiplicity, class),
given to every layer. Nothing couples two particles but the pools, so the network is permutation
equivariant and its cost is linear in the number of particles. Weight normalisation on every linear map,
as the authors' code.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


def _linear(n_in: int, n_out: int) -> nn.Module:
    return weight_norm(nn.Linear(n_in, n_out))


class EPiCLayer(nn.Module):
    def __init__(self, hidden: int, global_dim: int, cond_dim: int):
        super().__init__()
        self.global1 = _linear(2 * hidden + global_dim + cond_dim, hidden)
        self.global2 = _linear(hidden, global_dim)
        self.local1 = _linear(hidden + global_dim + cond_dim, hidden)
        self.local2 = _linear(hidden, hidden)

    def forward(self, h: torch.Tensor, g: torch.Tensor, cond: torch.Tensor, mask: torch.Tensor):
        """h (B, P, H), g (B, G), cond (B, C), mask (B, P) float; padded rows of h stay zero."""
        weights = mask.unsqueeze(-1)
        count = weights.sum(1).clamp_min(1.0)
        total = (h * weights).sum(1)
        pooled = torch.cat([total / h.size(1), total / count, g, cond], -1)
        g = F.leaky_relu(self.global2(F.leaky_relu(self.global1(pooled))) + g)
        p = h.size(1)
        local = torch.cat([h, g.unsqueeze(1).expand(-1, p, -1), cond.unsqueeze(1).expand(-1, p, -1)], -1)
        h = F.leaky_relu(self.local2(F.leaky_relu(self.local1(local))) + h)
        return h * weights, g


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (B, dim) of times t (B,) in [0, 1] (the transformer's positional code, frequencies
    1 to 1000)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=t.dtype) / max(half - 1, 1))
    angles = t[:, None] * freqs[None, :] * 1000.0
    return torch.cat([torch.sin(angles), torch.cos(angles)], -1)


class EPiCVelocity(nn.Module):
    """The velocity field v(x_t, t | n, class) of `epic-fm`: particles (B, P, 3) at flow time t (B,), the mask
    (B, P), conditions (B, C) (multiplicity / P and the class one-hot) -> velocities (B, P, 3), zero where padded.

    Args:
        num_features: features per particle (3: eta_rel, phi_rel, pT_rel, preprocessed).
        hidden: particle width of the EPiC layers.
        global_dim: width of the global vector.
        num_layers: EPiC layers.
        time_dim: width of the time embedding.
        cond_dim: width of the other conditions (set by the task).
    """

    inputs = ("x", "t", "mask", "cond")

    def __init__(self, num_features: int = 3, hidden: int = 128, global_dim: int = 16, num_layers: int = 6,
                 time_dim: int = 32, cond_dim: int = 1):
        super().__init__()
        self.time_dim = time_dim
        cond = time_dim + cond_dim
        self.local_in = _linear(num_features + cond, hidden)
        self.global_in = _linear(2 * hidden + cond, global_dim)
        self.layers = nn.ModuleList(EPiCLayer(hidden, global_dim, cond) for _ in range(num_layers))
        self.local_out = _linear(hidden + global_dim + cond, num_features)

    def forward(self, x: torch.Tensor, t: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        mask = mask.to(x.dtype)
        c = torch.cat([time_embedding(t.to(x.dtype), self.time_dim), cond.to(x.dtype)], -1)
        p = x.size(1)
        h = F.leaky_relu(self.local_in(torch.cat([x, c.unsqueeze(1).expand(-1, p, -1)], -1))) * mask.unsqueeze(-1)
        count = mask.sum(1, keepdim=True).clamp_min(1.0)
        total = h.sum(1)
        g = F.leaky_relu(self.global_in(torch.cat([total / p, total / count, c], -1)))
        for layer in self.layers:
            h, g = layer(h, g, c, mask)
        out = self.local_out(torch.cat([h, g.unsqueeze(1).expand(-1, p, -1), c.unsqueeze(1).expand(-1, p, -1)], -1))
        return out * mask.unsqueeze(-1)
