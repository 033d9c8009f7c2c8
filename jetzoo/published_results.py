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

Not entered, because no source text with the number could be read when this table was made
(see the report of that work): the per-class AUCs of JEDI-net (arXiv:1908.05318) and the DNN
(arXiv:1804.06913) on the hls4ml dataset, the JetClass table of ParT (arXiv:2202.03772), the
rows of the Top Tagging comparison's own table (arXiv:1902.09914), and EFN on top tagging.
The dataset names for them are declared so that rows can be added with a source.
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

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.dataset, self.metric)

    def formatted_value(self) -> str:
        """The value with the digits printed in the source (0.940, not 0.94), and its ±."""
        number = re.match(r"[0-9.]+", self.readings[0].printed) if self.readings else None
        decimals = len(number[0].partition(".")[2]) if number else 4
        text = f"{self.value:.{decimals}f}"
        return text if self.uncertainty is None else f"{text} ± {self.uncertainty:g}"


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
