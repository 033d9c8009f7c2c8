"""Reader for the energyflow quark-gluon jet samples (Komiske, Metodiev, Thaler, arXiv:1810.05165).

`.npz` archives (QG_jets*.npz, as `energyflow.qg_jets` downloads them) holding
  X (N, M, 4) = pt, rapidity y, phi, pid per particle, zero padded (not pT-sorted);
  y (N,)       = 1 for quark, 0 for gluon jets.
Particles are treated as massless (rapidity = pseudorapidity); anti-kT R = 0.4 jets.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from jetzoo.datamodules.readers.failures import binary_labels, reading, require_finite, require_jets, require_rows
from jetzoo.datamodules.readers.paths import read_files
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError
from jetzoo.physics.kinematics import ptetaphim_to_p4

FORMAT = "an energyflow quark-gluon .npz file"
SUFFIXES = (".npz",)
CLASS_NAMES = ["g", "q"]
JET_RADIUS = 0.4
NPY_MAGIC = b"\x93NUMPY"


def read_quark_gluon(path) -> JetTable:
    """Read one quark-gluon .npz file, a directory of them, or a glob; files are concatenated."""
    return read_files(path, SUFFIXES, read_quark_gluon_file)


def read_quark_gluon_file(path: Path) -> JetTable:
    with reading(path, FORMAT):
        with open(path, "rb") as f:
            is_npy = f.read(len(NPY_MAGIC)) == NPY_MAGIC
        if not (is_npy or zipfile.is_zipfile(path)):
            raise JetDataError(
                f"{path}: cannot read as {FORMAT} (not a zip archive: empty, truncated or another format)"
            )
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise JetDataError(f"{path}: holds a single array, expected an .npz archive with X and y")
        with archive:
            missing = [k for k in ("X", "y") if k not in archive.files]
            if missing:
                raise JetDataError(f"{path}: no array {' or '.join(missing)} (found {archive.files}); not {FORMAT}")
            particles, targets = archive["X"], archive["y"]
    if particles.ndim != 3 or particles.shape[-1] < 3:
        raise JetDataError(f"{path}: 'X' has shape {particles.shape}, expected (jets, particles, 4) = pt, y, phi, pid")
    if targets.ndim != 1:
        raise JetDataError(f"{path}: 'y' has shape {targets.shape}, expected (jets,)")
    require_jets(len(particles), path)
    require_rows(targets, len(particles), path, "'y'")
    require_finite(particles, path, "particle values")
    labels = binary_labels(targets, path, "quark/gluon 'y'")
    pt, rapidity, phi = (particles[..., i].astype(np.float64) for i in range(3))
    mask = pt > 0
    p4 = np.where(mask[..., None], ptetaphim_to_p4(pt, rapidity, phi), 0.0).astype(np.float32)
    p4, mask = sort_by_pt(p4, mask)
    return JetTable(
        p4=np.ascontiguousarray(p4), mask=mask, labels=labels, class_names=list(CLASS_NAMES),
        source=str(path), jet_radius=JET_RADIUS,
    ).validate()
