"""The published reference rows: sources, valid ranges, no duplicates, agreement of every reading,
rendering marked as other data, and never ranked with jetzoo's runs."""

from __future__ import annotations

import dataclasses
import re

import pytest

from jetzoo.bench.published import (
    DATASETS,
    PUBLISHED_MARK,
    PUBLISHED_RESULTS,
    REJ30_TOP,
    REJ50_TOP,
    TOP_TAGGING,
    leaderboard_column,
    published_for,
    published_markdown,
    rank_own_runs,
)

ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")
TABLE_REF = re.compile(r"\b(Table|Tab\.|Figure|Fig\.)\s*\d+")
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def rows_for_ids():
    return [pytest.param(r, id=f"{r.model}-{r.metric}") for r in PUBLISHED_RESULTS]


def test_table_is_immutable():
    assert isinstance(PUBLISHED_RESULTS, tuple)
    row = PUBLISHED_RESULTS[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.value = 0.5  # type: ignore[misc]
    assert all(isinstance(r.readings, tuple) for r in PUBLISHED_RESULTS)


@pytest.mark.parametrize("row", rows_for_ids())
def test_every_row_has_a_source(row):
    assert ARXIV_ID.match(row.source.arxiv), row.source
    assert TABLE_REF.search(row.source.table), row.source.table
    assert row.source.version
    assert row.readings, "a number with no reading was not read"
    for reading in row.readings:
        assert reading.where and reading.table and reading.printed
        assert TABLE_REF.search(reading.table) or "table" in reading.table.lower(), reading


@pytest.mark.parametrize("row", rows_for_ids())
def test_values_in_the_metric_range(row):
    assert row.dataset in DATASETS
    if row.metric == "acc":
        assert 0.0 <= row.value <= 1.0
    elif row.metric == "auc" or row.metric.startswith("auc_"):
        assert 0.5 <= row.value <= 1.0
    elif row.metric.startswith("rej"):
        assert row.value > 1.0
        assert re.match(r"^rej[0-9.]+_.+_vs_(bkg|rest)$", row.metric), row.metric
    else:
        pytest.fail(f"metric {row.metric!r} is not in jetzoo's vocabulary")
    if row.uncertainty is not None:
        assert 0 < row.uncertainty < row.value


def test_no_duplicate_rows():
    keys = [r.key for r in PUBLISHED_RESULTS]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("row", rows_for_ids())
def test_every_reading_agrees_with_the_value(row):
    """Each independent reading, to the digits it prints, gives the entered value (and ±)."""
    for reading in row.readings:
        numbers = NUMBER.findall(reading.printed)
        value_text = numbers[0]
        decimals = len(value_text.partition(".")[2])
        value = row.value * 100 if "percent" in reading.table else row.value  # a table printed in percent
        assert round(value, decimals) == pytest.approx(float(value_text)), (reading, row.value)
        if len(numbers) > 1:
            assert row.uncertainty == pytest.approx(float(numbers[1])), (reading, row.uncertainty)


def test_the_complete_top_tagging_block():
    """Each top-tagging model has every column its source prints, so a reference row is never half a
    row: all four, or acc, auc and rej30 for the Top Tagging comparison's own taggers (it prints no 0.5)."""
    models = {r.model for r in published_for(TOP_TAGGING)}
    for model in models:
        rows = [r for r in published_for(TOP_TAGGING) if r.model == model]
        expected = {"acc", "auc", REJ30_TOP} if rows[0].source.arxiv == "1902.09914" else {"acc", "auc", REJ50_TOP, REJ30_TOP}
        assert {r.metric for r in rows} == expected, model
    assert {"ParticleNet", "ParT", "PFN", "EFN", "LorentzNet"} <= models


def test_the_jetclass_block_is_parts_table_in_jetzoos_names():
    """Four models, each with accuracy, AUC and the nine per-class rejections, named as jetzoo logs them
    for JetClass files (signal class vs QCD: `_vs_bkg`), at the table's efficiencies; ParT's ranking."""
    from jetzoo.bench.published import JETCLASS

    rows = published_for(JETCLASS)
    by_model: dict[str, dict[str, float]] = {}
    for r in rows:
        by_model.setdefault(r.model, {})[r.metric] = r.value
    assert set(by_model) == {"PFN", "P-CNN", "ParticleNet", "ParT"}
    classes = ("Hbb", "Hcc", "Hgg", "H4q", "Tbqq", "Wqq", "Zqq")
    expected = {"acc", "auc", *(f"rej50_{c}_vs_bkg" for c in classes), "rej99_Hqql_vs_bkg", "rej99.5_Tbl_vs_bkg"}
    assert all(set(m) == expected for m in by_model.values())
    for metric in expected:  # ParT > ParticleNet > P-CNN > PFN in every column of the table
        values = [by_model[m][metric] for m in ("ParT", "ParticleNet", "P-CNN", "PFN")]
        assert values == sorted(values, reverse=True), metric


def test_particlenet_in_the_comparison_tables_matches_the_particlenet_paper():
    """ParticleNet's row as quoted by the later comparisons (L-GATr's table, the Economical Jet
    Taggers table) agrees with the list that attributes it to the ParticleNet paper itself."""
    rows = {r.metric: r for r in published_for(TOP_TAGGING) if r.model == "ParticleNet"}
    assert rows[REJ30_TOP].source.arxiv == "1902.08570"
    for metric in ("auc", REJ30_TOP):
        wheres = " ".join(x.where for x in rows[metric].readings)
        assert "L-GATr" in wheres and "2512.17011" in wheres and "literature_reference.csv" in wheres
    # ParT trained from scratch is a different row, not a copy of ParticleNet's
    part = {r.metric: r for r in published_for(TOP_TAGGING) if r.model == "ParT"}
    assert part[REJ30_TOP].value != rows[REJ30_TOP].value


def test_internal_consistency_of_the_top_tagging_rows():
    """Rejection at eps_S = 0.3 is above that at 0.5; fine-tuning on top of JetClass pre-training
    does not lose to the same architecture trained from scratch (ParT's own claim)."""
    by_key = {(r.model, r.metric): r.value for r in published_for(TOP_TAGGING)}
    for model in {r.model for r in published_for(TOP_TAGGING)}:
        if (model, REJ50_TOP) in by_key:
            assert by_key[(model, REJ30_TOP)] > by_key[(model, REJ50_TOP)]
    for base in ("ParT", "ParticleNet"):
        for metric in ("acc", "auc", REJ50_TOP, REJ30_TOP):
            assert by_key[(f"{base}-f.t.", metric)] >= by_key[(base, metric)]


def test_published_for():
    assert published_for(TOP_TAGGING) == tuple(r for r in PUBLISHED_RESULTS if r.dataset == TOP_TAGGING)
    for dataset in DATASETS:
        assert all(r.dataset == dataset for r in published_for(dataset))
    with pytest.raises(ValueError, match="no published rows"):
        published_for("my own pythia jets")


def test_markdown_marks_every_row_as_published_other_data():
    rows = published_for(TOP_TAGGING)
    text = published_markdown(rows)
    table = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| kind")]
    assert len(table) == len(rows)
    for line, row in zip(table, rows):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == PUBLISHED_MARK
        assert f"arXiv:{row.source.arxiv}" in line
        assert row.formatted_value() in line
    assert "not ranked" in text.splitlines()[0]
    assert "| 0.940 |" in text  # the digits of the paper, not 0.94


def test_ranking_never_includes_published_rows():
    own = [
        {"model": "mlp-lite", "auc": 0.95, "rej30": 300.0},
        {"model": "particlenet-lite", "auc": 0.97, "rej30": 700.0},
        {"model": "broken", "auc": None},
        {"model": "ParticleNet", "auc": 0.9999, "published": True},
    ]
    mixed = [*own, *published_for(TOP_TAGGING)]
    ranked = rank_own_runs(mixed, "auc")
    assert [r["model"] for r in ranked] == ["particlenet-lite", "mlp-lite"]
    assert rank_own_runs(PUBLISHED_RESULTS, "auc") == []


def test_leaderboard_column():
    assert leaderboard_column(REJ30_TOP) == "rej30"
    assert leaderboard_column(REJ50_TOP) == "rej50"
    assert leaderboard_column("rej99.5_Tbqq_vs_bkg") == "rej99.5"
    assert leaderboard_column("auc") == "auc"
