"""Vectorised kinematics of (px, py, pz, E) four-vectors, for numpy arrays and torch tensors alike.

The datamodules, the feature builders, the generative metrics and the models (`jetzoo.zoo.pairwise`,
the EFN's pT fractions, the interaction network's pT ordering) all call these functions.

The four-vector functions take arrays whose last axis holds (px, py, pz, E) and work for any
leading shape; `delta_phi` / `delta_r` take angles; the operands of the pair functions
broadcast. Each is a plain expression of elementwise operations (no data-dependent control
flow, no host syncs), so in torch it is differentiable and traces into `torch.export` / ONNX graphs. Padded (all-zero) entries give finite zeros,
never NaN, in the forward pass; their gradient through `pt` (a square root at 0) is not finite,
so mask padding out of the inputs rather than differentiating through it.

scikit-hep `vector` is not used: it has numpy, awkward, numba, object and sympy backends but none
for torch tensors (a tensor would have to leave the autograd and export graphs), and for numpy
it computes the same one-line formulas behind a conversion. The awkward records handed to
FastJet in `jetzoo.physics.features` carry vector's `Momentum4D` name, but FastJet reads only
their px, py, pz, E fields.
"""

from __future__ import annotations

import math

import numpy as np

EPS = 1e-12


def _lib(x):
    import torch

    if isinstance(x, torch.Tensor):  # first: np.isscalar on a tensor breaks torch.compile graphs
        return torch
    return np


def _clamp_min(x, lo: float):
    return np.maximum(x, lo) if _lib(x) is np else x.clamp_min(lo)


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
    """0.5 ln((E + pz) / (E - pz)) as 0.5 log1p(2 pz / (E - pz)) (weaver-core's form, accurate near y = 0).

    E - pz is clamped at EPS and the log1p argument at EPS - 1, so a vector along the beam gives a
    large finite value; 0 where E <= 0 (padding).
    """
    xp = _lib(p4)
    e, pz = p4[..., 3], p4[..., 2]
    return 0.5 * xp.log1p(_clamp_min(2 * pz / _clamp_min(e - pz, EPS), EPS - 1)) * (e > 0)


def mass2(p4):
    """E^2 - |p|^2, unclamped: rounding can make it slightly negative (or noise) for massless vectors."""
    return p4[..., 3] ** 2 - (p4[..., 0] ** 2 + p4[..., 1] ** 2 + p4[..., 2] ** 2)


def mass(p4):
    return _lib(p4).sqrt(_clamp_min(mass2(p4), 0))


def delta_phi(a, b):
    """phi(a) - phi(b) wrapped into [-pi, pi)."""
    return (a - b + math.pi) % (2 * math.pi) - math.pi


def delta_r(rap_a, phi_a, rap_b, phi_b):
    """sqrt(Δy^2 + Δφ^2) with Δφ wrapped; y is rapidity or pseudorapidity, whichever is passed.

    The square is clamped at EPS^2, so coincident points give EPS (not 0) and a finite gradient.
    """
    r2 = (rap_a - rap_b) ** 2 + delta_phi(phi_a, phi_b) ** 2
    return _lib(r2).sqrt(_clamp_min(r2, EPS**2))


def pair_kinematics(p4_a, p4_b):
    """(Δ, kT, z, m^2) of the pairs (a, b), each of the broadcast leading shape.

    Δ = ΔR in rapidity-azimuth, kT = min(pT_a, pT_b) Δ, z = min(pT_a, pT_b) / (pT_a + pT_b)
    (denominator clamped at EPS, so z = 0 for two padded entries), m^2 = mass2(a + b).
    """
    pt_a, pt_b = pt(p4_a), pt(p4_b)
    delta = delta_r(rapidity(p4_a), phi(p4_a), rapidity(p4_b), phi(p4_b))
    pt_min = _lib(pt_a).minimum(pt_a, pt_b)
    return delta, pt_min * delta, pt_min / _clamp_min(pt_a + pt_b, EPS), mass2(p4_a + p4_b)


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


def relative_p4(cloud, mask):
    """A relative cloud (Δη, Δφ, pT / pT_jet) as massless (px, py, pz, E) around a unit jet at η = φ = 0 (the
    JetNet convention); padded particles give zero vectors."""
    return ptetaphim_to_p4(cloud[..., 2] * mask, cloud[..., 0], cloud[..., 1])


def relative_mass(cloud, mask):
    """The mass of a jet given as its relative cloud, in units of its pT (JetNet's jet mass of W1M)."""
    return mass(jet_p4(relative_p4(cloud, mask)))
