"""One chunk: a freshly seeded Pythia run producing exactly `n_jets` labelled jets of one class.

A chunk depends only on (recipe, class_index, n_jets, pythia_seed, max_particles, detector), never on
which process runs it, which is what makes a whole file independent of the number of workers.
Hot path per batch of events: Pythia `nextBatch` (awkward event records) -> visible final state ->
[detector: energy-flow objects, detector.py, its Generator seeded from the chunk's Pythia seed] ->
FastJet anti-kT on all events at once -> vectorised jet selection and truth matching (always against
the generator-level hard process).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import awkward as ak
import fastjet
import numpy as np

from jetzoo.generate.detector import Detector, make_detector
from jetzoo.generate.recipes import Recipe
from jetzoo.generate.truth import EventRecords, hard_objects, match_jets
from jetzoo.physics import kinematics
from jetzoo.physics.features import DEFAULT_TAU_AXES, hls4ml_particle_features, jagged_high_level_features

NEUTRINOS = (12, 14, 16)
MIN_BATCH_EVENTS, MAX_BATCH_EVENTS = 8, 200
MAX_EVENTS_PER_JET = 1000  # give up (a broken recipe) rather than loop forever


@dataclass
class JetChunk:
    """Jets of one chunk, ready to write: constituents pT-sorted and padded to P."""

    p4: np.ndarray  # float32 (n, P, 4)
    mask: np.ndarray  # bool (n, P)
    particles: np.ndarray  # float32 (n, P, 16): hls4ml particle features
    hl: np.ndarray  # float32 (n, F): HL_FEATURE_NAMES, from all constituents
    labels: np.ndarray  # int64 (n,)
    n_events: int  # Pythia events used
    # int64 (n, 2): each jet's generated event (its number in this chunk's Pythia run, from 0) and its rank among
    # that event's selected jets: a jet's identity whatever detector it passed through (jet_identity.py)
    events: np.ndarray | None = None
    chunk_index: int = -1  # set by the runner: which chunk of its class this is


def make_pythia(settings: list[str], seed: int):
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in [*settings, "Random:setSeed = on", f"Random:seed = {seed}"]:
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia failed to initialise with {settings}")
    return pythia


def generate_chunk(
    recipe: Recipe,
    class_index: int,
    n_jets: int,
    pythia_seed: int,
    max_particles: int,
    on_jets: Callable[[int], None] | None = None,
    tau_axes: str | None = None,
    detector: str = "none",
) -> JetChunk:
    """Run Pythia until `n_jets` jets of class `class_index` are found; `on_jets(k)` reports progress.

    `tau_axes` (default: the recipe's) only changes the tau_N features, never which jets are made.
    `detector` ("none", "atlas-like", "cms-like") turns the visible particles into Delphes-like
    energy-flow objects before clustering.
    """
    pythia = make_pythia(recipe.pythia_settings(class_index), pythia_seed)
    smear = make_detector(detector, pythia_seed, pythia.particleData.charge)
    wanted = recipe.sources[class_index].matched_ids
    found: list[ak.Array] = []
    found_events: list[np.ndarray] = []
    n_found = n_events = 0
    while n_found < n_jets:
        # Batch size follows this chunk's own yield so far: deterministic, and little overshoot.
        per_event = max(n_found, 1) / max(n_events, 1) if n_events else 0.5
        want = math.ceil((n_jets - n_found) / per_event * 1.1)
        events = pythia.nextBatch(min(max(want, MIN_BATCH_EVENTS), MAX_BATCH_EVENTS))
        jets, jet_events = select_jets(events, recipe, wanted, smear, with_events=True)
        jets, jet_events = jets[: n_jets - n_found], jet_events[: n_jets - n_found]
        found_events.append(n_events + jet_events)  # the event's number in this chunk's run
        n_events += len(events)
        if len(jets):
            found.append(jets)
            n_found += len(jets)
            if on_jets is not None:
                on_jets(len(jets))
        if n_events > MAX_EVENTS_PER_JET * max(n_found, 1) and n_events > 10 * MAX_BATCH_EVENTS:
            found_what = f"{n_found} {recipe.class_names[class_index]} jets in {n_events} events"
            raise RuntimeError(f"recipe {recipe.name}: only {found_what}; check its Pythia settings")
    constituents = ak.concatenate(found) if len(found) > 1 else found[0]
    chunk = finish_chunk(
        constituents, recipe.jet_radius, max_particles, class_index, n_events, tau_axes or recipe.tau_axes
    )
    chunk.events = event_and_rank(np.concatenate(found_events))
    return chunk


def event_and_rank(event: np.ndarray) -> np.ndarray:
    """(n, 2) int64: each jet's event number and its rank among the selected jets of that event (in order)."""
    event = np.asarray(event, dtype=np.int64)
    if not len(event):
        return np.zeros((0, 2), np.int64)
    first = np.r_[True, event[1:] != event[:-1]]  # events come in order: a jet's rank counts back to its event's first
    starts = np.maximum.accumulate(np.where(first, np.arange(len(event)), 0))
    return np.stack([event, np.arange(len(event)) - starts], 1)


def select_jets(
    events: ak.Array, recipe: Recipe, wanted_ids: tuple[int, ...], detector: Detector | None = None,
    with_events: bool = False,
):
    """Constituents (jets x particles, px py pz E) of the jets in the recipe's window matched to `wanted_ids`
    (and, `with_events`, the index in `events` of each jet's event).

    The constituents are the visible final-state particles, or with a `detector` its energy-flow objects.
    """
    rec = EventRecords.from_batch(events)
    visible = (rec.status > 0) & ~np.isin(np.abs(rec.pid), NEUTRINOS)
    if detector is None:
        p4, event = np.column_stack([rec.p3[visible], rec.energy[visible]]), rec.event[visible]
    else:
        flow = detector(rec.pid[visible], np.column_stack([rec.p3[visible], rec.energy[visible]]), rec.event[visible])
        p4, event = flow.p4, flow.event
    columns = {"px": p4[:, 0], "py": p4[:, 1], "pz": p4[:, 2], "E": p4[:, 3]}
    counts = np.bincount(event, minlength=len(events))
    particles = ak.unflatten(ak.zip(columns, with_name="Momentum4D"), counts)
    jet_def = fastjet.JetDefinition(fastjet.antikt_algorithm, recipe.jet_radius)
    per_event = fastjet.ClusterSequence(particles, jet_def).constituents(min_pt=0.5 * recipe.pt_min)
    jet_event = np.repeat(np.arange(len(per_event)), ak.to_numpy(ak.num(per_event)))
    constituents = ak.flatten(per_event, axis=1)
    if len(constituents) == 0:
        return (constituents, jet_event) if with_events else constituents
    jet = np.stack([ak.to_numpy(ak.sum(constituents[k], axis=1)) for k in ("px", "py", "pz", "E")], axis=-1)
    pt = kinematics.pt(jet)
    keep = (pt >= recipe.pt_min) & (pt < recipe.pt_max)
    if recipe.abs_eta_max is not None:
        keep &= np.abs(kinematics.eta(jet)) < recipe.abs_eta_max
    rap_phi = np.stack([kinematics.rapidity(jet), kinematics.phi(jet)], axis=-1)
    if recipe.abs_rapidity_max is not None:
        keep &= np.abs(rap_phi[:, 0]) < recipe.abs_rapidity_max
    if keep.any():
        objects = hard_objects(rec, len(events))
        keep[keep] = match_jets(objects, jet_event[keep], rap_phi[keep], recipe.jet_radius, wanted_ids)
    return (constituents[keep], jet_event[keep]) if with_events else constituents[keep]


def finish_chunk(
    constituents: ak.Array,
    jet_radius: float,
    max_particles: int,
    label: int,
    n_events: int,
    tau_axes: str = DEFAULT_TAU_AXES,
) -> JetChunk:
    """High-level features from all constituents; then pT-sort, truncate to P, pad, particle features."""
    constituents = ak.zip({k: ak.values_astype(constituents[k], np.float64) for k in ("px", "py", "pz", "E")})
    hl = jagged_high_level_features(constituents, jet_radius, tau_axes)
    jet = np.stack([ak.to_numpy(ak.sum(constituents[k], axis=1)) for k in ("px", "py", "pz", "E")], axis=-1)
    order = ak.argsort(constituents.px**2 + constituents.py**2, axis=1, ascending=False, stable=True)
    ordered = constituents[order]
    counts = np.minimum(ak.to_numpy(ak.num(ordered)), max_particles)
    mask = np.arange(max_particles)[None, :] < counts[:, None]
    padded = [ak.fill_none(ak.pad_none(ordered[k], max_particles, clip=True), 0.0) for k in ("px", "py", "pz", "E")]
    p4 = np.stack([ak.to_numpy(column) for column in padded], axis=-1)
    return JetChunk(
        p4=p4.astype(np.float32),
        mask=mask,
        particles=hls4ml_particle_features(p4, mask, jet),
        hl=hl,
        labels=np.full(len(counts), label, dtype=np.int64),
        n_events=n_events,
    )
