"""Writing generated jets: an HDF5 file in the layout `read_hls4ml` reads, and PNG comparison plots.

Generated jets are relative clouds (Δη, Δφ, pT/pT_jet) + mask (the `cloud` view). To write
four-vectors, each generated cloud is placed around the real jet it was generated beside
(`jet` = (pT, η, φ, m) of that real jet, or pT = `default_jet_pt`, η = φ = 0 when the data do not
carry jet kinematics): particle pT = fraction × jet pT, η = jet η + Δη, φ = jet φ + Δφ, massless
(px, py, pz, E). The written jet is the sum of these constituents, so its pT differs from the
real jet's by the pT fraction the generator did not place in the cloud.

File layout (docs/DESIGN.md §3):
- `jets`: `HL_FEATURE_NAMES` recomputed from the written constituents
  (`jetzoo.physics.features.high_level_features`), `j_undef` = 0, one-hot label columns `j_<class>` (lower case,
  as in the public hls4ml files; for an unconditional generator the labels are those of the real
  jets the noise was drawn beside, so they carry no information), `j_index`;
- `jetConstituentList`: all 16 hls4ml particle features, derived from the four-vectors and the
  written jet (`hls4ml_particle_features`), zero for padding;
- `jetConstituentP4`: the (px, py, pz, E) themselves;
- attributes `recipe` ("generated"), `seed`, `n`, `jetzoo_version`, `class_names`,
  `jet_radius`, `generator` (the model class).

Plots (next to the file, `<stem>_mass.png`, `<stem>_particle_pt.png`, `<stem>_occupancy.png`):
relative jet mass m/pT_jet, particle pT fraction, and the pT-weighted Δη–Δφ occupancy, real vs
generated.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from jetzoo.generate.writer import write_jet_file
from jetzoo.physics import kinematics
from jetzoo.physics.features import high_level_features, hls4ml_particle_features


def cloud_to_p4(cloud: np.ndarray, mask: np.ndarray, jet: np.ndarray) -> np.ndarray:
    """(N, P, 3) relative clouds around jets (N, 4) = (pT, η, φ, m) -> massless (px, py, pz, E) (N, P, 4)."""
    mask = np.asarray(mask, dtype=bool)
    cloud = np.asarray(cloud, dtype=np.float64)
    jet = np.asarray(jet, dtype=np.float64)
    pt = np.clip(cloud[..., 2], 0.0, None) * jet[:, None, 0]
    p4 = kinematics.ptetaphim_to_p4(pt, cloud[..., 0] + jet[:, None, 1], cloud[..., 1] + jet[:, None, 2])
    return (p4 * (mask & (pt > 0))[..., None]).astype(np.float32)


def write_generated(
    path: str | Path,
    data: dict[str, np.ndarray],
    class_names: list[str],
    jet_radius: float = 0.8,
    generator: str = "",
    seed: int = 0,
    plots: bool = True,
) -> list[Path]:
    """Write `data` (cloud, mask, label, jet and, for the plots, real_cloud, real_mask) to `path`.

    Returns the paths written: the HDF5 file, then the PNGs.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mask = np.asarray(data["mask"], dtype=bool)
    jet = data.get("jet")
    if jet is None:
        raise ValueError("generated data need the jets' kinematics 'jet' (N, 4) = (pT, eta, phi, m)")
    p4 = cloud_to_p4(data["cloud"], mask, jet)
    mask = mask & (p4[..., 3] > 0)
    labels = np.asarray(data["label"], dtype=np.int64)
    hl = high_level_features(p4, mask, jet_radius)
    constituents = hls4ml_particle_features(p4, mask, kinematics.jet_p4(p4, mask))
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")  # written whole, then renamed: never half a file
    try:
        write_jet_file(
            tmp, hl, labels, constituents, p4, class_names,
            recipe="generated", seed=int(seed), jet_radius=float(jet_radius), generator=generator,
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    written = [path]
    if plots and "real_cloud" in data:
        written += plot_comparison(
            (data["real_cloud"], data["real_mask"]), (data["cloud"], data["mask"]), path.with_suffix(""), jet_radius
        )
    return written


def plot_comparison(real, generated, stem: str | Path, jet_radius: float = 0.8) -> list[Path]:
    """PNG plots of real vs generated: relative jet mass, particle pT fraction, Δη–Δφ occupancy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jetzoo.metrics.generative import as_cloud, jet_mass

    stem = Path(stem)
    (rc, rm), (gc, gm) = as_cloud(real), as_cloud(generated)
    samples = {"real": (rc, rm), "generated": (gc, gm)}
    out = []

    fig, ax = plt.subplots(figsize=(5, 4))
    masses = {k: jet_mass(c, m) for k, (c, m) in samples.items()}
    bins = np.linspace(0, max(np.quantile(np.concatenate(list(masses.values())), 0.995), 1e-3), 50)
    for k, v in masses.items():
        ax.hist(v, bins=bins, histtype="step", density=True, label=k)
    ax.set(xlabel="jet mass / jet $p_T$", ylabel="density")
    ax.legend()
    out.append(_save(fig, stem.parent / f"{stem.name}_mass.png"))

    fig, ax = plt.subplots(figsize=(5, 4))
    bins = np.logspace(-4, 0, 50)
    for k, (c, m) in samples.items():
        ax.hist(np.clip(c[m][:, 2], 1e-4, 1.0), bins=bins, histtype="step", density=True, label=k)
    ax.set(xscale="log", yscale="log", xlabel="particle $p_T$ / jet $p_T$", ylabel="density")
    ax.legend()
    out.append(_save(fig, stem.parent / f"{stem.name}_particle_pt.png"))

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    edges = np.linspace(-jet_radius, jet_radius, 41)
    for ax, (k, (c, m)) in zip(axes, samples.items()):
        h, _, _ = np.histogram2d(c[m][:, 0], c[m][:, 1], bins=[edges, edges], weights=c[m][:, 2])
        h = h / max(len(c), 1)
        image = ax.imshow(np.log10(h.T + 1e-6), origin="lower", extent=[edges[0], edges[-1]] * 2, vmin=-6)
        ax.set(title=k, xlabel=r"$\Delta\eta$")
    axes[0].set_ylabel(r"$\Delta\phi$")
    fig.colorbar(image, ax=axes, label=r"log$_{10}$ mean $p_T$ fraction per bin")
    out.append(_save(fig, stem.parent / f"{stem.name}_occupancy.png"))
    return out


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
