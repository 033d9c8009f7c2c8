"""Reader for the JetClass dataset ROOT files (Qu, Li, Qian, arXiv:2202.03772; Zenodo 6619768).

TTree `tree`, one entry per jet: jagged part_px, part_py, part_pz, part_energy (plus part_deta,
part_dphi, part_d0val, part_charge, part_is*, ... not needed here), jet-level jet_pt, jet_eta,
jet_phi, jet_energy, jet_nparticles, jet_sdmass, jet_tau1..4 (kept as `hl`), one-hot label_QCD,
label_Hbb, ..., label_Tbl of mixed types (float label_QCD, bool label_Hbb..Hqql, int32 label_Zqq..Tbl,
as tree.show() prints them in particle_transformer's notebooks/JetClass101.ipynb), and aux_genpart_* /
aux_truth_match (not read), as weaver-core's JetClass data configs read them. Classes are the label_ branches present, in file
order. The published files hold one class each (e.g. HToBB_000.root) with all ten label branches.
Every listed particle is real: a zero or negative energy is an error, not padding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from jetzoo.datamodules.readers.failures import labels_from_one_hot, reading, require_finite, require_jets
from jetzoo.datamodules.readers.paths import (
    DEFAULT_CHUNK_SIZE,
    ChunkSelection,
    iter_files,
    join_chunks,
    selected_bounds,
)
from jetzoo.datamodules.readers.validation import physical_constituents, require_plausible_size
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError

FORMAT = "a JetClass ROOT file"
SUFFIXES = (".root",)
TREE = "tree"
P4_BRANCHES = ("part_px", "part_py", "part_pz", "part_energy")
LABEL_PREFIX = "label_"
HL_PREFIX = "jet_"
DEFAULT_MAX_PARTICLES = 128
JET_RADIUS = 0.8


def read_jetclass(path, max_particles: int = DEFAULT_MAX_PARTICLES, chunk_size: int = DEFAULT_CHUNK_SIZE) -> JetTable:
    """Read one JetClass file, a directory of them, or a glob; keep the `max_particles` hardest constituents."""
    return join_chunks(iter_jetclass(path, chunk_size, max_particles=max_particles))


def iter_jetclass(path, chunk_size: int = DEFAULT_CHUNK_SIZE, select: ChunkSelection | None = None,
                  max_particles: int = DEFAULT_MAX_PARTICLES) -> Iterator[JetTable]:
    """Validated JetTables of at most `chunk_size` jets, file after file (`select`: see iter_files)."""
    if max_particles < 1:
        raise JetDataError(f"{path}: max_particles must be at least 1, got {max_particles}")
    read = lambda f, size, chosen: iter_jetclass_file(f, size, max_particles, chosen)  # noqa: E731
    return iter_files(path, SUFFIXES, read, chunk_size, select)


def iter_jetclass_file(path: Path, chunk_size: int = DEFAULT_CHUNK_SIZE,
                       max_particles: int = DEFAULT_MAX_PARTICLES, chosen=None) -> Iterator[JetTable]:
    with reading(path, FORMAT), uproot.open(path) as root_file:
        if TREE not in root_file:
            raise JetDataError(f"{path}: no TTree '{TREE}' (found {root_file.keys(cycle=False)}); not {FORMAT}")
        tree = root_file[TREE]
        branches = list(tree.keys())
        missing = [b for b in P4_BRANCHES if b not in branches]
        if missing:
            raise JetDataError(f"{path}: tree '{TREE}' lacks branches {', '.join(missing)}")
        label_branches = [b for b in branches if b.startswith(LABEL_PREFIX)]
        if not label_branches:
            raise JetDataError(f"{path}: tree '{TREE}' has no {LABEL_PREFIX}* branches")
        hl_branches = [b for b in branches if b.startswith(HL_PREFIX)]
        wanted = [*P4_BRANCHES, *label_branches, *hl_branches]
        require_jets(tree.num_entries, path)
        for name in wanted:  # the entries the tree declares must be in the branches' baskets
            stored = int(tree[name].entry_offsets[-1]) if tree[name].num_baskets else 0
            if stored < tree.num_entries:
                raise JetDataError(f"{path}: tree '{TREE}' declares {tree.num_entries} entries but branch "
                                   f"{name} stores {stored}; the file is truncated or corrupt")
        require_plausible_size(path, f"tree '{TREE}'", (tree.num_entries, len(wanted)), 8)
        class_names = [b[len(LABEL_PREFIX):] for b in label_branches]
        for start, stop in selected_bounds(tree.num_entries, chunk_size, chosen):
            arrays = tree.arrays(wanted, entry_start=start, entry_stop=stop, library="ak")
            yield jetclass_table(path, start, arrays, label_branches, hl_branches, class_names, max_particles)


def jetclass_table(path, start, arrays, label_branches, hl_branches, class_names, max_particles) -> JetTable:
    not_jagged = [b for b in P4_BRANCHES if arrays[b].ndim != 2]
    not_flat = [b for b in [*label_branches, *hl_branches] if arrays[b].ndim != 1]
    if not_jagged or not_flat:
        raise JetDataError(
            f"{path}: wrong branch shapes: {', '.join(not_jagged + not_flat)} "
            "(constituent branches must hold one list per jet, label_/jet_ branches one number per jet)"
        )
    counts = ak.to_numpy(ak.num(arrays[P4_BRANCHES[0]], axis=1))
    if any((ak.to_numpy(ak.num(arrays[b], axis=1)) != counts).any() for b in P4_BRANCHES[1:]):
        raise JetDataError(f"{path}: branches {', '.join(P4_BRANCHES)} have different particle counts")
    width = max(int(counts.max()), 1)
    p4 = np.stack([padded(arrays[b], width) for b in P4_BRANCHES], axis=-1)
    one_hot = np.stack([ak.to_numpy(arrays[b]).astype(np.float64) for b in label_branches], axis=1)
    hl = np.stack([ak.to_numpy(arrays[b]).astype(np.float32) for b in hl_branches], axis=1) if hl_branches else None
    require_finite(p4, path, "constituent four-vectors")
    labels = labels_from_one_hot(one_hot, path, class_names)
    mask = np.arange(width)[None, :] < counts[:, None]
    p4, mask = sort_by_pt(p4, mask)
    keep = min(width, max_particles)
    p4, mask = np.ascontiguousarray(p4[:, :keep]), np.ascontiguousarray(mask[:, :keep])
    physical_constituents(p4, mask, str(path), start)
    return JetTable(
        p4=p4, mask=mask, labels=labels, class_names=class_names, source=str(path), hl=hl, hl_names=hl_branches,
        jet_radius=JET_RADIUS, first_row=start,
    ).validate()


def padded(jagged: ak.Array, width: int) -> np.ndarray:
    """(N, width) float32, zero padded, from a jagged (N, var) array."""
    return ak.to_numpy(ak.fill_none(ak.pad_none(jagged, width, clip=True), 0.0)).astype(np.float32)
