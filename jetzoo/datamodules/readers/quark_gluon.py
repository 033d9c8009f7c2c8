"""Reader for the energyflow quark-gluon jet samples (Komiske, Metodiev, Thaler, arXiv:1810.05165; Zenodo 3164691).

`.npz` archives (QG_jets*.npz, QG_jets_withbc*.npz, as `energyflow.qg_jets` downloads them) holding
  X (N, M, 4) float64 = pt, rapidity y, phi (within pi of the jet's), pid per particle, zero padded (not pT-sorted);
  y (N,)       float64 = 1 for quark, 0 for gluon jets.
M differs from file to file (each is padded to its own largest multiplicity). A padded particle has
pT = 0 (denormal pT counts as 0); a negative pT is an error. Particles are treated as massless
(rapidity = pseudorapidity); anti-kT R = 0.4 jets.
`X` is streamed chunk by chunk out of the archive; the shape its .npy header declares is checked
against the member's size first.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from jetzoo.datamodules.readers.failures import binary_labels, reading, require_finite, require_jets, require_rows
from jetzoo.datamodules.readers.paths import DEFAULT_CHUNK_SIZE, ChunkSelection, chunk_bounds, iter_files, join_chunks
from jetzoo.datamodules.readers.validation import TINY, physical_constituents, require_numeric, require_plausible_size
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError
from jetzoo.physics.kinematics import ptetaphim_to_p4

FORMAT = "an energyflow quark-gluon .npz file"
SUFFIXES = (".npz",)
CLASS_NAMES = ["g", "q"]
JET_RADIUS = 0.4
NPY_MAGIC = b"\x93NUMPY"


def read_quark_gluon(path, chunk_size: int = DEFAULT_CHUNK_SIZE) -> JetTable:
    """Read one quark-gluon .npz file, a directory of them, or a glob; files are concatenated."""
    return join_chunks(iter_quark_gluon(path, chunk_size))


def iter_quark_gluon(path, chunk_size: int = DEFAULT_CHUNK_SIZE, select: ChunkSelection | None = None
                     ) -> Iterator[JetTable]:
    """Validated JetTables of at most `chunk_size` jets, file after file (`select`: see iter_files;
    the .npz members are compressed streams, so unselected chunks are read and dropped)."""
    return iter_files(path, SUFFIXES, iter_quark_gluon_file, chunk_size, select)


def iter_quark_gluon_file(path: Path, chunk_size: int = DEFAULT_CHUNK_SIZE, chosen=None) -> Iterator[JetTable]:
    with reading(path, FORMAT):
        with open(path, "rb") as f:
            is_npy = f.read(len(NPY_MAGIC)) == NPY_MAGIC
        if is_npy:
            raise JetDataError(f"{path}: holds a single array, expected an .npz archive with X and y")
        if not zipfile.is_zipfile(path):
            raise JetDataError(
                f"{path}: cannot read as {FORMAT} (not a zip archive: empty, truncated or another format)"
            )
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy"): name for name in archive.namelist()}
            missing = [k for k in ("X", "y") if k not in members]
            if missing:
                raise JetDataError(
                    f"{path}: no array {' or '.join(missing)} (found {sorted(members)}); not {FORMAT}"
                )
            with archive.open(members["y"]) as stream:
                shape, dtype = npy_header(stream, archive.getinfo(members["y"]), path, "'y'")
                targets = read_rows(stream, shape, dtype, shape[0] if shape else 1)
            with archive.open(members["X"]) as stream:
                shape, dtype = npy_header(stream, archive.getinfo(members["X"]), path, "'X'")
                if len(shape) != 3 or shape[-1] < 3:
                    raise JetDataError(
                        f"{path}: 'X' has shape {shape}, expected (jets, particles, 4) = pt, y, phi, pid"
                    )
                if targets.ndim != 1:
                    raise JetDataError(f"{path}: 'y' has shape {targets.shape}, expected (jets,)")
                require_jets(shape[0], path)
                require_rows(targets, shape[0], path, "'y'")
                for k, (start, stop) in enumerate(chunk_bounds(shape[0], chunk_size)):
                    particles = read_rows(stream, shape, dtype, stop - start)
                    if chosen is None or chosen(k):
                        yield quark_gluon_table(path, start, particles, targets[start:stop])


def npy_header(stream, info: zipfile.ZipInfo, path, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of a C-ordered numeric .npy member, its declared size checked against the member's."""
    version = np.lib.format.read_magic(stream)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in read_header:
        raise JetDataError(f"{path}: {what} has .npy format version {version}, expected 1.0 or 2.0")
    shape, fortran_order, dtype = read_header[version](stream)
    require_numeric(dtype, path, what)
    if fortran_order and len(shape) > 1:
        raise JetDataError(f"{path}: {what} is stored in Fortran order; save it with np.savez (C order)")
    require_plausible_size(path, what, shape, dtype.itemsize, max(info.file_size - stream.tell(), 0))
    return tuple(int(d) for d in shape), dtype


def read_rows(stream, shape: tuple[int, ...], dtype: np.dtype, rows: int) -> np.ndarray:
    """The next `rows` rows of the array being streamed."""
    row_shape = shape[1:]
    count = rows * int(np.prod(row_shape, dtype=np.int64))
    data = stream.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise EOFError(f"array data ends after {len(data)} of {count * dtype.itemsize} bytes")
    return np.frombuffer(data, dtype=dtype).reshape((rows, *row_shape) if shape else ())


def quark_gluon_table(path: Path, start: int, particles: np.ndarray, targets: np.ndarray) -> JetTable:
    require_finite(particles, path, "particle values")
    labels = binary_labels(targets, path, "quark/gluon 'y'")
    pt, rapidity, phi = (particles[..., i].astype(np.float64) for i in range(3))
    negative = pt < 0
    if negative.any():
        jets = negative.any(axis=1)
        raise JetDataError(f"{path}: {int(negative.sum())} particles with pT < 0 in {int(jets.sum())} jets, "
                           f"first jet {int(np.argmax(jets)) + start}")
    mask = pt >= TINY
    with np.errstate(over="ignore", invalid="ignore"):
        p4 = np.where(mask[..., None], ptetaphim_to_p4(pt, rapidity, phi), 0.0).astype(np.float32)
    p4, mask = sort_by_pt(p4, mask)
    physical_constituents(p4, mask, str(path), start)
    return JetTable(
        p4=np.ascontiguousarray(p4), mask=mask, labels=labels, class_names=list(CLASS_NAMES),
        source=str(path), jet_radius=JET_RADIUS, first_row=start,
    ).validate()
