"""Reader for the hls4ml LHC jet dataset HDF5 files, and for the superset `jetzoo generate` writes.

Layout (docs/DESIGN.md section 3):
  jets (N, F) + jetFeatureNames (F,): high-level features, one-hot label columns, j_undef, j_index;
  jetConstituentList (N, P, 16) + particleFeatureNames (16,): per-particle features incl. j1_px..j1_e;
  jetConstituentP4 (N, P, 4) (generated files only): raw (px, py, pz, E), preferred when present.
Label columns: `j_<class>` for each class in the file attribute `class_names` when present,
otherwise those of the public files' j_g, j_q, j_w, j_z, j_t that exist (classes g, q, W, Z, t).
A padded particle is an all-zero row.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from jetzoo.datamodules.readers.failures import (
    labels_from_one_hot,
    reading,
    require_finite,
    require_jets,
    require_rows,
    text,
)
from jetzoo.datamodules.readers.paths import read_files
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError

FORMAT = "an hls4ml HDF5 file"
SUFFIXES = (".h5", ".hdf5", ".z")
PUBLIC_LABEL_COLUMNS = {"j_g": "g", "j_q": "q", "j_w": "W", "j_z": "Z", "j_t": "t"}
BOOKKEEPING_COLUMNS = {"j_undef", "j_index"}
P4_PARTICLE_FEATURES = ("j1_px", "j1_py", "j1_pz", "j1_e")
DEFAULT_JET_RADIUS = 0.8


def read_hls4ml(path) -> JetTable:
    """Read one hls4ml/jetzoo HDF5 file, a directory of them, or a glob; files are concatenated."""
    return read_files(path, SUFFIXES, read_hls4ml_file)


def read_hls4ml_file(path: Path) -> JetTable:
    with reading(path, FORMAT), h5py.File(path, "r") as f:
        for key in ("jets", "jetFeatureNames"):
            if key not in f:
                raise JetDataError(f"{path}: no dataset '{key}' (found {sorted(f.keys())}); not {FORMAT}")
        names = [text(n).strip() for n in np.atleast_1d(f["jetFeatureNames"][()])]
        jets = np.asarray(f["jets"][()])
        if jets.ndim != 2 or jets.shape[1] != len(names):
            raise JetDataError(f"{path}: 'jets' has shape {jets.shape} but jetFeatureNames lists {len(names)} names")
        require_jets(len(jets), path)
        class_names, label_columns = label_columns_of(f.attrs, names, path)
        jet_radius = float(f.attrs.get("jet_radius", DEFAULT_JET_RADIUS))
        p4 = constituent_four_vectors(f, path)

    require_rows(p4, len(jets), path, "the constituent array")
    require_finite(p4, path, "constituent four-vectors")
    labels = labels_from_one_hot(jets[:, label_columns], path, class_names)
    feature_columns = [
        i for i, n in enumerate(names) if i not in label_columns and n.lower() not in BOOKKEEPING_COLUMNS
    ]
    mask = (p4[..., 3] > 0) | (p4[..., 0] ** 2 + p4[..., 1] ** 2 > 0)
    p4, mask = sort_by_pt(p4, mask)
    return JetTable(
        p4=np.ascontiguousarray(p4, dtype=np.float32),
        mask=mask,
        labels=labels,
        class_names=class_names,
        source=str(path),
        hl=jets[:, feature_columns].astype(np.float32) if feature_columns else None,
        hl_names=[names[i] for i in feature_columns],
        jet_radius=jet_radius,
    ).validate()


def label_columns_of(attrs, names: list[str], path) -> tuple[list[str], list[int]]:
    """(class names, their column indices in `jets`)."""
    lower = [n.lower() for n in names]
    if "class_names" in attrs:
        class_names = [text(c) for c in np.atleast_1d(attrs["class_names"])]
        columns = []
        for c in class_names:
            if f"j_{c}".lower() not in lower:
                raise JetDataError(
                    f"{path}: class '{c}' (attribute class_names) has no column j_{c} in jetFeatureNames"
                )
            columns.append(lower.index(f"j_{c}".lower()))
        return class_names, columns
    columns = [lower.index(c) for c in PUBLIC_LABEL_COLUMNS if c in lower]
    if not columns:
        raise JetDataError(
            f"{path}: jetFeatureNames has none of the label columns {', '.join(PUBLIC_LABEL_COLUMNS)}"
        )
    return [PUBLIC_LABEL_COLUMNS[lower[i]] for i in columns], columns


def constituent_four_vectors(f: h5py.File, path) -> np.ndarray:
    """(N, P, 4) (px, py, pz, E) from jetConstituentP4, else from the named particle features."""
    if "jetConstituentP4" in f:
        p4 = np.asarray(f["jetConstituentP4"][()])
        if p4.ndim != 3 or p4.shape[-1] != 4:
            raise JetDataError(f"{path}: 'jetConstituentP4' has shape {p4.shape}, expected (jets, particles, 4)")
        return p4.astype(np.float32)
    for key in ("jetConstituentList", "particleFeatureNames"):
        if key not in f:
            raise JetDataError(f"{path}: no dataset '{key}' (and no jetConstituentP4); not {FORMAT}")
    features = np.asarray(f["jetConstituentList"][()])
    names = [text(n).strip().lower() for n in np.atleast_1d(f["particleFeatureNames"][()])]
    if features.ndim != 3 or features.shape[-1] != len(names):
        raise JetDataError(
            f"{path}: 'jetConstituentList' has shape {features.shape} but particleFeatureNames lists {len(names)} names"
        )
    missing = [n for n in P4_PARTICLE_FEATURES if n not in names]
    if missing:
        raise JetDataError(f"{path}: particleFeatureNames lacks {', '.join(missing)}")
    return features[..., [names.index(n) for n in P4_PARTICLE_FEATURES]].astype(np.float32)
