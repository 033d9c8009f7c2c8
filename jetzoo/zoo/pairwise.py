"""Pairwise particle features of the Particle Transformer (arXiv:2202.03772, eq. 3).

For two particles a, b with four-vectors (px, py, pz, E):

    Δ   = sqrt((y_a - y_b)^2 + (φ_a - φ_b)^2)     (rapidity y, φ difference wrapped into [-π, π))
    kT  = min(pT_a, pT_b) Δ
    z   = min(pT_a, pT_b) / (pT_a + pT_b)
    m^2 = (E_a + E_b)^2 - |p_a + p_b|^2

computed by `jetzoo.physics.kinematics.pair_kinematics` and returned as logarithms
(ln Δ, ln kT, ln z, ln m^2), each argument clamped at `eps` so that collinear or massless pairs
stay finite (the same convention as weaver-core).
Input: two tensors (..., 4); output: (..., 4).
"""

from __future__ import annotations

import torch

from jetzoo.physics import kinematics

PAIR_FEATURE_NAMES = ("ln_delta", "ln_kt", "ln_z", "ln_m2")


def pairwise_features(p4_a: torch.Tensor, p4_b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(ln Δ, ln kT, ln z, ln m^2) of every pair (p4_a[..., :], p4_b[..., :]); shapes broadcast."""
    return torch.stack([torch.log(x.clamp(min=eps)) for x in kinematics.pair_kinematics(p4_a, p4_b)], dim=-1)
