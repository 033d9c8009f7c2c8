"""Versioned generation recipes: which Pythia processes make which jet class, and which jets are kept.

A recipe fixes everything a generated file depends on besides (seed, n, max_particles): changing any
setting here changes the output, so it must come with a new `version`.

Physics choices, shared by every recipe:
- pp at sqrt(s) = 13 TeV, Pythia 8 defaults (Monash tune, MPI, ISR/FSR, hadronisation and hadron
  decays all on); only printing is turned off.
- One Pythia configuration per class (`ClassSource`); a class gets n / K of the jets. pTHat windows
  bracket the jet-pT window so that few events are wasted.
- Hadronic decays are forced with onMode: W -> q q', Z -> q q (d u s c b), top -> W b with hadronic W.
  In `quark-gluon` the Z recoiling against the jet decays to neutrinos (invisible), as in the
  energyflow quark/gluon samples.
- Quark jets ("q") are light-flavour: the matched parton is u, d or s; jets from c and b are dropped.
  `top-landscape`'s "QCD" class takes any parton (d u s c b g).
"""

from __future__ import annotations

from dataclasses import dataclass

COMMON_PYTHIA_SETTINGS = (
    "Beams:eCM = 13000",
    "Print:quiet = on",
    "Next:numberCount = 0",
)

HADRONIC_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
HADRONIC_Z = ("WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 1 2 3 4 5")
INVISIBLE_Z = ("WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 12 14 16")
TTBAR = ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on") + HADRONIC_W

GLUON, LIGHT_QUARKS, ALL_PARTONS = (21,), (1, 2, 3), (1, 2, 3, 4, 5, 21)
W_BOSON, Z_BOSON, TOP = (24,), (23,), (6,)


@dataclass(frozen=True)
class ClassSource:
    """One class: the Pythia processes that make it, and the |PDG id| its jets must be matched to."""

    class_name: str
    pythia_settings: tuple[str, ...]
    matched_ids: tuple[int, ...]


@dataclass(frozen=True)
class Recipe:
    name: str
    version: int
    description: str
    jet_radius: float
    pt_min: float  # jet pT window [pt_min, pt_max) in GeV
    pt_max: float
    pthat_min: float  # Pythia PhaseSpace:pTHatMin / pTHatMax
    pthat_max: float
    sources: tuple[ClassSource, ...]
    abs_eta_max: float | None = None  # |pseudorapidity| cut on the jet
    abs_rapidity_max: float | None = None  # |rapidity| cut on the jet
    chunk_jets: int = 1000  # jets per independently seeded Pythia run (fixed: part of the recipe)

    @property
    def class_names(self) -> list[str]:
        return [s.class_name for s in self.sources]

    def pythia_settings(self, class_index: int) -> list[str]:
        window = (f"PhaseSpace:pTHatMin = {self.pthat_min:g}", f"PhaseSpace:pTHatMax = {self.pthat_max:g}")
        return [*COMMON_PYTHIA_SETTINGS, *window, *self.sources[class_index].pythia_settings]


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            name="hls4ml-5class",
            version=1,
            description="g, q, W, Z, t jets at pT ~ 1 TeV, anti-kT R = 0.8 (the hls4ml LHC jet dataset task)",
            jet_radius=0.8,
            pt_min=900.0,
            pt_max=1100.0,
            pthat_min=850.0,
            pthat_max=1200.0,
            sources=(
                ClassSource("g", ("HardQCD:gg2gg = on", "HardQCD:qqbar2gg = on"), GLUON),
                ClassSource(
                    "q", ("HardQCD:qq2qq = on", "HardQCD:qqbar2qqbarNew = on", "HardQCD:gg2qqbar = on"), LIGHT_QUARKS
                ),
                ClassSource("W", ("WeakDoubleBoson:ffbar2WW = on", *HADRONIC_W), W_BOSON),
                ClassSource("Z", ("WeakDoubleBoson:ffbar2gmZgmZ = on", *HADRONIC_Z), Z_BOSON),
                ClassSource("t", TTBAR, TOP),
            ),
        ),
        Recipe(
            name="top-landscape",
            version=1,
            description="hadronic top vs QCD jets, pT 550-650 GeV, |eta| < 2, anti-kT R = 0.8 (Top Tagging Reference)",
            jet_radius=0.8,
            pt_min=550.0,
            pt_max=650.0,
            pthat_min=500.0,
            pthat_max=700.0,
            abs_eta_max=2.0,
            sources=(
                ClassSource("QCD", ("HardQCD:all = on",), ALL_PARTONS),
                ClassSource("top", TTBAR, TOP),
            ),
        ),
        Recipe(
            name="quark-gluon",
            version=1,
            description="gluon (label 0) vs light-quark (label 1) jets recoiling against Z -> nu nu, "
            "pT 500-550 GeV, |y| < 1.7, anti-kT R = 0.4 (the energyflow quark-gluon task)",
            jet_radius=0.4,
            pt_min=500.0,
            pt_max=550.0,
            pthat_min=470.0,
            pthat_max=600.0,
            abs_rapidity_max=1.7,
            sources=(
                ClassSource("g", ("WeakBosonAndParton:qqbar2gmZg = on", *INVISIBLE_Z), GLUON),
                ClassSource("q", ("WeakBosonAndParton:qg2gmZq = on", *INVISIBLE_Z), LIGHT_QUARKS),
            ),
        ),
    )
}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}") from None
