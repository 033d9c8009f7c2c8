"""Vectorised kinematics of (px, py, pz, E) four-vectors, for numpy arrays and torch tensors alike.

All functions take arrays whose last axis holds (px, py, pz, E) and work for any leading shape.
Padded (all-zero) entries give finite zeros, never NaN.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def _lib(x):
    if isinstance(x, np.ndarray):
        return np
    import torch

    return torch


def pt(p4):
    xp = _lib(p4)
    return xp.sqrt(p4[..., 0] ** 2 + p4[..., 1] ** 2)


def phi(p4):
    xp = _lib(p4)
    return xp.arctan2(p4[..., 1], p4[..., 0])


def eta(p4):
    """Pseudorapidity; 0 for zero-momentum (padded) entries."""
    xp = _lib(p4)
    pt_ = pt(p4)
    return xp.arcsinh(p4[..., 2] / (pt_ + EPS)) * (pt_ > 0)


def rapidity(p4):
    xp = _lib(p4)
    e, pz = p4[..., 3], p4[..., 2]
    num = xp.clip(e + pz, EPS, None) if xp is np else (e + pz).clamp_min(EPS)
    den = xp.clip(e - pz, EPS, None) if xp is np else (e - pz).clamp_min(EPS)
    return 0.5 * xp.log(num / den) * (e > 0)


def mass(p4):
    xp = _lib(p4)
    m2 = p4[..., 3] ** 2 - p4[..., 0] ** 2 - p4[..., 1] ** 2 - p4[..., 2] ** 2
    return xp.sqrt(xp.clip(m2, 0, None) if xp is np else m2.clamp_min(0))


def delta_phi(a, b):
    """phi(a) - phi(b) wrapped into [-pi, pi)."""
    xp = _lib(a) if not np.isscalar(a) else _lib(b)
    return (a - b + np.pi) % (2 * np.pi) - np.pi


def ptetaphim_to_p4(pt_, eta_, phi_, m=None):
    """(pT, eta, phi[, m]) -> (px, py, pz, E); massless when m is None. Zero pT gives a zero vector."""
    xp = _lib(pt_)
    px = pt_ * xp.cos(phi_)
    py = pt_ * xp.sin(phi_)
    pz = pt_ * xp.sinh(eta_)
    p2 = px**2 + py**2 + pz**2
    e = xp.sqrt(p2 + (0 if m is None else m**2))
    return xp.stack([px, py, pz, e], -1)


def jet_p4(p4, mask=None):
    """Sum of constituent four-vectors over the particle axis (-2)."""
    if mask is not None:
        p4 = p4 * mask[..., None]
    return p4.sum(-2)
