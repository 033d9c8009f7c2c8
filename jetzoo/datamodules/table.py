"""`JetTable`: the one in-memory form every jet source is read into (see docs/DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from jetzoo.datamodules.jet_identity import merge_sources
from jetzoo.errors import JetDataError


@dataclass
class JetTable:
    """Constituent four-vectors, labels and (optionally) high-level features of N jets.

    p4: (N, P, 4) float32 (px, py, pz, E), pT-descending, zero padded; mask: (N, P) bool.
    jet_ids: (N,) uint64, each jet's identity hashed (jet_identity.py); `sources`: the files (and rows)
    the jets were read from, the table's manifest; `first_row`: where a reader's chunk starts in its file. Readers set both; a table built without them gets
    ids from (source, row) in `JetDataModule.table`.
    """

    p4: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    source: str
    hl: np.ndarray | None = None
    hl_names: list[str] = field(default_factory=list)
    jet_radius: float = 0.8
    jet_ids: np.ndarray | None = None
    sources: tuple = ()
    first_row: int = 0  # a reader's chunk: the row of its file where it starts

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_particles(self) -> int:
        return self.p4.shape[1]

    def validate(self) -> "JetTable":
        """Raise JetDataError naming `source` for anything a model must never see."""
        src = self.source
        if len(self.labels) == 0:
            raise JetDataError(f"{src}: contains no jets")
        if self.p4.ndim != 3 or self.p4.shape[-1] != 4:
            raise JetDataError(f"{src}: constituents have shape {self.p4.shape}, expected (jets, particles, 4)")
        n = len(self.labels)
        if self.p4.shape[0] != n or self.mask.shape != self.p4.shape[:2]:
            raise JetDataError(
                f"{src}: {self.p4.shape[0]} constituent rows, {self.mask.shape} mask, {n} labels do not match"
            )
        if not np.isfinite(self.p4).all():
            bad = int((~np.isfinite(self.p4)).any(axis=(1, 2)).sum())
            raise JetDataError(f"{src}: {bad} jets have NaN or inf constituent values")
        if self.hl is not None:
            if self.hl.shape != (n, len(self.hl_names)):
                raise JetDataError(f"{src}: high-level features have shape {self.hl.shape}, expected ({n}, {len(self.hl_names)})")
            if not np.isfinite(self.hl).all():
                bad = int((~np.isfinite(self.hl)).any(axis=1).sum())
                raise JetDataError(f"{src}: {bad} jets have NaN or inf high-level features")
        if self.jet_ids is not None and self.jet_ids.shape != (n,):
            raise JetDataError(f"{src}: {self.jet_ids.shape} jet ids for {n} jets")
        if self.labels.min() < 0 or self.labels.max() >= len(self.class_names):
            raise JetDataError(f"{src}: labels outside 0..{len(self.class_names) - 1} ({self.class_names})")
        return self

    def subset(self, idx: np.ndarray) -> "JetTable":
        return JetTable(
            p4=self.p4[idx],
            mask=self.mask[idx],
            labels=self.labels[idx],
            class_names=self.class_names,
            source=self.source,
            hl=None if self.hl is None else self.hl[idx],
            hl_names=self.hl_names,
            jet_radius=self.jet_radius,
            jet_ids=None if self.jet_ids is None else self.jet_ids[idx],
            sources=self.sources,
        )

    @staticmethod
    def concat(tables: list["JetTable"]) -> "JetTable":
        """Join tables from several files or chunks; particle axes are padded to the longest.

        `source` names each file once, in order, however many chunks it came in."""
        if len(tables) == 1:
            return tables[0]
        first = tables[0]
        for t in tables[1:]:
            if t.class_names != first.class_names or t.hl_names != first.hl_names:
                raise JetDataError(f"{t.source}: classes or features differ from {first.source}")
        p = max(t.num_particles for t in tables)

        def pad(a, fill=0):
            width = [(0, 0)] * a.ndim
            width[1] = (0, p - a.shape[1])
            return np.pad(a, width, constant_values=fill)

        return JetTable(
            p4=np.concatenate([pad(t.p4) for t in tables]),
            mask=np.concatenate([pad(t.mask, False) for t in tables]),
            labels=np.concatenate([t.labels for t in tables]),
            class_names=first.class_names,
            source=", ".join(dict.fromkeys(t.source for t in tables)),
            hl=None if first.hl is None else np.concatenate([t.hl for t in tables]),
            hl_names=first.hl_names,
            jet_radius=first.jet_radius,
            jet_ids=None if any(t.jet_ids is None for t in tables) else np.concatenate([t.jet_ids for t in tables]),
            sources=merge_sources(s for t in tables for s in t.sources),
        )


def sort_by_pt(p4: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order constituents by pT descending (padding last); readers call this when a format is unsorted."""
    pt2 = np.where(mask, p4[..., 0] ** 2 + p4[..., 1] ** 2, -1.0)
    unsorted = np.flatnonzero((pt2[:, 1:] > pt2[:, :-1]).any(axis=1))  # most files are sorted already
    if len(unsorted) == 0:
        return p4, mask
    order = np.argsort(-pt2[unsorted], axis=1, kind="stable")
    p4, mask = p4.copy(), mask.copy()
    p4[unsorted] = np.take_along_axis(p4[unsorted], order[..., None], axis=1)
    mask[unsorted] = np.take_along_axis(mask[unsorted], order, axis=1)
    return p4, mask
