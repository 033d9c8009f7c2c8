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
- Top mass: Pythia's default is 173.0 GeV; every recipe with top quarks sets `6:m0 = 172.5`, the value
  used for the reference datasets (`top_mass`).
- N-subjettiness axes (`tau_axes`, see `jetzoo.physics.features.TAU_AXES`): "wta-kt" (winner-take-all
  kT axes, the jetzoo default) except for `hls4ml-5class`, whose published files store tau_N with
  exclusive-kT axes ("exclusive-kt", 12-16% higher); `jetzoo generate --tau-axes` overrides it.
- Detector (`jetzoo generate --detector`, `DETECTOR_CHOICES`): "none" (every recipe's default:
  constituents are the stable visible generator-level particles), or "atlas-like" / "cms-like", a fast
  parametric detector after Delphes' ATLAS and CMS cards (detector.py, detector_cards.py) whose
  energy-flow objects are clustered instead. The jet-pT and |eta| windows then apply to detector-level
  jets; truth matching stays at generator level.

Versions. Version 2 (current) covers the top mass (172.5), the |eta| < 2 cut of `hls4ml-5class`, the
tau axes and the detector field. Version 1 files (top mass 173.0, no |eta| cut in `hls4ml-5class`,
WTA-kT tau_N everywhere) are stale: `stale_recipe_warning` says so when one is read. Adding detectors
did not change the version: files with `--detector none` are the same bytes as before, and the
detector is its own provenance attribute (`detector`) and part of the cache key (`-det-<name>`), like
the tau axes. A version-2 file without a `detector` attribute cannot exist (version 2 always wrote it).

Seeds. Chunk seeds depend only on (seed, class, chunk index), so two files of the same recipe and seed
share jets: the n = 2000 file holds the same events as the first chunks of the n = 4000 one. That lets a
dataset grow shard by shard; independent train and test samples need different seeds.
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
TOP_MASS = 172.5  # GeV; Pythia's default 6:m0 is 173.0
TAU_AXES_CHOICES = ("wta-kt", "exclusive-kt")  # jetzoo.physics.features.TAU_AXES
DETECTOR_CHOICES = ("none", "atlas-like", "cms-like")  # "none" + jetzoo.generate.detector_cards.CARDS

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
    top_mass: float | None = None  # Pythia 6:m0 in GeV, set for every recipe with top quarks
    tau_axes: str = "wta-kt"  # default N-subjettiness axes (TAU_AXES_CHOICES)
    detector: str = "none"  # default detector (DETECTOR_CHOICES); `jetzoo generate --detector` overrides it
    jets_per_core_second: float = 50.0  # measured generation rate (benchmarks/generator_rate.md), for estimates

    @property
    def class_names(self) -> list[str]:
        return [s.class_name for s in self.sources]

    def pythia_settings(self, class_index: int) -> list[str]:
        window = (f"PhaseSpace:pTHatMin = {self.pthat_min:g}", f"PhaseSpace:pTHatMax = {self.pthat_max:g}")
        top = (f"6:m0 = {self.top_mass:g}",) if self.top_mass is not None else ()
        return [*COMMON_PYTHIA_SETTINGS, *top, *window, *self.sources[class_index].pythia_settings]

    def provenance(self, tau_axes: str | None = None, detector: str | None = None) -> dict:
        """What a generated file records about its recipe (file attributes, and a future manifest).

        `tau_axes` and `detector` (None: the recipe's) are what the file was generated with.
        """
        return {
            "recipe": self.name,
            "recipe_version": self.version,
            "top_mass": self.top_mass if self.top_mass is not None else "pythia default",
            "abs_eta_max": self.abs_eta_max if self.abs_eta_max is not None else "none",
            "abs_rapidity_max": self.abs_rapidity_max if self.abs_rapidity_max is not None else "none",
            "tau_axes": tau_axes or self.tau_axes,
            "detector": detector or self.detector,
        }


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            # The hls4ml LHC jet dataset: Duarte et al., "Fast inference of deep neural networks in FPGAs
            # for particle physics", JINST 13 (2018) P07027, arXiv:1709.08705, and its files on Zenodo
            # (record 3602260, "hls4ml_LHCjet"): jets of pT ~ 1 TeV, anti-kT R = 0.8, whose |eta| stays below 2;
            # tau_N stored with exclusive-kT axes. Without the cut (version 1) jets reached |eta| = 2.25.
            name="hls4ml-5class",
            version=2,
            description="g, q, W, Z, t jets at pT ~ 1 TeV, |eta| < 2, anti-kT R = 0.8 "
            "(the hls4ml LHC jet dataset task)",
            jet_radius=0.8,
            pt_min=900.0,
            pt_max=1100.0,
            pthat_min=850.0,
            pthat_max=1200.0,
            abs_eta_max=2.0,
            top_mass=TOP_MASS,
            tau_axes="exclusive-kt",
            jets_per_core_second=115.0,
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
            version=2,
            description="hadronic top vs QCD jets, pT 550-650 GeV, |eta| < 2, anti-kT R = 0.8 (Top Tagging Reference)",
            jet_radius=0.8,
            pt_min=550.0,
            pt_max=650.0,
            pthat_min=500.0,
            pthat_max=700.0,
            abs_eta_max=2.0,
            top_mass=TOP_MASS,
            jets_per_core_second=72.7,
            sources=(
                ClassSource("QCD", ("HardQCD:all = on",), ALL_PARTONS),
                ClassSource("top", TTBAR, TOP),
            ),
        ),
        Recipe(
            name="quark-gluon",
            version=2,
            description="gluon (label 0) vs light-quark (label 1) jets recoiling against Z -> nu nu, "
            "pT 500-550 GeV, |y| < 1.7, anti-kT R = 0.4 (the energyflow quark-gluon task)",
            jet_radius=0.4,
            pt_min=500.0,
            pt_max=550.0,
            pthat_min=470.0,
            pthat_max=600.0,
            abs_rapidity_max=1.7,
            jets_per_core_second=38.7,
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


def stale_recipe_warning(attrs, source: str | None = None) -> str | None:
    """One line when `attrs` (a generated file's HDF5 attributes) come from an older recipe version, else None.

    Files without a `recipe` attribute (published datasets) and recipes unknown here give None.
    """

    def text(value):
        return value.decode() if isinstance(value, bytes) else str(value)

    if "recipe" not in attrs:
        return None
    name = text(attrs["recipe"])
    recipe = RECIPES.get(name)
    if recipe is None:
        return None
    try:
        version = int(attrs.get("recipe_version", 1))
    except (TypeError, ValueError):
        version = 1
    if version >= recipe.version:
        return None
    where = f"{source}: " if source else ""
    return (
        f"warning: {where}stale generated file: recipe {name} version {version}, current version {recipe.version} "
        f"(top mass, |eta| cut, tau axes, detector); regenerate it with `jetzoo generate --recipe {name}`"
    )
