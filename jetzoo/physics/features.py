"""Jet features: the high-level substructure set (`HL_FEATURE_NAMES`) and the 16 hls4ml particle features.

Every substructure observable comes from FastJet (the `fastjet` Python package) applied to many jets at once:
each jet's constituents are one "event" of an awkward array, reclustered with Cambridge/Aachen at a radius
large enough that all of them end in a single jet. Conventions (all angles in rapidity-azimuth):

- `j_mass_sd`: soft drop, beta = 0, z_cut = 0.1 (z = min(pT_i, pT_j) / (pT_i + pT_j)) on the C/A tree,
  from repeated exclusive 2-jet declustering (`soft_drop_mass`). It equals fastjet's
  `exclusive_jets_softdrop_grooming` (checked in tests), whose cost in fastjet 3.5 grows as N^2
  (about 4 ms per 80-particle jet, as long as generating the jet) and which is therefore not used.
- `j_tau{1,2,3}_b1`: N-subjettiness with beta = 1, normalised measure
  tau_N = sum_i pT_i min_k dR_ik / (sum_i pT_i * R0), R0 = jet radius, with the axes `tau_axes`
  (`TAU_AXES`): "wta-kt" (default) = winner-take-all kT axes, "exclusive-kt" = the N exclusive kT jets
  (E-scheme), the convention of the published hls4ml files (tau_N 12-16% higher). `nsubjettiness` is the one
  place jetzoo computes tau_N: for datasets here and, with "exclusive-kt" axes, for `jetzoo.metrics.generative`.
- `j_c2_b1`, `j_d2_b1`: C2 = e3 / e2^2 and D2 = e3 / e2^3 with beta = 1, where
  e_n = sum over n-tuples of prod(pT) * prod(pairwise dR) / (sum pT)^n.
- Ratios whose denominator is zero (one-particle jets) are set to 0.

Importing this module silences FastJet's banner (`silence_fastjet_banner`).
"""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np

from jetzoo.physics import kinematics

HL_FEATURE_NAMES = [
    "j_pt",
    "j_eta",
    "j_mass",
    "j_mass_sd",
    "j_tau1_b1",
    "j_tau2_b1",
    "j_tau3_b1",
    "j_tau21_b1",
    "j_tau32_b1",
    "j_c2_b1",
    "j_d2_b1",
    "j_multiplicity",
]

HLS4ML_PARTICLE_FEATURE_NAMES = [
    "j1_px", "j1_py", "j1_pz", "j1_e", "j1_erel", "j1_pt", "j1_ptrel", "j1_eta", "j1_etarel",
    "j1_etarot", "j1_phi", "j1_phirel", "j1_phirot", "j1_deltaR", "j1_costheta", "j1_costhetarel",
]  # fmt: skip

SOFT_DROP_ZCUT = 0.1
# C/A radius for reclustering one jet's constituents: larger than any pairwise distance inside a jet,
# so that no constituent is ever merged with the beam.
RECLUSTER_RADIUS = 10.0
BLOCK_JETS = 20_000  # jets per FastJet call in `high_level_features`, to bound memory on large inputs
# N-subjettiness axes: jetzoo name -> fastjet-contrib Nsubjettiness axes definition
TAU_AXES = {"wta-kt": "WTA_KT_Axes", "exclusive-kt": "KT_Axes"}
DEFAULT_TAU_AXES = "wta-kt"


def silence_fastjet_banner() -> None:
    """Send FastJet's 13-line banner nowhere: a null banner stream, then the one-time banner "printed" into it.

    FastJet prints it (to stdout) at the first clustering of each process; the Python bindings and the
    awkward interface share one libfastjet, so this once per process silences both. Idempotent.
    """
    try:
        swig_cs = fastjet._swig.ClusterSequence
        swig_cs.set_fastjet_banner_stream(None)
        swig_cs.print_banner()
    except AttributeError:  # another fastjet build: keep its banner rather than fail
        pass


silence_fastjet_banner()


def check_tau_axes(tau_axes: str) -> str:
    if tau_axes not in TAU_AXES:
        raise ValueError(f"unknown tau axes {tau_axes!r}; choose one of {sorted(TAU_AXES)}")
    return tau_axes


def high_level_features(
    p4: np.ndarray, mask: np.ndarray, jet_radius: float, tau_axes: str = DEFAULT_TAU_AXES
) -> np.ndarray:
    """`HL_FEATURE_NAMES` for N padded jets: p4 (N, P, 4) as (px, py, pz, E), mask (N, P) -> float32 (N, F)."""
    check_tau_axes(tau_axes)
    blocks = [jagged_high_level_features(jets, jet_radius, tau_axes) for jets in _jagged_blocks(p4, mask)]
    return np.concatenate(blocks) if blocks else np.zeros((0, len(HL_FEATURE_NAMES)), dtype=np.float32)


def nsubjettiness(p4: np.ndarray, mask: np.ndarray, jet_radius: float, tau_axes: str = DEFAULT_TAU_AXES) -> np.ndarray:
    """tau_1, tau_2, tau_3 (beta = 1, normalised; see the module docstring) of N padded jets -> float64 (N, 3).

    p4 (N, P, 4) as (px, py, pz, E), mask (N, P). A jet with at most N particles has tau_N = 0; an empty jet 0.
    """
    check_tau_axes(tau_axes)
    blocks = [jagged_nsubjettiness(jets, jet_radius, tau_axes) for jets in _jagged_blocks(p4, mask)]
    return np.concatenate(blocks) if blocks else np.zeros((0, 3))


def jagged_nsubjettiness(constituents: ak.Array, jet_radius: float, tau_axes: str = DEFAULT_TAU_AXES) -> np.ndarray:
    """`nsubjettiness` for jets given as a jagged awkward array (jets x particles, fields px py pz E)."""
    check_tau_axes(tau_axes)
    out = np.zeros((len(constituents), 3))
    filled, jets = _filled_jets(constituents)
    if len(filled):
        out[filled] = _taus(_recluster(jets), jet_radius, tau_axes)
    return out


def jagged_high_level_features(
    constituents: ak.Array, jet_radius: float, tau_axes: str = DEFAULT_TAU_AXES
) -> np.ndarray:
    """`HL_FEATURE_NAMES` for jets given as a jagged awkward array (jets x particles, fields px py pz E)."""
    check_tau_axes(tau_axes)
    out = np.zeros((len(constituents), len(HL_FEATURE_NAMES)), dtype=np.float64)
    out[:, HL_FEATURE_NAMES.index("j_multiplicity")] = ak.to_numpy(ak.num(constituents))
    filled, jets = _filled_jets(constituents)
    if len(filled) == 0:
        return out.astype(np.float32)

    jet_p4 = _sum_p4(jets)
    cs = _recluster(jets)
    taus = _taus(cs, jet_radius, tau_axes)
    e2 = ak.to_numpy(cs.exclusive_jets_energy_correlator(njets=1, beta=1, npoint=2, func="generalized"))
    e3 = ak.to_numpy(cs.exclusive_jets_energy_correlator(njets=1, beta=1, npoint=3, func="generalized"))

    f = {name: i for i, name in enumerate(HL_FEATURE_NAMES)}
    rows = out[filled]
    rows[:, f["j_pt"]] = kinematics.pt(jet_p4)
    rows[:, f["j_eta"]] = kinematics.eta(jet_p4)
    rows[:, f["j_mass"]] = kinematics.mass(jet_p4)
    rows[:, f["j_mass_sd"]] = soft_drop_mass(jets, cluster_sequence=cs)
    rows[:, f["j_tau1_b1"] : f["j_tau3_b1"] + 1] = taus
    rows[:, f["j_tau21_b1"]] = _ratio(taus[:, 1], taus[:, 0])
    rows[:, f["j_tau32_b1"]] = _ratio(taus[:, 2], taus[:, 1])
    rows[:, f["j_c2_b1"]] = _ratio(e3, e2**2)
    rows[:, f["j_d2_b1"]] = _ratio(e3, e2**3)
    out[filled] = rows
    return out.astype(np.float32)


def soft_drop_mass(jets: ak.Array, zcut: float = SOFT_DROP_ZCUT, cluster_sequence=None) -> np.ndarray:
    """Soft-drop (beta = 0) mass of each jet (jets x particles, px py pz E, >= 1 particle each).

    Walks the C/A primary branch, all jets at once: C/A's last merge of a jet is its two exclusive
    2-jets; where z = min(pT_a, pT_b) / (pT_a + pT_b) <= zcut the softer one is dropped and the harder
    one's constituents are reclustered (C/A clustering of a subtree's leaves rebuilds that subtree), else
    the current (sub)jet is the groomed jet. A lone particle ends the walk. Between FastJet calls the
    particles live in flat numpy arrays, so each step costs a handful of array operations.
    `cluster_sequence`, a C/A clustering of exactly `jets` at RECLUSTER_RADIUS, saves the first clustering.
    """
    jet_def = fastjet.JetDefinition(fastjet.cambridge_algorithm, RECLUSTER_RADIUS)
    flat = _flat_p4(ak.flatten(jets, axis=1))
    counts = ak.to_numpy(ak.num(jets, axis=1)).astype(np.int64)
    groomed = np.zeros((len(counts), 4))
    todo = np.arange(len(counts))
    while len(todo):
        lone = counts == 1
        groomed[todo[lone]] = flat[np.repeat(lone, counts)]
        flat, counts, todo = flat[np.repeat(~lone, counts)], counts[~lone], todo[~lone]
        if not len(todo):
            break
        if cluster_sequence is None or len(todo) < len(groomed):
            cluster_sequence = fastjet.ClusterSequence(_jagged(flat, counts), jet_def)
        halves = cluster_sequence.exclusive_jets_constituents(2)
        cluster_sequence = None
        half_counts = ak.to_numpy(ak.flatten(ak.num(halves, axis=2))).astype(np.int64)  # (2m,): a0 b0 a1 b1 ...
        flat = _flat_p4(ak.flatten(ak.flatten(halves, axis=2), axis=1))
        p_halves = np.add.reduceat(flat, np.concatenate([[0], np.cumsum(half_counts)[:-1]]), axis=0).reshape(-1, 2, 4)
        pt_halves = kinematics.pt(p_halves)
        z = pt_halves.min(axis=1) / np.maximum(pt_halves.sum(axis=1), 1e-300)
        stop = z > zcut
        groomed[todo[stop]] = p_halves[stop].sum(axis=1)
        keep_half = np.zeros((len(todo), 2), dtype=bool)
        keep_half[np.arange(len(todo)), np.argmax(pt_halves, axis=1)] = True
        keep_half[stop] = False
        flat = flat[np.repeat(keep_half.ravel(), half_counts)]
        counts, todo = half_counts.reshape(-1, 2)[keep_half], todo[~stop]
    return kinematics.mass(groomed)


def hls4ml_particle_features(p4: np.ndarray, mask: np.ndarray, jet_p4: np.ndarray) -> np.ndarray:
    """The 16 hls4ml particle features (`HLS4ML_PARTICLE_FEATURE_NAMES`) -> float32 (N, P, 16); padding is 0.

    jet_p4 (N, 4) is the jet four-vector (all its constituents, not only the stored P). `etarot, phirot`
    are (etarel, phirel) rotated so the principal axis of the pT-weighted constituent spread lies along phi.
    """
    p4 = np.asarray(p4, dtype=np.float64)
    jet = np.asarray(jet_p4, dtype=np.float64)[:, None, :]
    m = np.asarray(mask, dtype=bool)
    eps = kinematics.EPS
    pt, jpt = kinematics.pt(p4), kinematics.pt(jet)
    eta, jeta = kinematics.eta(p4), kinematics.eta(jet)
    phi, jphi = kinematics.phi(p4), kinematics.phi(jet)
    etarel = eta - jeta
    phirel = kinematics.delta_phi(phi, jphi)
    w = np.where(m, pt, 0.0)
    sxx, syy, sxy = (w * etarel**2).sum(1), (w * phirel**2).sum(1), (w * etarel * phirel).sum(1)
    theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)[:, None]  # angle of the principal axis to the eta axis
    etarot = -etarel * np.sin(theta) + phirel * np.cos(theta)
    phirot = etarel * np.cos(theta) + phirel * np.sin(theta)
    pmag = np.linalg.norm(p4[..., :3], axis=-1)
    jmag = np.linalg.norm(jet[..., :3], axis=-1)
    columns = [
        p4[..., 0], p4[..., 1], p4[..., 2], p4[..., 3],
        p4[..., 3] / (jet[..., 3] + eps), pt, pt / (jpt + eps), eta, etarel,
        etarot, phi, phirel, phirot, np.hypot(etarel, phirel),
        p4[..., 2] / (pmag + eps), (p4[..., :3] * jet[..., :3]).sum(-1) / (pmag * jmag + eps),
    ]  # fmt: skip
    out = np.stack(columns, axis=-1) * m[..., None]
    return out.astype(np.float32)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def _filled_jets(constituents: ak.Array) -> tuple[np.ndarray, ak.Array]:
    """Indices of the jets with at least one particle, and those jets as float64 Momentum4D records."""
    filled = np.nonzero(ak.to_numpy(ak.num(constituents)) > 0)[0]
    jets = constituents[filled]
    return filled, ak.zip({k: ak.values_astype(jets[k], np.float64) for k in ("px", "py", "pz", "E")}, with_name="Momentum4D")


def _recluster(jets: ak.Array):
    """C/A clustering of each jet's constituents at RECLUSTER_RADIUS (all of them end in one jet)."""
    return fastjet.ClusterSequence(jets, fastjet.JetDefinition(fastjet.cambridge_algorithm, RECLUSTER_RADIUS))


def _taus(cluster_sequence, jet_radius: float, tau_axes: str) -> np.ndarray:
    """tau_1..3 (J, 3) of the jets of a `_recluster` clustering: fastjet-contrib Nsubjettiness, normalised measure."""
    taus = cluster_sequence.njettiness(
        measure_definition="NormalizedMeasure", axes_definition=TAU_AXES[tau_axes], njets=[1, 2, 3], beta=1.0, R0=float(jet_radius)
    )
    return ak.to_numpy(ak.flatten(taus, axis=1)).reshape(-1, 3)


def _jagged_blocks(p4: np.ndarray, mask: np.ndarray):
    """Padded jets p4 (N, P, 4) + mask (N, P) -> awkward jets x particles, BLOCK_JETS jets at a time."""
    mask = np.asarray(mask, dtype=bool)
    for start in range(0, len(mask), BLOCK_JETS):
        m = mask[start : start + BLOCK_JETS]
        yield _jagged(np.asarray(p4[start : start + BLOCK_JETS], dtype=np.float64)[m], m.sum(axis=1))


def _flat_p4(particles: ak.Array) -> np.ndarray:
    """Flat awkward (px, py, pz, E) records -> numpy (n, 4) float64."""
    return np.stack([ak.to_numpy(particles[k]).astype(np.float64) for k in ("px", "py", "pz", "E")], axis=-1)


def _jagged(flat: np.ndarray, counts: np.ndarray) -> ak.Array:
    """numpy (n, 4) + per-jet counts -> awkward jets x particles for FastJet."""
    rec = ak.zip({k: flat[:, i] for i, k in enumerate(("px", "py", "pz", "E"))}, with_name="Momentum4D")
    return ak.unflatten(rec, counts)


def _sum_p4(particles: ak.Array) -> np.ndarray:
    """(jets x particles) awkward (px, py, pz, E) -> numpy (jets, 4) summed four-vectors."""
    return np.stack([ak.to_numpy(ak.sum(particles[k], axis=1)) for k in ("px", "py", "pz", "E")], axis=-1)
