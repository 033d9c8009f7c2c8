"""Truth labels: the hard-process objects of Pythia events, and the jets that match exactly one of them.

Everything works on flat numpy views of a batch of Pythia event records (no per-particle Python).
Candidates of an event are the outgoing particles of its hardest 2 -> 2 process (mother1 = entry 3):
partons, W/Z bosons and top quarks. A resonance is taken at its last carbon copy (after recoil in the
shower, just before it decays) and carries its decay quarks: q q' for W and Z, b q q' for top.
A jet is labelled when exactly one candidate lies within dR < R of its axis and, for a resonance,
all decay quarks also do; everything else is ambiguous and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

RESONANCES = (6, 23, 24)  # |PDG id| followed to their decay
MAX_DECAY_QUARKS = 3
MAX_COPY_STEPS = 200


@dataclass
class EventRecords:
    """Flat per-particle columns of a batch of events; `start[e]` is the offset of event e."""

    pid: np.ndarray
    status: np.ndarray
    mother1: np.ndarray
    daughter1: np.ndarray
    daughter2: np.ndarray
    p3: np.ndarray  # (n_particles, 3) px py pz
    energy: np.ndarray
    event: np.ndarray  # event index of each particle
    start: np.ndarray

    @classmethod
    def from_batch(cls, events: ak.Array) -> "EventRecords":
        prt = events.prt
        counts = ak.to_numpy(ak.num(prt))
        col = lambda a: ak.to_numpy(ak.flatten(a))  # noqa: E731
        p = prt.p
        return cls(
            pid=col(prt.id),
            status=col(prt.status),
            mother1=col(prt.mother1),
            daughter1=col(prt.daughter1),
            daughter2=col(prt.daughter2),
            p3=np.stack([col(p.px), col(p.py), col(p.pz)], axis=-1),
            energy=col(p.e),
            event=np.repeat(np.arange(len(counts)), counts),
            start=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
        )

    def to_global(self, local: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Local event-record index -> flat index, for the events of the flat entries `rows`."""
        return self.start[self.event[rows]] + local


@dataclass
class HardObjects:
    """Per event, padded to C candidates: |PDG id| (0 = none), (y, phi), and decay-quark (y, phi) (NaN = none)."""

    abs_id: np.ndarray  # (E, C)
    rap_phi: np.ndarray  # (E, C, 2)
    decay_rap_phi: np.ndarray  # (E, C, MAX_DECAY_QUARKS, 2)


def hard_objects(rec: EventRecords, n_events: int) -> HardObjects:
    local = np.arange(len(rec.pid)) - rec.start[rec.event]
    primary = np.nonzero(np.isin(np.abs(rec.status), (22, 23)) & (rec.mother1 == 3) & (local > 4))[0]
    abs_id = np.abs(rec.pid[primary])
    is_res = np.isin(abs_id, RESONANCES)
    rows = primary.copy()
    rows[is_res] = _last_copy(rec, primary[is_res])
    decays = np.full((len(primary), MAX_DECAY_QUARKS), -1, dtype=np.int64)
    decays[is_res] = _decay_quarks(rec, rows[is_res])

    ev = rec.event[primary]
    slot = np.arange(len(primary)) - np.searchsorted(ev, ev)  # position among its event's candidates
    n_slots = max(int(slot.max()) + 1 if len(slot) else 1, 1)
    out = HardObjects(
        abs_id=np.zeros((n_events, n_slots), dtype=np.int64),
        rap_phi=np.zeros((n_events, n_slots, 2)),
        decay_rap_phi=np.full((n_events, n_slots, MAX_DECAY_QUARKS, 2), np.nan),
    )
    out.abs_id[ev, slot] = abs_id
    out.rap_phi[ev, slot] = _rap_phi(rec.p3[rows], rec.energy[rows])
    has = decays >= 0
    dec = np.full(decays.shape + (2,), np.nan)
    dec[has] = _rap_phi(rec.p3[decays[has]], rec.energy[decays[has]])
    out.decay_rap_phi[ev, slot] = dec
    return out


def match_jets(
    objects: HardObjects, jet_event: np.ndarray, jet_rap_phi: np.ndarray, radius: float, wanted_ids: tuple[int, ...]
) -> np.ndarray:
    """Boolean (n_jets,): exactly one candidate within `radius`, its |id| in `wanted_ids`, its decay quarks inside."""
    cand_id = objects.abs_id[jet_event]  # (J, C)
    close = (_delta_r(jet_rap_phi[:, None, :], objects.rap_phi[jet_event]) < radius) & (cand_id > 0)
    unique = close.sum(axis=1) == 1
    which = np.argmax(close, axis=1)
    rows = np.arange(len(jet_event))
    matched_id = cand_id[rows, which]
    quarks = objects.decay_rap_phi[jet_event, which]  # (J, Q, 2)
    quark_dr = _delta_r(jet_rap_phi[:, None, :], quarks)
    quarks_inside = np.where(np.isnan(quarks[..., 0]), True, quark_dr < radius).all(axis=1)
    return unique & np.isin(matched_id, wanted_ids) & quarks_inside


def _last_copy(rec: EventRecords, rows: np.ndarray) -> np.ndarray:
    """Follow carbon copies (daughter1 == daughter2, same id) down to the copy that decays."""
    rows = rows.copy()
    for _ in range(MAX_COPY_STEPS):
        d1, d2 = rec.daughter1[rows], rec.daughter2[rows]
        nxt = rec.to_global(d1, rows)
        step = (d1 > 0) & (d1 == d2)
        step[step] &= rec.pid[nxt[step]] == rec.pid[rows[step]]
        if not step.any():
            return rows
        rows[step] = nxt[step]
    raise RuntimeError("Pythia event record: resonance copy chain longer than expected")


def _decay_quarks(rec: EventRecords, rows: np.ndarray) -> np.ndarray:
    """(len(rows), 3) flat indices of the quarks a top/W/Z decays to (-1 pads), W from top followed down."""
    out = np.full((len(rows), MAX_DECAY_QUARKS), -1, dtype=np.int64)
    fill = np.zeros(len(rows), dtype=np.int64)
    d1, d2 = rec.daughter1[rows], rec.daughter2[rows]
    for local in (d1, np.where(d2 > d1, d2, 0)):
        has = local > 0
        child = rec.to_global(local, rows)
        boson = has.copy()
        boson[has] = np.isin(np.abs(rec.pid[child[has]]), (23, 24))
        quark = has & ~boson
        _put(out, fill, quark, child)
        if boson.any():
            last = _last_copy(rec, child[boson])
            inner = np.zeros((len(rows), 2), dtype=np.int64)
            inner[boson, 0] = rec.to_global(rec.daughter1[last], last)
            inner[boson, 1] = rec.to_global(rec.daughter2[last], last)
            _put(out, fill, boson, inner[:, 0])
            _put(out, fill, boson, inner[:, 1])
    return out


def _put(out: np.ndarray, fill: np.ndarray, where: np.ndarray, values: np.ndarray) -> None:
    where = where & (fill < out.shape[1])
    out[where, fill[where]] = values[where]
    fill[where] += 1


def _rap_phi(p3: np.ndarray, energy: np.ndarray) -> np.ndarray:
    pz = p3[..., 2]
    rap = 0.5 * np.log(np.maximum(energy + pz, 1e-12) / np.maximum(energy - pz, 1e-12))
    return np.stack([rap, np.arctan2(p3[..., 1], p3[..., 0])], axis=-1)


def _delta_r(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dphi = (a[..., 1] - b[..., 1] + np.pi) % (2 * np.pi) - np.pi
    return np.hypot(a[..., 0] - b[..., 0], dphi)
