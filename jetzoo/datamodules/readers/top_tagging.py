"""Reader for the Top Tagging Reference dataset (Kasieczka et al., arXiv:1902.09914; Zenodo 2603256).

pandas HDF5, key `table` (fixed or table storage): one row per jet with columns
E_i, PX_i, PY_i, PZ_i for constituents i = 0..199 (zero padded), truthE/PX/PY/PZ (the top
parton, not a jet feature), `ttv` (train/test/val flag) and `is_signal_new` (1 = top, 0 = QCD).
A padded constituent is an all-zero row; denormals count as zero (validation.py).
"""

from __future__ import annotations

import functools

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from jetzoo.datamodules.readers.failures import binary_labels, reading, require_finite, require_jets
from jetzoo.datamodules.readers.hdf5 import require_all_backed
from jetzoo.datamodules.readers.paths import (
    DEFAULT_CHUNK_SIZE,
    ChunkSelection,
    identify_by_content,
    iter_files,
    join_chunks,
    selected_bounds,
)
from jetzoo.datamodules.readers.validation import physical_constituents, require_numeric, zero_padding_mask
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError

FORMAT = "a Top Tagging pandas HDF5 file"
SUFFIXES = (".h5", ".hdf5")
KEY = "table"
LABEL_COLUMN = "is_signal_new"
CLASS_NAMES = ["QCD", "top"]
COMPONENTS = ("PX", "PY", "PZ", "E")
JET_RADIUS = 0.8


def read_top_tagging(path, chunk_size: int = DEFAULT_CHUNK_SIZE, allow_external: bool = False) -> JetTable:
    """Read one Top Tagging file, a directory of them, or a glob; files are concatenated."""
    return join_chunks(iter_top_tagging(path, chunk_size, allow_external=allow_external))


def iter_top_tagging(path, chunk_size: int = DEFAULT_CHUNK_SIZE, select: ChunkSelection | None = None,
                     allow_external: bool = False) -> Iterator[JetTable]:
    """Validated JetTables of at most `chunk_size` jets, file after file (`select`: see iter_files;
    `allow_external`: hdf5.require_self_contained)."""
    one = functools.partial(iter_top_tagging_file, allow_external=allow_external)
    return iter_files(path, SUFFIXES, one, chunk_size, select)


def iter_top_tagging_file(path: Path, chunk_size: int = DEFAULT_CHUNK_SIZE, chosen=None,
                          allow_external: bool = False) -> Iterator[JetTable]:
    with reading(path, FORMAT):
        key = require_all_backed(path, allow_external=allow_external)  # the content's hash when external
        with pd.HDFStore(path, mode="r") as store:
            storer = store.get_storer(KEY) if f"/{KEY}" in store.keys() else None
            if storer is None:
                raise JetDataError(f"{path}: cannot read as {FORMAT} (no key '{KEY}'; found {store.keys()})")
            head = store.select(KEY, start=0, stop=0)
            if not isinstance(head, pd.DataFrame):
                raise JetDataError(f"{path}: key '{KEY}' holds a {type(head).__name__}, expected a DataFrame")
            if LABEL_COLUMN not in head.columns:
                raise JetDataError(f"{path}: no column '{LABEL_COLUMN}'; not {FORMAT}")
            n_particles = constituent_count(head.columns, path)
            columns = [f"{c}_{i}" for i in range(n_particles) for c in COMPONENTS]
            for name in [*columns, LABEL_COLUMN]:
                require_numeric(head[name].dtype, path, f"column '{name}'")
            n = int(storer.nrows if storer.is_table else storer.shape[0])
            require_jets(n, path)
            for start, stop in selected_bounds(n, chunk_size, chosen):
                frame = store.select(KEY, start=start, stop=stop)
                p4 = frame[columns].to_numpy(dtype=np.float32).reshape(len(frame), n_particles, 4)
                yield from identify_by_content(path, key, [top_tagging_table(path, start, p4, frame[LABEL_COLUMN].to_numpy())])


def top_tagging_table(path, start: int, p4: np.ndarray, label_values: np.ndarray) -> JetTable:
    require_finite(p4, path, "constituent four-vectors")
    labels = binary_labels(label_values, path, LABEL_COLUMN)
    mask = zero_padding_mask(p4)
    p4 = np.where(mask[..., None], p4, np.float32(0))
    p4, mask = sort_by_pt(p4, mask)
    physical_constituents(p4, mask, str(path), start)
    return JetTable(
        p4=np.ascontiguousarray(p4), mask=mask, labels=labels, class_names=list(CLASS_NAMES),
        source=str(path), jet_radius=JET_RADIUS, first_row=start,
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
