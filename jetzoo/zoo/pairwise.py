"""Pairwise particle features of the Particle Transformer (arXiv:2202.03772, eq. 3).

For two particles a, b with four-vectors (px, py, pz, E):

    Δ   = sqrt((y_a - y_b)^2 + (φ_a - φ_b)^2)     (rapidity y, φ difference wrapped into [-π, π))
    kT  = min(pT_a, pT_b) Δ
    z   = min(pT_a, pT_b) / (pT_a + pT_b)
    m^2 = (E_a + E_b)^2 - |p_a + p_b|^2

returned as logarithms (ln Δ, ln kT, ln z, ln m^2), each argument clamped at `eps` so that
collinear or massless pairs stay finite (the same convention as weaver-core).
Input: two tensors (..., 4); output: (..., 4).
"""

from __future__ import annotations

import math

import torch

PAIR_FEATURE_NAMES = ("ln_delta", "ln_kt", "ln_z", "ln_m2")


def _pt_rapidity_phi(p4: torch.Tensor):
    px, py, pz, e = p4.unbind(-1)
    pt = torch.sqrt(px.square() + py.square())
    rapidity = 0.5 * torch.log1p(2 * pz / (e - pz).clamp(min=1e-20))
    return pt, rapidity, torch.atan2(py, px)


def pairwise_features(p4_a: torch.Tensor, p4_b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(ln Δ, ln kT, ln z, ln m^2) of every pair (p4_a[..., :], p4_b[..., :]); shapes broadcast."""
    pt_a, y_a, phi_a = _pt_rapidity_phi(p4_a)
    pt_b, y_b, phi_b = _pt_rapidity_phi(p4_b)
    dphi = (phi_a - phi_b + math.pi) % (2 * math.pi) - math.pi
    delta = torch.sqrt((y_a - y_b).square() + dphi.square())
    pt_min = torch.minimum(pt_a, pt_b)
    s = p4_a + p4_b
    m2 = s[..., 3].square() - s[..., :3].square().sum(-1)
    return torch.stack(
        [
            torch.log(delta.clamp(min=eps)),
            torch.log((pt_min * delta).clamp(min=eps)),
            torch.log((pt_min / (pt_a + pt_b).clamp(min=eps)).clamp(min=eps)),
            torch.log(m2.clamp(min=eps)),
        ],
        dim=-1,
    )
