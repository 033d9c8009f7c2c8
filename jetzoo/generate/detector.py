"""A fast parametric detector after Delphes: visible final-state particles in, energy-flow objects out.

`jetzoo generate --detector atlas-like|cms-like` runs it on every batch of events before clustering, as
Delphes clusters its `EFlowMerger/eflow` objects (the CMS card's FastJetFinder input; the ATLAS card
clusters towers, we take its eflow collection so that both detectors give the same kind of constituents).
The numbers are the cards' (detector_cards.py); the steps are Delphes' modules, vectorised with numpy
over all particles of a batch:

1. ParticlePropagator: neutral particles fly straight; charged ones follow a helix in the solenoid field
   (Radius, HalfLength, Bz) from the origin to the calorimeter face, where they hit the barrel or, when
   they curl up or go forward, an endcap. Their (eta, phi) there places their calorimeter deposits.
2. *TrackingEfficiency, *MomentumSmearing: each charged hadron, electron and muon becomes a track with
   the card's probability (eta at the calorimeter face, as Delphes' Efficiency module evaluates it);
   its pT is smeared log-normally with the card's relative width (capped at 1).
3. SimpleCalorimeter ECal, then HCal: each particle deposits its energy fraction (EnergyFraction) in the
   tower of the card's eta/phi grid it hits; the tower energy is smeared log-normally with
   ResolutionFormula(tower-centre eta, E) and zeroed below EnergyMin or EnergySignificanceMin * sigma; the
   tower direction is drawn uniformly inside the tower (SmearTowerCenter). Tracks depositing here
   (fraction > 0: electrons in the ECal, charged hadrons in the HCal) are subtracted: the excess
   E_tower - E_tracks becomes a neutral eflow object (a photon in the ECal, a neutral hadron in the HCal)
   when above EnergyMin and EnergySignificanceMin standard deviations (tower and track errors in
   quadrature); otherwise the tracks are rescaled to the error-weighted mean of track and tower energy.
   Tracks are always kept.
4. EFlowMerger: tracks + ECal eflow photons + HCal eflow neutral hadrons are the constituents.

Simplifications: every particle starts at the origin (Pythia's displaced vertices of K0S, Lambda, ...
decays are ignored); no pile-up; charged particles beyond the tracker (|eta| > 2.5) or lost by the
tracking efficiency still deposit in the calorimeters, as in Delphes, so they come back as neutral towers.
Randomness comes from a numpy Generator the caller seeds (chunk.py: from the chunk's Pythia seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jetzoo.generate.detector_cards import CARDS, DETECTOR_CHOICES, CalorimeterCard, DetectorCard

C_LIGHT = 2.99792458e8  # m/s, as in ParticlePropagator
KINDS = ("hadron", "electron", "muon")
TRACK, PHOTON, NEUTRAL_HADRON = 0, 1, 2  # EFlow.kind
DETECTOR_SPAWN_KEY = 0xDE7EC7  # SeedSequence(pythia_seed, spawn_key=(DETECTOR_SPAWN_KEY,)): chunk.py


def get_card(name: str) -> DetectorCard | None:
    """The card for `name` ("none": None); an unknown name is a ValueError naming the choices."""
    if name == "none":
        return None
    try:
        return CARDS[name]
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTOR_CHOICES)}") from None


def detector_rng(pythia_seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(pythia_seed, spawn_key=(DETECTOR_SPAWN_KEY,)))


@dataclass
class EFlow:
    """Energy-flow objects of a batch, grouped by event: p4 (n, 4) px py pz E, event (n,), kind (n,)."""

    p4: np.ndarray
    event: np.ndarray
    kind: np.ndarray


def log_normal(rng: np.random.Generator, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Delphes' LogNormal(mean, sigma): a log-normal variate with this mean and standard deviation; 0 if mean <= 0."""
    positive = mean > 0
    safe = np.where(positive, mean, 1.0)
    b = np.sqrt(np.log1p((sigma / safe) ** 2))
    a = np.log(safe) - 0.5 * b**2
    return np.where(positive, np.exp(a + b * rng.standard_normal(len(mean))), 0.0)


def propagate(card: DetectorCard, pt, eta, phi, pz, charge):
    """(eta, phi, reached) at the calorimeter face for particles starting at the origin (ParticlePropagator)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _propagate(card, pt, eta, phi, pz, charge)


def _propagate(card: DetectorCard, pt, eta, phi, pz, charge):
    eta_out, phi_out = eta.copy(), phi.copy()
    reached = pt**2 >= 1e-9
    charged = (np.abs(charge) > 1e-9) & reached
    if not charged.any():
        return eta_out, phi_out, reached
    q, ptc, pzc = charge[charged], pt[charged], pz[charged]
    radius = np.abs(ptc / (q * card.bz) * 1e9 / C_LIGHT)  # helix radius in m
    # first crossing of the barrel cylinder, if the helix reaches it: turning angle 2 asin(R / 2r)
    crosses = 2 * radius >= card.radius
    turn_barrel = 2 * np.arcsin(np.minimum(card.radius / (2 * radius), 1.0))
    z_barrel = pzc / ptc * radius * turn_barrel
    to_endcap = ~crosses | (np.abs(z_barrel) > card.half_length)
    turn_endcap = card.half_length * ptc / (np.abs(pzc) * radius)
    turn = np.where(to_endcap, turn_endcap, turn_barrel)
    z = np.where(to_endcap, np.sign(pzc) * card.half_length, z_barrel)
    chord = 2 * radius * np.sin(0.5 * turn)  # signed: past half a turn the direction flips
    direction = phi[charged] - np.sign(q) * 0.5 * turn
    x, y = chord * np.cos(direction), chord * np.sin(direction)
    r = np.hypot(x, y)
    ok = np.isfinite(r) & (r > 0)
    eta_out[charged] = np.where(ok, np.arcsinh(z / r), 0.0)
    phi_out[charged] = np.arctan2(y, x)
    reached[charged] = ok
    return eta_out, phi_out, reached


@dataclass
class _Tracks:
    pt: np.ndarray
    eta: np.ndarray  # of the momentum
    phi: np.ndarray
    mass: np.ndarray
    resolution: np.ndarray  # sigma_pT / pT used for the smearing (Delphes' TrackResolution)
    at_eta: np.ndarray  # (eta, phi) at the calorimeter face: where the track meets the towers
    at_phi: np.ndarray
    pid: np.ndarray
    event: np.ndarray

    @property
    def energy(self) -> np.ndarray:
        return np.sqrt((self.pt * np.cosh(self.eta)) ** 2 + self.mass**2)

    def take(self, keep: np.ndarray) -> "_Tracks":
        return _Tracks(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def make_tracks(card: DetectorCard, rng, pid, pt, eta, phi, mass, at_eta, at_phi, event, charge) -> _Tracks:
    """Tracking efficiency, then pT smearing, for the charged particles (charge != 0)."""
    charged = np.nonzero(np.abs(charge) > 1e-9)[0]
    abs_pid = np.abs(pid[charged])
    kind = np.where(abs_pid == 11, 1, np.where(abs_pid == 13, 2, 0))
    p, e = pt[charged], at_eta[charged]
    efficiency, resolution = np.zeros(len(charged)), np.zeros(len(charged))
    for k, name in enumerate(KINDS):
        sel = kind == k
        efficiency[sel] = card.efficiency[name](p[sel], e[sel])
        resolution[sel] = card.resolution[name](p[sel], e[sel])
    found = rng.random(len(charged)) < efficiency
    rows, resolution = charged[found], np.minimum(resolution[found], 1.0)
    smeared = log_normal(rng, pt[rows], resolution * pt[rows])
    return _Tracks(smeared, eta[rows], phi[rows], mass[rows], resolution, at_eta[rows], at_phi[rows], pid[rows],
                   event[rows])  # fmt: skip


def fractions(cal: CalorimeterCard, pid: np.ndarray) -> np.ndarray:
    abs_pid = np.abs(pid)
    out = np.full(len(pid), cal.default_fraction)
    for code, fraction in cal.fractions.items():
        out[abs_pid == code] = fraction
    return out


def tower_index(cal: CalorimeterCard, eta, phi):
    """(eta bin k, phi bin j, inside): Delphes' lower_bound on the edges; k, j start at 1 for the first bin."""
    k = np.searchsorted(cal.eta_edges, eta, side="left")
    inside = (k >= 1) & (k < len(cal.eta_edges))
    n_phi = cal.n_phi[np.clip(k - 1, 0, len(cal.n_phi) - 1)]
    j = np.ceil((phi + np.pi) * n_phi / (2 * np.pi)).astype(np.int64)
    inside &= (j >= 1) & (j <= n_phi)
    return k, j, inside


def calorimeter(cal: CalorimeterCard, rng, deposit, at_eta, at_phi, event, tracks: _Tracks):
    """One SimpleCalorimeter: (neutral eflow towers as (energy, eta, phi, event), the tracks after it).

    `deposit` is each particle's energy times its fraction here; tracks outside every tower are lost
    (as in Delphes), tracks depositing nothing here pass through unchanged.
    """
    max_phi = int(cal.n_phi.max()) + 1
    n_eta = len(cal.eta_edges)

    def keys(eta, phi, ev):
        k, j, inside = tower_index(cal, eta, phi)
        return (ev * n_eta + k) * max_phi + j, inside

    hit = deposit > 1e-9
    dep_key, dep_in = keys(at_eta[hit], at_phi[hit], event[hit])
    trk_key, trk_in = keys(tracks.at_eta, tracks.at_phi, tracks.event)
    tracks = tracks.take(trk_in)
    trk_key = trk_key[trk_in]
    dep_key, dep_energy = dep_key[dep_in], deposit[hit][dep_in]
    towers, inverse = np.unique(np.concatenate([dep_key, trk_key]), return_inverse=True)
    dep_tower, trk_tower = inverse[: len(dep_key)], inverse[len(dep_key) :]
    n = len(towers)
    j = towers % max_phi
    k = (towers // max_phi) % n_eta
    tower_event = towers // (max_phi * n_eta)
    lo, hi = cal.eta_edges[k - 1], cal.eta_edges[k]
    centre = 0.5 * (lo + hi)
    n_phi = cal.n_phi[k - 1]
    half = n_phi // 2
    phi_lo, phi_hi = (j - 1 - half) * np.pi / half, (j - half) * np.pi / half  # the card's [expr {$i * $pi/(n/2)}]

    true_energy = np.bincount(dep_tower, dep_energy, minlength=n)
    track_fraction = fractions(cal, tracks.pid)
    counted = track_fraction > 1e-9
    track_energy_all = tracks.energy
    track_energy = np.bincount(trk_tower[counted], (track_energy_all * track_fraction)[counted], minlength=n)
    # sigma_track = TrackResolution * E_track (SimpleCalorimeter: energyGuess = E for fraction-1 tracks)
    track_var = np.bincount(trk_tower[counted], ((tracks.resolution * track_energy_all) ** 2)[counted], minlength=n)

    sigma = cal.resolution(centre, true_energy)
    energy = log_normal(rng, true_energy, sigma)
    sigma = cal.resolution(centre, energy)
    energy[(energy < cal.energy_min) | (energy < cal.significance_min * sigma)] = 0.0
    eta = lo + (hi - lo) * rng.random(n)
    phi = phi_lo + (phi_hi - phi_lo) * rng.random(n)

    neutral = np.maximum(energy - track_energy, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        significance = neutral / np.sqrt(track_var + sigma**2)
        significant = (neutral > cal.energy_min) & (significance > cal.significance_min)
        weight_track = np.where(track_var > 0, 1 / track_var, 0.0)
        weight_calo = np.where(sigma > 0, 1 / sigma**2, 0.0)
        best = (weight_track * track_energy + weight_calo * energy) / (weight_track + weight_calo)
        rescale = np.where(~significant & (track_energy > 0) & (weight_track + weight_calo > 0),
                           best / track_energy, 1.0)  # fmt: skip
    tracks.pt = tracks.pt * np.where(counted, rescale[trk_tower], 1.0)
    return (neutral[significant], eta[significant], phi[significant], tower_event[significant]), tracks


def simulate(card: DetectorCard, rng, pid, p4, charge, event) -> EFlow:
    """The eflow objects (sorted by event, stably) of the particles with flat `pid`, `p4` (px py pz E), `charge`."""
    px, py, pz, e = (p4[:, i].astype(np.float64) for i in range(4))
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(np.where(pt > 0, pz / pt, np.sign(pz) * 1e10))
    phi = np.arctan2(py, px)
    mass = np.sqrt(np.maximum(e**2 - (px**2 + py**2 + pz**2), 0.0))
    at_eta, at_phi, reached = propagate(card, pt, eta, phi, pz, charge)
    keep = np.nonzero(reached)[0]
    pid, pt, eta, phi, mass, e = pid[keep], pt[keep], eta[keep], phi[keep], mass[keep], e[keep]
    at_eta, at_phi, event, charge = at_eta[keep], at_phi[keep], event[keep], charge[keep]

    tracks = make_tracks(card, rng, pid, pt, eta, phi, mass, at_eta, at_phi, event, charge)
    photons, tracks = calorimeter(card.ecal, rng, e * fractions(card.ecal, pid), at_eta, at_phi, event, tracks)
    hadrons, tracks = calorimeter(card.hcal, rng, e * fractions(card.hcal, pid), at_eta, at_phi, event, tracks)

    def towers_p4(energy, t_eta, t_phi):
        t_pt = energy / np.cosh(t_eta)
        return np.stack([t_pt * np.cos(t_phi), t_pt * np.sin(t_phi), t_pt * np.sinh(t_eta), energy], axis=-1)

    track_p4 = np.stack([tracks.pt * np.cos(tracks.phi), tracks.pt * np.sin(tracks.phi),
                         tracks.pt * np.sinh(tracks.eta), tracks.energy], axis=-1)  # fmt: skip
    out_p4 = np.concatenate([track_p4, towers_p4(*photons[:3]), towers_p4(*hadrons[:3])])
    out_event = np.concatenate([tracks.event, photons[3], hadrons[3]])
    kind = np.repeat([TRACK, PHOTON, NEUTRAL_HADRON], [len(tracks.pt), len(photons[0]), len(hadrons[0])])
    order = np.argsort(out_event, kind="stable")
    return EFlow(out_p4[order], out_event[order], kind[order])


class Detector:
    """`detector(pid, p4, event) -> EFlow` for one chunk: a card, the chunk's Generator and a charge lookup."""

    def __init__(self, card: DetectorCard, rng: np.random.Generator, charge_of):
        self.card, self.rng, self.charges = card, rng, ChargeTable(charge_of)

    def __call__(self, pid: np.ndarray, p4: np.ndarray, event: np.ndarray) -> EFlow:
        return simulate(self.card, self.rng, pid, p4, self.charges(pid), event)


def make_detector(name: str, pythia_seed: int, charge_of) -> Detector | None:
    """None for "none"; else the card's detector, seeded from the chunk's Pythia seed (worker-independent)."""
    card = get_card(name)
    return None if card is None else Detector(card, detector_rng(pythia_seed), charge_of)


class ChargeTable:
    """Electric charge per PDG id, looked up once per id (e.g. from Pythia's `particleData.charge`)."""

    def __init__(self, charge_of):
        self._charge_of = charge_of
        self._known: dict[int, float] = {}

    def __call__(self, pid: np.ndarray) -> np.ndarray:
        ids, inverse = np.unique(pid, return_inverse=True)
        values = np.array([self._known.setdefault(int(i), float(self._charge_of(int(i)))) for i in ids])
        return values[inverse] if len(ids) else np.zeros(0)
