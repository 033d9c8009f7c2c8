"""Published reference rows for the leaderboard: results from papers, on other data, never ranked.

A leaderboard row made by jetzoo is a model trained and tested by jetzoo, on one fixed test set.
A published row is a number printed in a paper, for a model trained and tested by its authors on
their data (the Top Tagging Reference dataset, JetClass, the hls4ml LHC jet dataset). The two are
never comparable row by row, so:

- `PUBLISHED_RESULTS` is an immutable table of `PublishedResult` rows (frozen dataclasses);
- `published_for(dataset)` returns the rows of one dataset (`DATASETS` names them);
- `published_markdown(rows)` renders them as their own markdown section, every row marked
  "published, other data", with its source; it is never interleaved with jetzoo's rows;
- `rank_own_runs(rows, metric)` ranks jetzoo's own rows and drops every published row.

Metric names follow jetzoo's vocabulary (`jetzoo.metrics`): `acc`, `auc`, and the rejection
1/eps_B at eps_S = 0.5 and 0.3 as `rej50_<signal>_vs_bkg` / `rej30_<signal>_vs_bkg`. For top
tagging the signal is `top` and the background QCD, so `rej30_top_vs_bkg` is the "1/eps_B at
eps_S = 0.3" column of the papers. `leaderboard_column` maps it to the bench table's `rej30`.
For multi-class JetClass the papers' rejection is ParT's convention, signal class s against the
QCD class only, with the score p_s / (p_s + p_QCD): jetzoo's `_vs_bkg` names (e.g.
`rej50_Hbb_vs_bkg`), never the one-vs-rest `_vs_rest` ones. For the hls4ml dataset the papers
give one-vs-rest AUCs per class, jetzoo's `auc_<class>` (`auc_g`, `auc_q`, `auc_W`, `auc_Z`,
`auc_t`).

Provenance. Every number was read, not recalled. `Source.arxiv` is the paper the number comes
from; `Source.table` says in which table of which paper it was actually read (for most rows a
later paper's comparison table that quotes it, with its reference), `Source.version` which
version of the origin paper that citing table refers to. `readings` lists every independent
place the number was read, each with its location (URL, or repository + path, or the file id
in the public code index used for this work) and the number exactly as printed there;
tests/test_published_results.py checks that all readings agree with the entered value.
`uncertainty` is the "±" printed next to the value; its definition (spread over trainings) is
the origin paper's and was not re-read there.

Entered later, each from the text named at its block below: EFN and the CNN from the Top Tagging
comparison's analysis notebook (arXiv:1902.09914; no eps_S = 0.5 there), ParT's JetClass table
(accuracy, AUC, the nine per-class rejections of PFN, P-CNN, ParticleNet, ParT), and JEDI-net's
per-class AUCs on the hls4ml dataset (second-hand only, said in its note). Not entered, because
no source text with the numbers could be read: the per-class AUCs of the hls4ml DNN
(arXiv:1804.06913) and the other rows of the comparison's table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from jetzoo.metrics.tagging import rejection_name

TOP_TAGGING = "Top Tagging Reference (1.2M train / 400k test)"
JETCLASS = "JetClass (100M train / 20M test)"
HLS4ML_150P = "hls4ml LHC jets 150p"
DATASETS = (TOP_TAGGING, JETCLASS, HLS4ML_150P)

PUBLISHED_MARK = "published, other data"

REJ50_TOP = rejection_name("top", 0.5, "vs_bkg")  # rej50_top_vs_bkg
REJ30_TOP = rejection_name("top", 0.3, "vs_bkg")  # rej30_top_vs_bkg


@dataclass(frozen=True)
class Reading:
    """One place a number was read: where, in which table there, and the number as printed."""

    where: str
    table: str
    printed: str


@dataclass(frozen=True)
class Source:
    """The paper a number comes from and where it was read."""

    arxiv: str  # origin paper, e.g. "2202.03772"
    table: str  # the table the number was read in, e.g. "arXiv:2405.14806 Table 1, ref. [65]"
    version: str  # which version of the origin paper that table refers to

    def __str__(self) -> str:
        return f"arXiv:{self.arxiv} ({self.version}); read in {self.table}"


@dataclass(frozen=True)
class PublishedResult:
    """One published number: model, dataset, metric (jetzoo's name), value, its source."""

    model: str
    dataset: str
    metric: str
    value: float
    uncertainty: float | None
    source: Source
    readings: tuple[Reading, ...]
    note: str = ""
    published: bool = True  # always True; lets rank_own_runs tell these rows apart from dicts too
    shown_decimals: int | None = None  # digits shown, for a source that prints a number unrounded

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.dataset, self.metric)

    def formatted_value(self) -> str:
        """The value with the digits printed in the source (0.940, not 0.94), and its ±."""
        if self.shown_decimals is not None:
            decimals = self.shown_decimals
        else:
            number = re.match(r"[0-9.]+", self.readings[0].printed) if self.readings else None
            decimals = len(number[0].partition(".")[2]) if number else 4
        text = f"{self.value:.{decimals}f}"
        if self.uncertainty is None:
            return text
        # an unrounded source: the ± to the same digits; otherwise as printed (397 ± 7, 0.9858)
        error = f"{self.uncertainty:.{decimals}f}" if self.shown_decimals is not None else f"{self.uncertainty:g}"
        return f"{text} ± {error}"


# --- where the numbers were read ------------------------------------------------------------
# L-GATr, arXiv:2405.14806, Table 1 (top tagging), "Baseline results are taken from the
# literature"; its references: PFN [51] = Komiske, Metodiev, Thaler, "Energy flow networks"
# (arXiv:1810.05165), ParticleNet [64] = Qu, Gouskos, PRD 101 (2020) 056019 (arXiv:1902.08570),
# ParT [65] = Qu, Li, Qian, "Particle transformer for jet tagging, 2024" (arXiv:2202.03772, the
# 2024 version v3), LorentzNet [42] = Gong et al., JHEP 07 (2022) 030 (arXiv:2201.08187).
# Two text versions of the paper are in the public code index; their baseline rows are identical.
LGATR_A = "public code index file 58320391881: text of arXiv:2405.14806 (L-GATr), Table 1"
LGATR_B = "public code index file 63225743177: another text version of arXiv:2405.14806, Table 1"
LGATR_TABLE = "arXiv:2405.14806 (L-GATr) Table 1"
# Petitjean, Plehn, Spinner, Kothe, "Economical Jet Taggers", arXiv:2512.17011v2, Table 1, as
# transcribed ("transcribed from the paper PDF") into a comparison script, THEIR_TABLE1.
ECONOMICAL = "public code index file 68570361689: THEIR_TABLE1, transcription of arXiv:2512.17011v2 Table 1"
# A plotting script of published top taggers: 1/eps_B at eps_S = 0.3 and 0.5 with their errors.
FIGURE_SCRIPT = "public code index file 70126499291: published-tagger table of a plotting script"
# Nervni-Sanya/so33, a comparison against published top taggers.
SO33_CSV = "github.com/Nervni-Sanya/so33 paper/figures/literature_reference.csv"
SO33_PN = "CSV table literature_reference.csv, row ParticleNet (cites arXiv:1902.08570)"
SO33_LN = "CSV table literature_reference.csv, row LorentzNet (cites arXiv:2201.08187)"

PART_V3 = "v3, 29 Jan 2024 (ICML 2022); cited as 'Particle transformer for jet tagging, 2024'"
PN_PUB = "published version, Phys. Rev. D 101 (2020) 056019, as cited"
LN_PUB = "published version, JHEP 07 (2022) 030, as cited"
PFN_PUB = "published version, JHEP 01 (2019) 121, as cited"


def _top_rows(model: str, arxiv: str, ref: str, version: str, acc: str, auc: str,
              rej50: tuple[str, str], rej30: tuple[str, str], extra: Mapping[str, tuple[Reading, ...]],
              note: str) -> tuple[PublishedResult, ...]:
    """The four top-tagging rows of one model, all read in L-GATr's Table 1 (both versions)."""
    source = Source(arxiv, f"{LGATR_TABLE}, row '{model}', ref. {ref}", version)
    printed = {"acc": acc, "auc": auc, REJ50_TOP: f"{rej50[0]} ± {rej50[1]}", REJ30_TOP: f"{rej30[0]} ± {rej30[1]}"}
    values = {"acc": (acc, None), "auc": (auc, None), REJ50_TOP: rej50, REJ30_TOP: rej30}
    rows = []
    for metric, (value, err) in values.items():
        readings = (
            Reading(LGATR_A, LGATR_TABLE, printed[metric]),
            Reading(LGATR_B, LGATR_TABLE, printed[metric]),
            *extra.get(metric, ()),
        )
        rows.append(PublishedResult(model, TOP_TAGGING, metric, float(value), None if err is None else float(err),
                                    source, readings, note))
    return tuple(rows)


def _econ(acc: str, auc: str, rej50: str, rej30: str) -> dict[str, tuple[Reading, ...]]:
    table = "arXiv:2512.17011v2 Table 1 (transcribed)"
    return {"acc": (Reading(ECONOMICAL, table, acc),), "auc": (Reading(ECONOMICAL, table, auc),),
            REJ50_TOP: (Reading(ECONOMICAL, table, rej50),), REJ30_TOP: (Reading(ECONOMICAL, table, rej30),)}


def _merge(*parts: dict[str, tuple[Reading, ...]]) -> dict[str, tuple[Reading, ...]]:
    out: dict[str, tuple[Reading, ...]] = {}
    for part in parts:
        for metric, readings in part.items():
            out[metric] = out.get(metric, ()) + readings
    return out


def _fig(rej50: str | None, rej30: str) -> dict[str, tuple[Reading, ...]]:
    table = "published-tagger table of the plotting script"
    out = {REJ30_TOP: (Reading(FIGURE_SCRIPT, table, rej30),)}
    if rej50 is not None:
        out[REJ50_TOP] = (Reading(FIGURE_SCRIPT, table, rej50),)
    return out


def _finetuned_rows(model: str, acc: str, auc: str, rej50: tuple[str, str], rej30: tuple[str, str],
                    note: str) -> tuple[PublishedResult, ...]:
    """Fine-tuned rows, read in the transcription of arXiv:2512.17011v2 Table 1 (values) and the
    plotting script (values with errors); not in L-GATr's table."""
    source = Source("2202.03772", f"arXiv:2512.17011v2 Table 1, row '{model}' (transcribed)", PART_V3)
    econ = _econ(acc, auc, rej50[0], rej30[0])
    fig = _fig(f"{rej50[0]} ± {rej50[1]}", f"{rej30[0]} ± {rej30[1]}")
    values = {"acc": (acc, None), "auc": (auc, None), REJ50_TOP: rej50, REJ30_TOP: rej30}
    return tuple(
        PublishedResult(model, TOP_TAGGING, metric, float(value), None if err is None else float(err), source,
                        econ[metric] + fig.get(metric, ()), note)
        for metric, (value, err) in values.items()
    )


_TOP_NOTE = "the authors' result on the Top Tagging Reference dataset"
_FT_NOTE = ("pre-trained on JetClass (100M jets), then fine-tuned on Top Tagging: extra training data; "
            "acc and auc read in one transcription only")

# --- the Top Tagging comparison's own numbers (arXiv:1902.09914) ------------------------------
# Its analysis notebook ("part of the code used for the comparison analysis published in 'The
# Machine Learning Landscape of Top Taggers'", the repository's README) prints each tagger's medians
# over its trainings, unrounded: the median model's accuracy (`median_accuracies`), and the median
# AUC and 1/eps_B at eps_S = 0.3 with its spread over the trainings after the notebook's outlier
# removal (`get_median_bg_reject(..., remove_outliers=True)`), the rows the comparison's Table 1
# rounds (TreeNiN 1025 ± 11, LoLa 722 ± 17 there, as L-GATr quotes them). It prints no eps_S = 0.5.
TOPTAG_NOTEBOOK = ("github.com/SebastianMacaluso/TopTagComparison jet_study_allTaggers.ipynb, commit "
                   "ca67e9bc82aa5932358a51e303ba35fc4fd9adb7 (public code index file 14643534507)")
TOPTAG_TABLE = "the analysis notebook's tables of tagger medians behind arXiv:1902.09914 Table 1"
TOPTAG_VERSION = "published version, SciPost Phys. 7, 014 (2019); numbers as its analysis code prints them"


def _comparison_rows(model: str, acc: str, auc: str, rej30: tuple[str, str], note: str) -> tuple[PublishedResult, ...]:
    """acc, auc and 1/eps_B(0.3) of one tagger of the Top Tagging comparison, as its notebook prints them."""
    source = Source("1902.09914", f"arXiv:1902.09914 Table 1, row '{model}', as computed by its analysis notebook",
                    TOPTAG_VERSION)
    values = {"acc": (acc, None, 4), "auc": (auc, None, 4), REJ30_TOP: (*rej30, 0)}
    return tuple(
        PublishedResult(model, TOP_TAGGING, metric, float(value), None if err is None else float(err), source,
                        (Reading(TOPTAG_NOTEBOOK, TOPTAG_TABLE, value if err is None else f"{value} ± {err}"),),
                        note, shown_decimals=digits)
        for metric, (value, err, digits) in values.items()
    )


_COMPARISON_NOTE = ("the Top Tagging comparison's own training on its dataset; median of its trainings; "
                    "the comparison prints no 1/eps_B at eps_S = 0.5")

# --- JetClass (ParT, arXiv:2202.03772) --------------------------------------------------------
# LLoCa, arXiv:2505.20280, Table 1 (accuracy, AUC) and Table 5 ("Background rejection rates
# 1/eps_B for the JetClass dataset [38]"), both quoting ParT [38] = "Particle transformer for jet
# tagging, 2024" (v3). Rejection: signal class against QCD with p_s / (p_s + p_QCD), at eps_S = 0.5,
# except H->lvqq' at 0.99 and t->blv at 0.995. Read by a helper of this work, row by row, in the
# text of the paper in the public code index; two slide decks there print ParticleNet's and ParT's
# accuracy and H->bb rejection (100M training jets) the same.
LLOCA = "public code index file 53403373422: text of arXiv:2505.20280 (LLoCa)"
JETCLASS_SLIDES = ("public code index files 53270721510 and 53545377551: slide decks, table of JetClass "
                   "results (100M training jets)")
JETCLASS_CLASSES = (("Hbb", 0.5), ("Hcc", 0.5), ("Hgg", 0.5), ("H4q", 0.5), ("Hqql", 0.99), ("Tbqq", 0.5),
                    ("Tbl", 0.995), ("Wqq", 0.5), ("Zqq", 0.5))


def _jetclass_rows(model: str, acc: str, auc: str, rejections: tuple[str, ...], slides: bool = False
                   ) -> tuple[PublishedResult, ...]:
    """Accuracy, AUC and the nine per-class rejections of one model on JetClass (100M training jets)."""
    source = Source("2202.03772", f"arXiv:2505.20280 (LLoCa) Table 1 and Table 5, row '{model}', ref. [38]", PART_V3)
    note = "ParT's JetClass table (100M training jets), as LLoCa quotes it; rejections: signal vs QCD"
    rows = []
    for metric, printed, table in (("acc", acc, "Table 1"), ("auc", auc, "Table 1"),
                                   *((rejection_name(c, e, "vs_bkg"), r, "Table 5")
                                     for (c, e), r in zip(JETCLASS_CLASSES, rejections))):
        readings = [Reading(LLOCA, f"arXiv:2505.20280 {table}", printed)]
        if slides and metric in ("acc", rejection_name("Hbb", 0.5, "vs_bkg")):
            readings.append(Reading(JETCLASS_SLIDES, "slide table of JetClass results", printed))
        rows.append(PublishedResult(model, JETCLASS, metric, float(printed), None, source, tuple(readings), note))
    return tuple(rows)


# --- hls4ml LHC jets (JEDI-net, arXiv:1908.05318) ---------------------------------------------
# Read only second-hand: arXiv:2503.03103 Table 2 as transcribed (in percent) in a documentation page
# and a script of one repository, and the same five AUCs as fractions in a research log that calls
# them "not yet independently confirmed". JEDI-net with 100 constituents per jet. The DNN of
# arXiv:1804.06913 is not entered: no text printing its per-class AUCs could be read.
JEDI_DOCS = "public code index file 70204510238: 'Paper reference (arXiv:2503.03103 Table 2 ...)', percent"
JEDI_LOG = "public code index file 57824195568: research log quoting a compilation table"


def _jedi_rows(percent: tuple[str, ...]) -> tuple[PublishedResult, ...]:
    source = Source("1908.05318", "arXiv:2503.03103 Table 2, row 'JEDI-net', N = 100 (transcribed)",
                    "as cited by arXiv:2503.03103")
    note = ("JEDI-net, 100 constituents per jet; one-vs-rest AUC per class; read only in transcriptions "
            "of a later paper's table, not in the JEDI-net paper")
    return tuple(
        PublishedResult("JEDI-net", HLS4ML_150P, f"auc_{c}", float(p) / 100, None, source,
                        (Reading(JEDI_DOCS, "arXiv:2503.03103 Table 2 (percent)", p),
                         Reading(JEDI_LOG, "compilation table, AUC", f"{float(p) / 100:.4f}")), note, shown_decimals=4)
        for c, p in zip(("g", "q", "W", "Z", "t"), percent)
    )


PUBLISHED_RESULTS: tuple[PublishedResult, ...] = (
    *_top_rows("ParticleNet", "1902.08570", "[64]", PN_PUB, "0.940", "0.9858", ("397", "7"), ("1615", "93"),
               _merge(_econ("0.940", "0.9858", "397", "1615"), _fig("397 ± 7", "1615 ± 93"),
                      {"auc": (Reading(SO33_CSV, SO33_PN, "0.986"),),
                       REJ30_TOP: (Reading(SO33_CSV, SO33_PN, "1615"),)}),
               _TOP_NOTE),
    *_top_rows("ParT", "2202.03772", "[65]", PART_V3, "0.940", "0.9858", ("413", "16"), ("1602", "81"),
               _merge(_econ("0.940", "0.9858", "413", "1602"), _fig("413 ± 16", "1602 ± 81")),
               _TOP_NOTE + "; ParT trained from scratch on Top Tagging only"),
    *_top_rows("PFN", "1810.05165", "[51]", PFN_PUB, "0.932", "0.9819", ("247", "3"), ("888", "17"),
               _fig("247 ± 3", "888 ± 17"),
               _TOP_NOTE + "; L-GATr's table cites the EFN/PFN paper for it"),
    *_top_rows("LorentzNet", "2201.08187", "[42]", LN_PUB, "0.942", "0.9868", ("498", "18"), ("2195", "173"),
               _merge(_econ("0.942", "0.9868", "498", "2195"), _fig("498 ± 18", "2195 ± 173"),
                      {"auc": (Reading(SO33_CSV, SO33_LN, "0.987"),),
                       REJ30_TOP: (Reading(SO33_CSV, SO33_LN, "2195"),)}),
               _TOP_NOTE + "; Lorentz-equivariant"),
    *_finetuned_rows("ParT-f.t.", "0.944", "0.9877", ("691", "15"), ("2766", "130"), _FT_NOTE),
    *_finetuned_rows("ParticleNet-f.t.", "0.942", "0.9866", ("487", "9"), ("1771", "80"), _FT_NOTE),
    *_comparison_rows("EFN", "0.9264727722772277", "0.9788583913742932", ("632.9592476489028", "31.3024973814917"),
                      _COMPARISON_NOTE + "; energy flow network (arXiv:1810.05165)"),
    *_comparison_rows("CNN", "0.930789603960396", "0.9813976707042735", ("913.6380090497738", "14.497354587735504"),
                      _COMPARISON_NOTE + "; jet-image CNN"),
    # a dense network on high-level features (N-subjettiness of an M-body basis and the jet mass; Moore,
    # Nordstrom, Varma, Fairbairn, arXiv:1807.04769), the published kin of jetzoo's mlp and perceptron
    *_comparison_rows("Multi-body N-subjettiness 8", "0.929519801980198", "0.9808581661093764",
                      ("866.5836909871244", "14.694401619109543"),
                      _COMPARISON_NOTE + "; a DNN on high-level features: N-subjettiness of an 8-body basis and the jet "
                      "mass (arXiv:1807.04769)"),
    *_comparison_rows("Multi-body N-subjettiness 6", "0.9250891089108911", "0.9788940456180855",
                      ("791.8196078431372", "17.880235292084976"),
                      _COMPARISON_NOTE + "; the same with a 6-body basis (arXiv:1807.04769)"),
    *_comparison_rows("TopoDNN", "0.9157202970297029", "0.9713277999323696", ("295.19590643274853", "4.8624576960181916"),
                      _COMPARISON_NOTE + "; a DNN on the pT-ordered constituents (arXiv:1704.02124)"),
    *_jetclass_rows("PFN", "0.772", "0.9714", ("2924", "841", "75", "198", "265", "797", "721", "189", "159")),
    *_jetclass_rows("P-CNN", "0.809", "0.9789", ("4890", "1276", "88", "474", "947", "2907", "2304", "241", "204")),
    *_jetclass_rows("ParticleNet", "0.844", "0.9849",
                    ("7634", "2475", "104", "954", "3339", "10526", "11173", "347", "283"), slides=True),
    *_jetclass_rows("ParT", "0.861", "0.9877",
                    ("10638", "4149", "123", "1864", "5479", "32787", "15873", "543", "402"), slides=True),
    *_jedi_rows(("95.29", "93.01", "97.39", "96.79", "96.83")),
)


def published_for(dataset: str) -> tuple[PublishedResult, ...]:
    """The published rows of one dataset (one of `DATASETS`); unknown names raise ValueError."""
    if dataset not in DATASETS:
        raise ValueError(f"no published rows for dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return tuple(r for r in PUBLISHED_RESULTS if r.dataset == dataset)


_REJ = re.compile(r"^rej(?P<eff>[0-9.]+)_.+_vs_(bkg|rest)$")


def leaderboard_column(metric: str) -> str:
    """The bench table's column of a metric: rej30_top_vs_bkg -> rej30; acc, auc unchanged."""
    match = _REJ.match(metric)
    return f"rej{match['eff']}" if match else metric


def published_markdown(rows: Iterable[PublishedResult], title: str = "Published reference rows") -> str:
    """A markdown section of published rows, separate from jetzoo's table and never ranked.

    Every row says "published, other data" and names its source; rows are grouped by dataset
    and model in the order given."""
    rows = tuple(rows)
    lines = [
        f"### {title} ({PUBLISHED_MARK}: not ranked)",
        "",
        "Numbers printed in papers, for models trained and tested by their authors on the dataset named",
        "in each row. They are not jetzoo runs and are never compared or ranked with them.",
        "",
        "| kind | model | dataset | metric | value | source | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [PUBLISHED_MARK, r.model, r.dataset, r.metric, r.formatted_value(), str(r.source), r.note]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def is_published(row: Any) -> bool:
    """True for a `PublishedResult`, or a mapping marked `published`."""
    if isinstance(row, PublishedResult):
        return True
    return isinstance(row, Mapping) and bool(row.get("published", False))


def rank_own_runs(rows: Iterable[Any], metric: str, higher_is_better: bool = True) -> list[Mapping[str, Any]]:
    """jetzoo's own rows (mappings) sorted by `metric`, best first; published rows are dropped,
    as are rows without the metric (e.g. failed runs)."""
    own = [r for r in rows if not is_published(r) and isinstance(r, Mapping) and r.get(metric) is not None]
    return sorted(own, key=lambda r: float(r[metric]), reverse=higher_is_better)
