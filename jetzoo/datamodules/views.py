"""The views models consume, computed from constituent four-vectors (docs/DESIGN.md §4).

Everything is vectorised over jets; padded particles stay exactly zero in every output.
Coordinates are relative to the jet axis (sum of constituents): Δη in pseudorapidity, Δφ
wrapped into [-π, π).
"""

from __future__ import annotations

import numpy as np
import torch

from jetzoo.physics import kinematics as kin

PARTICLE_FEATURES = {
    # name: function of (relative coordinates dict) -> (N, P) array
    "deta": lambda c: c["deta"],
    "dphi": lambda c: c["dphi"],
    "log_pt": lambda c: np.log(np.maximum(c["pt"], 1e-8)),
    "log_e": lambda c: np.log(np.maximum(c["e"], 1e-8)),
    "log_pt_rel": lambda c: np.log(np.maximum(c["pt"] / c["jet_pt"], 1e-8)),
    "log_e_rel": lambda c: np.log(np.maximum(c["e"] / c["jet_e"], 1e-8)),
    "delta_r": lambda c: np.hypot(c["deta"], c["dphi"]),
    "pt_rel": lambda c: c["pt"] / c["jet_pt"],
    # (Δη, Δφ) centred on the pT centroid, rotated and flipped as a jet image is (canonical_coordinates)
    "deta_rot": lambda c: canonical(c)[0],
    "dphi_rot": lambda c: canonical(c)[1],
    "px": lambda c: c["p4"][..., 0],
    "py": lambda c: c["p4"][..., 1],
    "pz": lambda c: c["p4"][..., 2],
    "energy": lambda c: c["p4"][..., 3],
}
DEFAULT_PARTICLE_FEATURES = ["deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "delta_r"]
DEFAULT_POINTS = ["deta", "dphi"]  # the `points` a model takes as the particles' angular coordinates
CLOUD_PARTICLES = 30


def canonical(c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(Δη, Δφ) of `relative_coordinates` after the jet-image preprocessing, computed once per dict."""
    if "canonical" not in c:
        x, y, w = (torch.from_numpy(np.asarray(c[k], dtype=np.float64)) for k in ("deta", "dphi", "pt"))
        x, y = canonical_coordinates(x, y, w * torch.from_numpy(c["mask"]))
        c["canonical"] = (x.numpy(), y.numpy())
    return c["canonical"]


def relative_coordinates(p4: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per-particle Δη, Δφ, pT, E and the jet's pT, E, for (N, P, 4) four-vectors."""
    jet = kin.jet_p4(p4, mask)
    coords = {
        "p4": p4,
        "mask": mask,
        "pt": kin.pt(p4),
        "e": p4[..., 3],
        "deta": (kin.eta(p4) - kin.eta(jet)[:, None]),
        "dphi": kin.delta_phi(kin.phi(p4), kin.phi(jet)[:, None]),
        "jet_pt": np.maximum(kin.pt(jet), 1e-8)[:, None],
        "jet_e": np.maximum(jet[:, 3], 1e-8)[:, None],
    }
    for key in ("deta", "dphi"):
        coords[key] = np.where(mask, coords[key], 0.0)
    return coords


def particle_arrays(p4: np.ndarray, mask: np.ndarray, features: list[str],
                    points: list[str] = DEFAULT_POINTS) -> dict[str, np.ndarray]:
    """features (N, P, F), points (N, P, 2), p4, mask — float32, zero where padded.

    `points` names the two coordinates of `points` (default Δη, Δφ about the jet axis; `deta_rot`,
    `dphi_rot` give the jet-image orientation): what the EFN's angular network and ParticleNet's
    neighbour search take."""
    unknown = [f for f in [*features, *points] if f not in PARTICLE_FEATURES]
    if unknown:
        raise ValueError(f"unknown particle features {unknown}; choose from {sorted(PARTICLE_FEATURES)}")
    if len(points) != 2:
        raise ValueError(f"points takes two coordinates, got {list(points)}")
    c = relative_coordinates(p4, mask)
    feats = np.stack([PARTICLE_FEATURES[f](c) for f in features], -1) * mask[..., None]
    points = np.stack([PARTICLE_FEATURES[f](c) for f in points], -1) * mask[..., None]
    return {
        "features": feats.astype(np.float32),
        "points": points.astype(np.float32),
        "p4": (p4 * mask[..., None]).astype(np.float32),
        "mask": mask.copy(),
    }


def cloud_arrays(p4: np.ndarray, mask: np.ndarray, n: int = CLOUD_PARTICLES) -> dict[str, np.ndarray]:
    """The JetNet/MPGAN particle cloud: n highest-pT constituents as (Δη, Δφ, pT/pT_jet) + mask,
    and `jet` = the jet's (pT, η, φ, m), so generated clouds can be placed around real jets.

    pT fractions are relative to the jet of all the *stored* constituents (a file keeps at most
    its own limit, 100 in jetzoo's files, so a jet with more particles has a slightly smaller
    pT_jet than the true one), not only of the n kept in the cloud.
    """
    c = relative_coordinates(p4, mask)
    cloud = np.stack([c["deta"], c["dphi"], c["pt"] / c["jet_pt"]], -1) * mask[..., None]
    cloud, m = cloud[:, :n], mask[:, :n]
    if cloud.shape[1] < n:
        pad = n - cloud.shape[1]
        cloud = np.pad(cloud, ((0, 0), (0, pad), (0, 0)))
        m = np.pad(m, ((0, 0), (0, pad)))
    jet = kin.jet_p4(p4, mask)
    kinematics = np.stack([kin.pt(jet), kin.eta(jet), kin.phi(jet), kin.mass(jet)], -1)
    return {"cloud": cloud.astype(np.float32), "mask": m, "jet": kinematics.astype(np.float32)}


def image_inputs(p4: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(Δη, Δφ, pT fraction) per particle: what `jet_images` bins, stored once per dataset."""
    c = relative_coordinates(p4, mask)
    return (np.stack([c["deta"], c["dphi"], c["pt"] / c["jet_pt"]], -1) * mask[..., None]).astype(np.float32)


def canonical_coordinates(
    x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, center: bool = True, rotate: bool = True, flip: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """The jet-image preprocessing of (x, y) = (Δη, Δφ), (B, P) each, weighted by w = pT (zero for padding).

    de Oliveira et al., arXiv:1511.05190; Macaluso & Shih, arXiv:1803.00107. `center` moves the pT-weighted
    centroid to the origin, `rotate` turns the principal axis of the pT distribution onto y, `flip` puts the
    larger pT on the positive side of both axes. The same as EnergyFlow's center_ptyphims('ptscheme'),
    rotate_ptyphims and reflect_ptyphims, jet by jet (tests/test_datamodule.py checks it against them).
    """
    norm = w.sum(1, keepdim=True).clamp_min(1e-12)
    if center:
        x = x - (w * x).sum(1, keepdim=True) / norm
        y = y - (w * y).sum(1, keepdim=True) / norm
    if rotate:
        sxx, syy, sxy = (w * x * x).sum(1), (w * y * y).sum(1), (w * x * y).sum(1)
        theta = 0.5 * torch.atan2(2 * sxy, sxx - syy)  # principal axis angle w.r.t. the x axis
        angle = (torch.pi / 2 - theta)[:, None]
        cos, sin = torch.cos(angle), torch.sin(angle)
        x, y = cos * x - sin * y, sin * x + cos * y
    if flip:  # compare the pT on either side (after centring, the first moment is zero)
        x = x * torch.where((w * (x < 0)).sum(1, keepdim=True) > (w * (x > 0)).sum(1, keepdim=True), -1.0, 1.0)
        y = y * torch.where((w * (y < 0)).sum(1, keepdim=True) > (w * (y > 0)).sum(1, keepdim=True), -1.0, 1.0)
    return x, y


def jet_images(
    inputs: torch.Tensor,
    size: int = 32,
    extent: float = 0.8,
    center: bool = True,
    rotate: bool = True,
    flip: bool = True,
) -> torch.Tensor:
    """Bin (B, P, 3) = (Δη, Δφ, pT fraction) into (B, 1, size, size) pT-fraction images.

    Preprocessing as in the jet-image literature (de Oliveira et al., arXiv:1511.05190;
    Macaluso & Shih, arXiv:1803.00107): `center` moves the pT-weighted centroid to the image
    centre, `rotate` turns the principal axis of the pT distribution onto the second
    coordinate, i.e. along the image's last (width) axis, image[..., i, j] with j the rotated
    Δφ; `flip` puts the larger pT on the positive side of both axes. The window is [-extent, extent]
    in both coordinates; particles outside it are dropped.
    """
    x, y, w = inputs[..., 0], inputs[..., 1], inputs[..., 2]
    x, y = canonical_coordinates(x, y, w, center=center, rotate=rotate, flip=flip)
    ix = ((x + extent) / (2 * extent) * size).floor().long()
    iy = ((y + extent) / (2 * extent) * size).floor().long()
    inside = (ix >= 0) & (ix < size) & (iy >= 0) & (iy < size) & (w > 0)
    flat = (ix.clamp(0, size - 1) * size + iy.clamp(0, size - 1)) + torch.arange(len(w))[:, None] * size * size
    images = torch.zeros(len(w) * size * size, dtype=inputs.dtype)
    images.index_add_(0, flat[inside], w[inside])
    return images.view(len(w), 1, size, size)
