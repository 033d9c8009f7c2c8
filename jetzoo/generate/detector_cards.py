"""The two Delphes detector cards `jetzoo generate --detector` follows: their numbers, transcribed.

Sources (Delphes, https://github.com/delphes/delphes, the cards as read at these commits):
- `atlas-like`: cards/delphes_card_ATLAS.tcl @ 15772b7063d186d74f5711e86d9a3af366effa50
- `cms-like`: cards/delphes_card_CMS.tcl @ 0593ac3a37076a5179fdcdca139fbd748a082c15
Both are the SimpleCalorimeter versions of the cards (separate `ECal` and `HCal` modules, each making
energy-flow objects; `EFlowMerger` = HCal/eflowTracks + ECal/eflowPhotons + HCal/eflowNeutralHadrons).

Every formula below is the card's `EfficiencyFormula` / `ResolutionFormula` copied term by term
(`(cond) * (value) + ...`, with numpy's `&` for Tcl's `&&`), evaluated as Delphes evaluates it:
tracking formulas get (pt, eta) of the candidate (eta at the calorimeter face, see detector.py),
calorimeter formulas get (eta of the tower centre, energy). Track resolutions are relative (sigma_pT/pT,
capped at 1 by MomentumSmearing); calorimeter resolutions are absolute (sigma_E in GeV).
Tower edges are built with the cards' own Tcl loops; the phi bins of an eta bin are those listed
with its upper eta edge (SimpleCalorimeter::Init/Process, `lower_bound` on both lists). Phi bins are
always n equal divisions of [-pi, pi] (`for {set i -n/2} {$i <= n/2} ... [expr {$i * $pi/(n/2)}]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from jetzoo.generate.recipes import DETECTOR_CHOICES

ATLAS_CARD = "delphes_card_ATLAS.tcl @ delphes/delphes 15772b7063d186d74f5711e86d9a3af366effa50"
CMS_CARD = "delphes_card_CMS.tcl @ delphes/delphes 0593ac3a37076a5179fdcdca139fbd748a082c15"

Formula = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (pt or eta, eta or energy) -> value


@dataclass(frozen=True)
class CalorimeterCard:
    """One SimpleCalorimeter module: towers, energy fractions, resolution and thresholds."""

    name: str  # module name in the card
    eta_edges: np.ndarray  # sorted tower eta edges (M + 1,)
    n_phi: np.ndarray  # (M,) equal phi divisions of [-pi, pi] for eta bin k = (edges[k], edges[k+1])
    fractions: dict  # |PDG id| -> fraction of the energy deposited here (EnergyFraction)
    default_fraction: float  # EnergyFraction {0}
    energy_min: float  # EnergyMin (GeV)
    significance_min: float  # EnergySignificanceMin
    resolution: Formula  # sigma_E(eta, energy) in GeV (ResolutionFormula)


@dataclass(frozen=True)
class DetectorCard:
    name: str
    source: str
    radius: float  # ParticlePropagator Radius (m)
    half_length: float  # ParticlePropagator HalfLength (m)
    bz: float  # ParticlePropagator Bz (T)
    efficiency: dict  # "hadron" / "electron" / "muon" -> eff(pt, eta)  (*TrackingEfficiency)
    resolution: dict  # same keys -> sigma_pT/pT(pt, eta)  (*MomentumSmearing)
    ecal: CalorimeterCard
    hcal: CalorimeterCard


def _tower_bins(*sets: tuple[list, int]) -> tuple[np.ndarray, np.ndarray]:
    """Merge `add EtaPhiBins {eta edges} {phi edges}` sets into (sorted eta edges, phi bins per eta bin)."""
    phi_of: dict[float, int] = {}
    for edges, n_phi in sets:
        for eta in np.round(np.asarray(edges, dtype=np.float64), 9):
            if phi_of.setdefault(float(eta), n_phi) != n_phi:
                raise ValueError(f"eta edge {eta} listed with two phi granularities")
    edges = np.array(sorted(phi_of))
    return edges, np.array([phi_of[float(e)] for e in edges[1:]], dtype=np.int64)


def _ecal_bins() -> tuple[np.ndarray, np.ndarray]:
    # both cards, module SimpleCalorimeter ECal: 0.0174 x 1 degree (360 phi bins) in the barrel and the
    # endcaps (to |eta| = 2.958), CMS-HF-like 0.175 x 10 degrees (36 phi bins) for 2.958 < |eta| < 5
    barrel = [i * 0.0174 for i in range(-85, 87)]
    endcaps = [-2.958 + i * 0.0174 for i in range(1, 85)] + [1.4964 + i * 0.0174 for i in range(1, 85)]
    hf = [-5, -4.7, -4.525, -4.35, -4.175, -4, -3.825, -3.65, -3.475, -3.3, -3.125, -2.958,
          3.125, 3.3, 3.475, 3.65, 3.825, 4, 4.175, 4.35, 4.525, 4.7, 5]  # fmt: skip
    return _tower_bins((barrel, 360), (endcaps, 360), (hf, 36))


# energy fractions, both cards, {|PDG id|} {fraction}: e, gamma, pi0 all in the ECal; muons, neutrinos and
# neutralinos nowhere; K0S and Lambda 0.3 ECal / 0.7 HCal; everything else ({0}) all in the HCal
_INVISIBLE = {12: 0.0, 13: 0.0, 14: 0.0, 16: 0.0, 1000022: 0.0, 1000023: 0.0, 1000025: 0.0, 1000035: 0.0,
              1000045: 0.0}  # fmt: skip
ECAL_FRACTIONS = {11: 1.0, 22: 1.0, 111: 1.0, **_INVISIBLE, 310: 0.3, 3122: 0.3}
HCAL_FRACTIONS = {11: 0.0, 22: 0.0, 111: 0.0, **_INVISIBLE, 310: 0.7, 3122: 0.7}


def _a(x):
    return np.abs(x)


# --- tracking: identical efficiencies in both cards (modules ChargedHadronTrackingEfficiency,
# ElectronTrackingEfficiency, MuonTrackingEfficiency) ---


def _eff_hadron(pt, eta):
    return ((pt <= 0.1) * (0.00)
            + (_a(eta) <= 1.5) * ((pt > 0.1) & (pt <= 1.0)) * (0.70)
            + (_a(eta) <= 1.5) * (pt > 1.0) * (0.95)
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * ((pt > 0.1) & (pt <= 1.0)) * (0.60)
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * (pt > 1.0) * (0.85)
            + (_a(eta) > 2.5) * (0.00))  # fmt: skip


def _eff_electron(pt, eta):
    return ((pt <= 0.1) * (0.00)
            + (_a(eta) <= 1.5) * ((pt > 0.1) & (pt <= 1.0)) * (0.73)
            + (_a(eta) <= 1.5) * ((pt > 1.0) & (pt <= 1.0e2)) * (0.95)
            + (_a(eta) <= 1.5) * (pt > 1.0e2) * (0.99)
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * ((pt > 0.1) & (pt <= 1.0)) * (0.50)
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * ((pt > 1.0) & (pt <= 1.0e2)) * (0.83)
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * (pt > 1.0e2) * (0.90)
            + (_a(eta) > 2.5) * (0.00))  # fmt: skip


def _eff_muon(pt, eta):
    return ((pt <= 0.1) * (0.00)
            + (_a(eta) <= 1.5) * ((pt > 0.1) & (pt <= 1.0)) * (0.75)
            + (_a(eta) <= 1.5) * (pt > 1.0) * (0.99)
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * ((pt > 0.1) & (pt <= 1.0)) * (0.70)
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * (pt > 1.0) * (0.98)
            + (_a(eta) > 2.5) * (0.00))  # fmt: skip


def _track_resolution(terms: tuple[tuple[float, float], ...]) -> Formula:
    """`(|eta| <= 0.5) * (pt > 0.1) * sqrt(a0^2 + pt^2*b0^2) + (0.5 < |eta| <= 1.5) ... + (1.5 < |eta| <= 2.5) ...`"""
    (a0, b0), (a1, b1), (a2, b2) = terms

    def resolution(pt, eta):
        return ((_a(eta) <= 0.5) * (pt > 0.1) * np.sqrt(a0**2 + pt**2 * b0**2)
                + ((_a(eta) > 0.5) & (_a(eta) <= 1.5)) * (pt > 0.1) * np.sqrt(a1**2 + pt**2 * b1**2)
                + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * (pt > 0.1) * np.sqrt(a2**2 + pt**2 * b2**2))  # fmt: skip

    return resolution


_EFFICIENCY = {"hadron": _eff_hadron, "electron": _eff_electron, "muon": _eff_muon}

# --- ATLAS: delphes_card_ATLAS.tcl ---

ATLAS_RESOLUTION = {
    # module MomentumSmearing ChargedHadronMomentumSmearing
    "hadron": _track_resolution(((0.06, 1.3e-3), (0.10, 1.7e-3), (0.25, 3.1e-3))),
    # module MomentumSmearing ElectronMomentumSmearing
    "electron": _track_resolution(((0.03, 1.3e-3), (0.05, 1.7e-3), (0.15, 3.1e-3))),
    # module MomentumSmearing MuonMomentumSmearing
    "muon": _track_resolution(((0.01, 1.0e-4), (0.015, 1.5e-4), (0.025, 3.5e-4))),
}


def atlas_ecal_resolution(eta, energy):
    # module SimpleCalorimeter ECal, ResolutionFormula
    return ((_a(eta) <= 3.2) * np.sqrt(energy**2 * 0.0017**2 + energy * 0.101**2)
            + ((_a(eta) > 3.2) & (_a(eta) <= 4.9)) * np.sqrt(energy**2 * 0.0350**2 + energy * 0.285**2))  # fmt: skip


def atlas_hcal_resolution(eta, energy):
    # module SimpleCalorimeter HCal, ResolutionFormula
    return ((_a(eta) <= 1.7) * np.sqrt(energy**2 * 0.0302**2 + energy * 0.5205**2 + 1.59**2)
            + ((_a(eta) > 1.7) & (_a(eta) <= 3.2)) * np.sqrt(energy**2 * 0.0500**2 + energy * 0.706**2)
            + ((_a(eta) > 3.2) & (_a(eta) <= 4.9)) * np.sqrt(energy**2 * 0.09420**2 + energy * 1.00**2))  # fmt: skip


def _atlas_hcal_bins():
    # module SimpleCalorimeter HCal: 0.1 x 10 degrees (36 phi bins) to |eta| ~ 2.5-3.3, then 0.2 x 20 degrees
    ten = [-3.2, -2.5, -2.4, -2.3, -2.2, -2.1, -2, -1.9, -1.8, -1.7, -1.6, -1.5, -1.4, -1.3, -1.2, -1.1, -1,
           -0.9, -0.8, -0.7, -0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
           1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 3.3]  # fmt: skip
    twenty = [-4.9, -4.7, -4.5, -4.3, -4.1, -3.9, -3.7, -3.5, -3.3, -3, -2.8, -2.6, 2.8, 3, 3.2, 3.5, 3.7, 3.9,
              4.1, 4.3, 4.5, 4.7, 4.9]  # fmt: skip
    return _tower_bins((ten, 36), (twenty, 18))


def _calorimeters(ecal_resolution, hcal_resolution, hcal_bins):
    ecal_edges, ecal_phi = _ecal_bins()
    hcal_edges, hcal_phi = hcal_bins
    return (
        # ECal: EnergyMin 0.5, EnergySignificanceMin 2.0 (both cards)
        CalorimeterCard("ECal", ecal_edges, ecal_phi, ECAL_FRACTIONS, 0.0, 0.5, 2.0, ecal_resolution),
        # HCal: EnergyMin 1.0, EnergySignificanceMin 2.0 (both cards)
        CalorimeterCard("HCal", hcal_edges, hcal_phi, HCAL_FRACTIONS, 1.0, 1.0, 2.0, hcal_resolution),
    )


_ATLAS_CALOS = _calorimeters(atlas_ecal_resolution, atlas_hcal_resolution, _atlas_hcal_bins())
ATLAS = DetectorCard(
    "atlas-like", ATLAS_CARD, radius=1.15, half_length=3.51, bz=2.0,  # module ParticlePropagator
    efficiency=_EFFICIENCY, resolution=ATLAS_RESOLUTION, ecal=_ATLAS_CALOS[0], hcal=_ATLAS_CALOS[1],
)  # fmt: skip

# --- CMS: delphes_card_CMS.tcl ---

CMS_RESOLUTION = {
    # module MomentumSmearing ChargedHadronMomentumSmearing ("based on arXiv:1405.6569")
    "hadron": _track_resolution(((0.01, 1.5e-4), (0.015, 2.5e-4), (0.025, 5.5e-4))),
    # module MomentumSmearing ElectronMomentumSmearing
    "electron": _track_resolution(((0.03, 1.3e-3), (0.05, 1.7e-3), (0.15, 3.1e-3))),
    # module MomentumSmearing MuonMomentumSmearing
    "muon": _track_resolution(((0.01, 1.0e-4), (0.015, 1.5e-4), (0.025, 3.5e-4))),
}


def cms_ecal_resolution(eta, energy):
    # module SimpleCalorimeter ECal, ResolutionFormula (eta shape arXiv:1306.2016, energy shape arXiv:1502.02701)
    stochastic = np.sqrt(energy**2 * 0.008**2 + energy * 0.11**2 + 0.40**2)
    return ((_a(eta) <= 1.5) * (1 + 0.64 * eta**2) * stochastic
            + ((_a(eta) > 1.5) & (_a(eta) <= 2.5)) * (2.16 + 5.6 * (_a(eta) - 2) ** 2) * stochastic
            + ((_a(eta) > 2.5) & (_a(eta) <= 5.0)) * np.sqrt(energy**2 * 0.107**2 + energy * 2.08**2))  # fmt: skip


def cms_hcal_resolution(eta, energy):
    # module SimpleCalorimeter HCal, ResolutionFormula
    return ((_a(eta) <= 3.0) * np.sqrt(energy**2 * 0.050**2 + energy * 1.50**2)
            + ((_a(eta) > 3.0) & (_a(eta) <= 5.0)) * np.sqrt(energy**2 * 0.130**2 + energy * 2.70**2))  # fmt: skip


def _cms_hcal_bins():
    # module SimpleCalorimeter HCal: 0.087 x 5 degrees (72 phi bins) to |eta| = 1.65, then 10 and 20 degrees
    five = [-1.566, -1.479, -1.392, -1.305, -1.218, -1.131, -1.044, -0.957, -0.87, -0.783, -0.696, -0.609,
            -0.522, -0.435, -0.348, -0.261, -0.174, -0.087, 0, 0.087, 0.174, 0.261, 0.348, 0.435, 0.522, 0.609,
            0.696, 0.783, 0.87, 0.957, 1.044, 1.131, 1.218, 1.305, 1.392, 1.479, 1.566, 1.653]  # fmt: skip
    ten = [-4.35, -4.175, -4, -3.825, -3.65, -3.475, -3.3, -3.125, -2.95, -2.868, -2.65, -2.5, -2.322, -2.172,
           -2.043, -1.93, -1.83, -1.74, -1.653, 1.74, 1.83, 1.93, 2.043, 2.172, 2.322, 2.5, 2.65, 2.868, 2.95,
           3.125, 3.3, 3.475, 3.65, 3.825, 4, 4.175, 4.35, 4.525]  # fmt: skip
    twenty = [-5, -4.7, -4.525, 4.7, 5]
    return _tower_bins((five, 72), (ten, 36), (twenty, 18))


_CMS_CALOS = _calorimeters(cms_ecal_resolution, cms_hcal_resolution, _cms_hcal_bins())
CMS = DetectorCard(
    "cms-like", CMS_CARD, radius=1.29, half_length=3.00, bz=3.8,  # module ParticlePropagator
    efficiency=_EFFICIENCY, resolution=CMS_RESOLUTION, ecal=_CMS_CALOS[0], hcal=_CMS_CALOS[1],
)  # fmt: skip

CARDS: dict[str, DetectorCard] = {c.name: c for c in (ATLAS, CMS)}
if DETECTOR_CHOICES != ("none", *CARDS):
    raise RuntimeError("jetzoo.generate.recipes.DETECTOR_CHOICES must be 'none' and the cards here")
