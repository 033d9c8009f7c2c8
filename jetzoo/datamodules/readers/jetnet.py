"""Reader for the JetNet dataset HDF5 files (Kansal et al., arXiv:2106.11535; zenodo 6975118/6975117).

Public files are one per jet type, named g.hdf5, q.hdf5, t.hdf5, w.hdf5, z.hdf5 (g150.hdf5 ... for
the 150-particle version), each holding
  particle_features (N, P, 4) = etarel, phirel, ptrel, mask   (P = 30 or 150, pT-sorted, zero padded)
  jet_features      (N, 4)    = pt, eta, mass, num_particles
The jet type is not stored: the `jetnet` library takes it from the file name and prepends it as
class index into its JET_TYPES = ["g", "q", "t", "w", "z"]; a (N, 5) jet_features array is read as
that form: type, pt, eta, mass, num_particles. Type codes follow the same order
(0 gluon, 1 light quark, 2 top, 3 W, 4 Z); the classes of a read are the types present in any of
its files, in that order.

Constituents are massless with pT = ptrel * jet pT, eta = etarel + jet eta, phi = phirel (jet phi
is not stored, taken as 0); without jet_features the jet has pT = 1, eta = 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from jetzoo.datamodules.readers.failures import reading, require_finite, require_jets, require_rows
from jetzoo.datamodules.readers.paths import expand_paths
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError
from jetzoo.physics.kinematics import ptetaphim_to_p4

FORMAT = "a JetNet HDF5 file"
SUFFIXES = (".hdf5", ".h5")
JET_TYPES = ["g", "q", "t", "w", "z"]
CLASS_NAMES = {"g": "g", "q": "q", "t": "t", "w": "W", "z": "Z"}
PARTICLE_FEATURES = ("etarel", "phirel", "ptrel", "mask")
JET_FEATURE_LAYOUTS = {
    4: ("pt", "eta", "mass", "num_particles"),
    5: ("type", "pt", "eta", "mass", "num_particles"),
}
FILE_NAME_TYPE = re.compile(r"([gqtwz])(?:150)?(?:[_\-.].*)?", re.IGNORECASE)
JET_RADIUS = 0.8


@dataclass
class JetNetFile:
    path: Path
    particles: np.ndarray  # (N, P, 4) etarel, phirel, ptrel, mask
    jet_features: np.ndarray | None  # (N, 4 or 5)
    type_codes: np.ndarray  # (N,) int64 index into JET_TYPES


def read_jetnet(path) -> JetTable:
    """Read one JetNet file, a directory of them, or a glob; files are concatenated."""
    files = [load_jetnet_file(f) for f in expand_paths(path, SUFFIXES)]
    present = sorted(set().union(*(set(np.unique(f.type_codes).tolist()) for f in files)))
    tables = [jetnet_table(f, present) for f in files]
    return JetTable.concat(tables).validate()


def load_jetnet_file(path: Path) -> JetNetFile:
    with reading(path, FORMAT), h5py.File(path, "r") as f:
        if "particle_features" not in f:
            raise JetDataError(f"{path}: no dataset 'particle_features' (found {sorted(f.keys())}); not {FORMAT}")
        particles = np.asarray(f["particle_features"][()])
        jet_features = np.asarray(f["jet_features"][()]) if "jet_features" in f else None
    if particles.ndim != 3 or particles.shape[-1] != len(PARTICLE_FEATURES):
        raise JetDataError(
            f"{path}: 'particle_features' has shape {particles.shape}, "
            f"expected (jets, particles, 4) = {', '.join(PARTICLE_FEATURES)}"
        )
    require_jets(len(particles), path)
    require_finite(particles, path, "particle features")
    if jet_features is not None:
        if jet_features.ndim != 2 or jet_features.shape[1] not in JET_FEATURE_LAYOUTS:
            raise JetDataError(
                f"{path}: 'jet_features' has shape {jet_features.shape}, expected (jets, 4) = pt, eta, mass, "
                "num_particles, or (jets, 5) with the type first"
            )
        require_rows(jet_features, len(particles), path, "'jet_features'")
        require_finite(jet_features, path, "jet features")
    return JetNetFile(path, particles, jet_features, type_codes_of(path, jet_features, len(particles)))


def type_codes_of(path: Path, jet_features: np.ndarray | None, n: int) -> np.ndarray:
    if jet_features is not None and jet_features.shape[1] == 5:
        codes = jet_features[:, 0]
        valid = np.isin(codes, np.arange(len(JET_TYPES)))
        if not valid.all():
            raise JetDataError(f"{path}: {int((~valid).sum())} jets have a type code outside 0..4 ({JET_TYPES})")
        return codes.astype(np.int64)
    match = FILE_NAME_TYPE.fullmatch(path.stem)
    if match is None:
        raise JetDataError(
            f"{path}: jet type unknown: the file name is not one of g/q/t/w/z[150].hdf5 and "
            "'jet_features' has no type column"
        )
    return np.full(n, JET_TYPES.index(match.group(1).lower()), dtype=np.int64)


def jetnet_table(f: JetNetFile, present_codes: list[int]) -> JetTable:
    etarel, phirel, ptrel, real = (f.particles[..., i] for i in range(4))
    mask = real > 0
    if f.jet_features is None:
        jet_pt, jet_eta = np.ones(len(ptrel)), np.zeros(len(ptrel))
        hl, hl_names = None, []
    else:
        layout = JET_FEATURE_LAYOUTS[f.jet_features.shape[1]]
        jet_pt, jet_eta = f.jet_features[:, layout.index("pt")], f.jet_features[:, layout.index("eta")]
        columns = [i for i, name in enumerate(layout) if name != "type"]
        hl = f.jet_features[:, columns].astype(np.float32)
        hl_names = [f"jet_{layout[i]}" for i in columns]
    p4 = ptetaphim_to_p4(
        (ptrel * jet_pt[:, None]).astype(np.float64), (etarel + jet_eta[:, None]).astype(np.float64),
        phirel.astype(np.float64),
    )
    p4 = np.where(mask[..., None], p4, 0.0).astype(np.float32)
    p4, mask = sort_by_pt(p4, mask)
    return JetTable(
        p4=np.ascontiguousarray(p4), mask=mask,
        labels=np.searchsorted(present_codes, f.type_codes).astype(np.int64),
        class_names=[CLASS_NAMES[JET_TYPES[c]] for c in present_codes],
        source=str(f.path), hl=hl, hl_names=hl_names, jet_radius=JET_RADIUS,
    ).validate()
