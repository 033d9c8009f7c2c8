"""Writing jets in JetNet's published layout (the layout `readers/jetnet.py` reads; arXiv:2106.11535, zenodo
6975118), for `jetzoo sample`:

  particle_features (N, P, 4) = etarel, phirel, ptrel, mask    float32, pT-sorted, zero-padded
  jet_features      (N, 4)    = pt, eta, mass, num_particles    (one jet type in the file)
                    (N, 5)    = type, pt, eta, mass, num_particles   (several; type = index in g, q, t, w, z)

and provenance attributes. The file is written beside its destination and renamed onto it when complete, so
an existing file is replaced whole or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from jetzoo.datamodules.readers.jetnet import CLASS_NAMES, JET_TYPES
from jetzoo.errors import UsageError
from jetzoo.physics.kinematics import relative_mass

TYPE_OF_CLASS = {**{name: JET_TYPES.index(code) for code, name in CLASS_NAMES.items()},
                 "top": JET_TYPES.index("t")}  # the top-landscape recipe's name of top jets


def jetnet_type(class_name: str) -> int:
    """The JetNet type index of a jetzoo class name (g, q, t or top, W, Z)."""
    if class_name not in TYPE_OF_CLASS:
        raise UsageError(f"class '{class_name}' is not a JetNet jet type ({', '.join(TYPE_OF_CLASS)}): the JetNet "
                         "layout cannot record it")
    return TYPE_OF_CLASS[class_name]


def pt_sorted(cloud: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Particles in decreasing pT_rel with the padding last and zero."""
    key = np.where(mask, cloud[..., 2], -np.inf)
    order = np.argsort(-key, axis=1, kind="stable")
    mask = np.take_along_axis(mask, order, 1)
    cloud = np.take_along_axis(cloud, order[..., None], 1) * mask[..., None]
    return cloud, mask


def write_jetnet(path: str | Path, cloud: np.ndarray, mask: np.ndarray, class_names: list[str], labels: np.ndarray,
                 jet_pt: float, attrs: dict) -> Path:
    """Write relative clouds as jets of pT `jet_pt` at eta 0 (their mass: the cloud's m / pT times jet_pt);
    `labels` index `class_names`. Returns the path written."""
    path = Path(path)
    cloud, mask = pt_sorted(np.asarray(cloud, np.float64), np.asarray(mask, bool))
    particles = np.concatenate([cloud, mask[..., None]], -1).astype(np.float32)
    pt = np.full(len(cloud), float(jet_pt))
    jets = [pt, np.zeros(len(cloud)), relative_mass(cloud, mask) * pt, mask.sum(1)]
    present = sorted(set(np.asarray(labels).tolist()))
    if len(present) > 1:
        types = np.array([jetnet_type(class_names[i]) for i in range(len(class_names))])[np.asarray(labels)]
        jets.insert(0, types)
    elif present:
        jetnet_type(class_names[present[0]])  # a type JetNet knows, even when it is not written
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with h5py.File(partial, "w") as f:
            f.create_dataset("particle_features", data=particles, compression="gzip")
            f.create_dataset("jet_features", data=np.stack(jets, -1).astype(np.float32))
            for key, value in attrs.items():
                f.attrs[key] = value
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
