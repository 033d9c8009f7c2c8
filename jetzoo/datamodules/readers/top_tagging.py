"""Reader for the Top Tagging Reference dataset (Kasieczka et al., arXiv:1902.09914).

pandas HDF5, key `table` (fixed or table storage): one row per jet with columns
E_i, PX_i, PY_i, PZ_i for constituents i = 0..199 (zero padded), truthE/PX/PY/PZ (the top
parton, not a jet feature), `ttv` (train/test/val flag) and `is_signal_new` (1 = top, 0 = QCD).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from jetzoo.datamodules.readers.failures import binary_labels, reading, require_finite, require_jets
from jetzoo.datamodules.readers.paths import read_files
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError

FORMAT = "a Top Tagging pandas HDF5 file"
SUFFIXES = (".h5", ".hdf5")
KEY = "table"
LABEL_COLUMN = "is_signal_new"
CLASS_NAMES = ["QCD", "top"]
COMPONENTS = ("PX", "PY", "PZ", "E")
JET_RADIUS = 0.8


def read_top_tagging(path) -> JetTable:
    """Read one Top Tagging file, a directory of them, or a glob; files are concatenated."""
    return read_files(path, SUFFIXES, read_top_tagging_file)


def read_top_tagging_file(path: Path) -> JetTable:
    with reading(path, FORMAT):
        frame = pd.read_hdf(path, key=KEY)
    if not isinstance(frame, pd.DataFrame):
        raise JetDataError(f"{path}: key '{KEY}' holds a {type(frame).__name__}, expected a DataFrame")
    if LABEL_COLUMN not in frame.columns:
        raise JetDataError(f"{path}: no column '{LABEL_COLUMN}'; not {FORMAT}")
    n_particles = constituent_count(frame.columns, path)
    require_jets(len(frame), path)
    columns = [f"{c}_{i}" for i in range(n_particles) for c in COMPONENTS]
    with reading(path, FORMAT):
        p4 = frame[columns].to_numpy(dtype=np.float32).reshape(len(frame), n_particles, 4)
    require_finite(p4, path, "constituent four-vectors")
    labels = binary_labels(frame[LABEL_COLUMN].to_numpy(), path, LABEL_COLUMN)
    mask = (p4[..., 3] > 0) | (p4[..., 0] ** 2 + p4[..., 1] ** 2 > 0)
    p4, mask = sort_by_pt(p4, mask)
    return JetTable(
        p4=np.ascontiguousarray(p4), mask=mask, labels=labels, class_names=list(CLASS_NAMES),
        source=str(path), jet_radius=JET_RADIUS,
    ).validate()


def constituent_count(columns, path) -> int:
    """Number of constituent slots: every E_i, PX_i, PY_i, PZ_i for i below it must exist."""
    indices = [int(m.group(1)) for c in columns if (m := re.fullmatch(r"E_(\d+)", str(c)))]
    if not indices:
        raise JetDataError(f"{path}: no constituent columns E_0, PX_0, PY_0, PZ_0, ...; not {FORMAT}")
    n = max(indices) + 1
    present = set(map(str, columns))
    missing = [f"{c}_{i}" for i in range(n) for c in COMPONENTS if f"{c}_{i}" not in present]
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise JetDataError(f"{path}: constituent columns missing: {shown}")
    return n
