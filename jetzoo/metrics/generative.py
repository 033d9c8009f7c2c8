"""Metrics comparing generated jets with real ones, as in JetNet / MPGAN (arXiv:2106.11535).

Jets are particle clouds: `cloud` (N, P, 3) = (Δη, Δφ, pT/pT_jet) with a `mask` (N, P), P <= 30
(the `cloud` view of docs/DESIGN.md). Observables are computed from the relative cloud with
massless particles around a unit jet (pT = 1, η = φ = 0), as JetNet does:

- jet mass `m` of the summed massless four-vectors (in units of the jet pT);
- N-subjettiness τ_N = Σ_i pT_i min_k ΔR_ik / (Σ_i pT_i R0), R0 = the jet radius, from
  `jetzoo.physics.features.nsubjettiness` (FastJet) with "exclusive-kt" axes: the N exclusive-kT
  subjets of the jet's own particles, E-scheme recombination, ΔR in rapidity-azimuth (the
  particles are massless, so rapidity = η). JetNet / MPGAN define no τ_N metric (their set is
  W1-M, W1-P, W1-EFP and FPND); exclusive-kT axes are the ones the hls4ml dataset's τ_N uses.
  A jet with at most N particles has τ_N = 0; τ21 = τ2/τ1 and τ32 = τ3/τ2 (0 when the
  denominator is 0). pT fractions are taken to be >= 0;
- multiplicity, girth Σ pT_i ΔR_i / Σ pT_i and the leading-particle pT fraction.

Metrics (lower is better except where noted):

- `w1m`: 1-Wasserstein distance of the jet-mass distributions (scipy.stats.wasserstein_distance);
- `w1p`: mean over the three particle features of the W1 of their distributions over all real
  (unmasked) particles; the per-feature values are `w1p_eta`, `w1p_phi`, `w1p_pt`;
- `w1tau21`, `w1tau32`: W1 of τ21 and τ32;
- `c2st_auc`: the classifier two-sample test, `jetzoo.metrics.two_sample` (a fixed PFN on the clouds).

The report on a generator, with the JetNet protocol's W1M, W1P, W1EFP, FPD and KPD and every metric's
truth floor, is `jetzoo.metrics.generated.evaluate_generated`. (A Fréchet distance over the observables
above, each divided by the real sample's σ + 1e-8, was reported here before; a constant observable made it
explode, 1e14 for 1% of jets missing one soft particle. FPD replaces it.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from jetzoo.physics import features, kinematics

OBSERVABLE_NAMES = ["mass", "tau21", "tau32", "multiplicity", "girth", "lead_pt_frac"]
PARTICLE_FEATURE_NAMES = ["eta", "phi", "pt"]


def as_cloud(sample) -> tuple[np.ndarray, np.ndarray]:
    """Accept (cloud, mask), {"cloud", "mask"} with numpy arrays or tensors; zero the padding."""
    if isinstance(sample, Mapping):
        cloud, mask = sample["cloud"], sample["mask"]
    elif isinstance(sample, Sequence) and len(sample) == 2:
        cloud, mask = sample
    else:
        raise TypeError("a jet sample is (cloud, mask) or a dict with keys 'cloud' and 'mask'")
    cloud = cloud.detach().cpu().numpy() if isinstance(cloud, torch.Tensor) else np.asarray(cloud)
    mask = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    mask = mask.astype(bool)
    if cloud.ndim != 3 or cloud.shape[-1] != 3 or mask.shape != cloud.shape[:2]:
        raise ValueError(f"cloud {cloud.shape} and mask {mask.shape} must be (N, P, 3) and (N, P)")
    return np.where(mask[..., None], cloud, 0.0).astype(np.float64), mask


def relative_p4(cloud: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(Δη, Δφ, pT fraction) -> massless (px, py, pz, E) around a unit jet at η = φ = 0; padding -> 0."""
    return kinematics.relative_p4(cloud, mask)


def jet_mass(cloud: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mass of the jet from its relative cloud, in units of the jet pT (`jetzoo.physics.kinematics.relative_mass`)."""
    return kinematics.relative_mass(cloud, mask)


def nsubjettiness(cloud, mask, jet_radius: float = 0.8) -> np.ndarray:
    """τ_1..τ_3 (J, 3) of the relative cloud: `jetzoo.physics.features.nsubjettiness` with exclusive-kT
    axes, on the massless four-vectors of `relative_p4` (see the module docstring)."""
    cloud, mask = as_cloud((cloud, mask))
    return features.nsubjettiness(relative_p4(cloud, mask), mask, jet_radius, tau_axes="exclusive-kt")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def jet_observables(cloud, mask, jet_radius: float = 0.8) -> np.ndarray:
    """(J, 6) array of OBSERVABLE_NAMES computed from the relative cloud."""
    cloud, mask = as_cloud((cloud, mask))
    tau = nsubjettiness(cloud, mask, jet_radius)
    pt = cloud[..., 2]
    ptsum = pt.sum(1)
    dr = np.hypot(cloud[..., 0], cloud[..., 1])
    return np.stack(
        [
            jet_mass(cloud, mask),
            _ratio(tau[:, 1], tau[:, 0]),
            _ratio(tau[:, 2], tau[:, 1]),
            mask.sum(1).astype(np.float64),
            _ratio((pt * dr).sum(1), ptsum),
            _ratio(pt.max(1), ptsum),
        ],
        -1,
    )
