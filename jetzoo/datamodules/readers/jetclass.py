"""Reader for the JetClass dataset ROOT files (Qu, Li, Qian, arXiv:2202.03772).

TTree `tree`, one entry per jet: jagged part_px, part_py, part_pz, part_energy (plus part_deta,
part_dphi, ... not needed here), jet-level jet_pt, jet_eta, jet_phi, jet_energy, jet_nparticles,
jet_sdmass, jet_tau1..4 (kept as `hl`), and one-hot label_QCD, label_Hbb, ..., label_Tbl.
Classes are the label_ branches present, in file order.
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from jetzoo.datamodules.readers.failures import labels_from_one_hot, reading, require_finite, require_jets
from jetzoo.datamodules.readers.paths import read_files
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


def read_jetclass(path, max_particles: int = DEFAULT_MAX_PARTICLES) -> JetTable:
    """Read one JetClass file, a directory of them, or a glob; keep the `max_particles` hardest constituents."""
    if max_particles < 1:
        raise JetDataError(f"{path}: max_particles must be at least 1, got {max_particles}")
    return read_files(path, SUFFIXES, lambda f: read_jetclass_file(f, max_particles))


def read_jetclass_file(path: Path, max_particles: int = DEFAULT_MAX_PARTICLES) -> JetTable:
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
        require_jets(tree.num_entries, path)
        arrays = tree.arrays([*P4_BRANCHES, *label_branches, *hl_branches], library="ak")
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
    class_names = [b[len(LABEL_PREFIX):] for b in label_branches]
    labels = labels_from_one_hot(one_hot, path, class_names)
    mask = np.arange(width)[None, :] < counts[:, None]
    p4, mask = sort_by_pt(p4, mask)
    keep = min(width, max_particles)
    return JetTable(
        p4=np.ascontiguousarray(p4[:, :keep]), mask=np.ascontiguousarray(mask[:, :keep]), labels=labels,
        class_names=class_names, source=str(path), hl=hl, hl_names=hl_branches, jet_radius=JET_RADIUS,
    ).validate()


def padded(jagged: ak.Array, width: int) -> np.ndarray:
    """(N, width) float32, zero padded, from a jagged (N, var) array."""
    return ak.to_numpy(ak.fill_none(ak.pad_none(jagged, width, clip=True), 0.0)).astype(np.float32)
