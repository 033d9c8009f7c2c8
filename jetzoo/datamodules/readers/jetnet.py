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
A file holding one type is the published layout (jetnet's JetNet.getData reads f"{type}.hdf5" per type
and prepends `jet_types.index(type)`), so a single-class read is legal. The mask column must be 0 or 1;
the published num_particles column may exceed P (the 30-particle files keep the full count), so it is
not compared with the mask.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from jetzoo.datamodules.readers.failures import reading, require_finite, require_jets, require_rows
from jetzoo.datamodules.readers.hdf5 import content_sha256, external_objects, numeric_dataset, require_self_contained
from jetzoo.datamodules.readers.paths import (
    DEFAULT_CHUNK_SIZE,
    ChunkSelection,
    expand_paths,
    identify_by_content,
    join_chunks,
    selected_bounds,
    with_file_identity,
)
from jetzoo.datamodules.readers.validation import physical_constituents, require_positive
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


def read_jetnet(path, chunk_size: int = DEFAULT_CHUNK_SIZE, allow_external: bool = False) -> JetTable:
    """Read one JetNet file, a directory of them, or a glob; files are concatenated."""
    return join_chunks(iter_jetnet(path, chunk_size, allow_external=allow_external))


def iter_jetnet(path, chunk_size: int = DEFAULT_CHUNK_SIZE, select: ChunkSelection | None = None,
                allow_external: bool = False) -> Iterator[JetTable]:
    """Validated JetTables of at most `chunk_size` jets, file after file.

    The classes are the types present in any of the files, so each file's types are found first."""
    if int(chunk_size) < 1:
        raise JetDataError(f"{path}: chunk_size must be at least 1, got {chunk_size}")
    files = expand_paths(path, SUFFIXES)
    present = sorted(set().union(*(file_types(f, allow_external) for f in files)))
    for f in files:
        chosen = None if select is None else (lambda k, f=f: select(f, k))
        yield from with_file_identity(f, iter_jetnet_file(f, present, int(chunk_size), chosen, allow_external))


def open_datasets(f: h5py.File, path: Path, allow_external: bool = False) -> tuple[h5py.Dataset, h5py.Dataset | None]:
    """particle_features and jet_features (or None), their shapes, dtypes and sizes checked
    (`allow_external`: see hdf5.require_self_contained)."""
    require_self_contained(f, path, allow_external)
    particles = numeric_dataset(f, "particle_features", path, not_format=FORMAT)
    if particles.ndim != 3 or particles.shape[-1] != len(PARTICLE_FEATURES):
        raise JetDataError(
            f"{path}: 'particle_features' has shape {particles.shape}, "
            f"expected (jets, particles, 4) = {', '.join(PARTICLE_FEATURES)}"
        )
    require_jets(len(particles), path)
    if "jet_features" not in f:
        return particles, None
    jet_features = numeric_dataset(f, "jet_features", path)
    if jet_features.ndim != 2 or jet_features.shape[1] not in JET_FEATURE_LAYOUTS:
        raise JetDataError(
            f"{path}: 'jet_features' has shape {jet_features.shape}, expected (jets, 4) = pt, eta, mass, "
            "num_particles, or (jets, 5) with the type first"
        )
    require_rows(jet_features, len(particles), path, "'jet_features'")
    return particles, jet_features


def file_types(path: Path, allow_external: bool = False) -> set[int]:
    """Type codes present in one file (its type column, else its name)."""
    with reading(path, FORMAT), h5py.File(path, "r") as f:
        _, jet_features = open_datasets(f, path, allow_external)
        if jet_features is not None and jet_features.shape[1] == 5:
            return set(np.unique(type_codes(path, jet_features[:, 0])).tolist())
    return {name_type(path)}


def type_codes(path: Path, codes: np.ndarray) -> np.ndarray:
    valid = np.isin(codes, np.arange(len(JET_TYPES)))
    if not valid.all():
        raise JetDataError(f"{path}: {int((~valid).sum())} jets have a type code outside 0..4 ({JET_TYPES})")
    return codes.astype(np.int64)


def name_type(path: Path) -> int:
    match = FILE_NAME_TYPE.fullmatch(path.stem)
    if match is None:
        raise JetDataError(
            f"{path}: jet type unknown: the file name is not one of g/q/t/w/z[150].hdf5 and "
            "'jet_features' has no type column"
        )
    return JET_TYPES.index(match.group(1).lower())


def iter_jetnet_file(path: Path, present: list[int], chunk_size: int = DEFAULT_CHUNK_SIZE, chosen=None,
                     allow_external: bool = False) -> Iterator[JetTable]:
    with reading(path, FORMAT), h5py.File(path, "r") as f:
        particles, jet_features = open_datasets(f, path, allow_external)
        key = content_sha256(f) if external_objects(f) else None  # allowed, or open_datasets refused it
        for start, stop in selected_bounds(len(particles), chunk_size, chosen):
            jets = None if jet_features is None else np.asarray(jet_features[start:stop])
            yield from identify_by_content(path, key, [jetnet_table(path, start, np.asarray(particles[start:stop]), jets, present)])


def jetnet_table(path: Path, start: int, particles: np.ndarray, jet_features: np.ndarray | None,
                 present: list[int]) -> JetTable:
    require_finite(particles, path, "particle features")
    etarel, phirel, ptrel, real = (particles[..., i] for i in range(4))
    bad_mask = (real != 0) & (real != 1)
    if bad_mask.any():
        raise JetDataError(f"{path}: {int(bad_mask.any(axis=1).sum())} jets have mask values other than 0 and 1 "
                           f"in 'particle_features', first jet {int(np.argmax(bad_mask.any(axis=1))) + start}")
    mask = real == 1
    require_positive(ptrel, mask, str(path), "real particles with ptrel", start)
    if jet_features is None:
        jet_pt, jet_eta = np.ones(len(ptrel)), np.zeros(len(ptrel))
        hl, hl_names = None, []
        codes = np.full(len(ptrel), name_type(path), dtype=np.int64)
    else:
        require_finite(jet_features, path, "jet features")
        layout = JET_FEATURE_LAYOUTS[jet_features.shape[1]]
        jet_pt, jet_eta = jet_features[:, layout.index("pt")], jet_features[:, layout.index("eta")]
        require_positive(jet_pt, np.ones(len(jet_pt), bool), str(path), "jets with pt in 'jet_features'", start)
        columns = [i for i, name in enumerate(layout) if name != "type"]
        hl = jet_features[:, columns].astype(np.float32)
        hl_names = [f"jet_{layout[i]}" for i in columns]
        codes = (type_codes(path, jet_features[:, 0]) if "type" in layout
                 else np.full(len(ptrel), name_type(path), dtype=np.int64))
    with np.errstate(over="ignore", invalid="ignore"):
        p4 = ptetaphim_to_p4(
            (ptrel * jet_pt[:, None]).astype(np.float64), (etarel + jet_eta[:, None]).astype(np.float64),
            phirel.astype(np.float64),
        )
    p4 = np.where(mask[..., None], p4, 0.0).astype(np.float32)
    p4, mask = sort_by_pt(p4, mask)
    physical_constituents(p4, mask, str(path), start)
    return JetTable(
        p4=np.ascontiguousarray(p4), mask=mask,
        labels=np.searchsorted(present, codes).astype(np.int64),
        class_names=[CLASS_NAMES[JET_TYPES[c]] for c in present],
        source=str(path), hl=hl, hl_names=hl_names, jet_radius=JET_RADIUS, first_row=start,
    ).validate()
