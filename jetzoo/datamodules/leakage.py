"""No silent leakage: every jet identified, none read twice, none evaluated after being trained on.

The identity and split rule are defined in jet_identity.py; this module applies them to tables: it
gives (source, row) ids to tables whose reader set none, refuses a table holding one jet twice, and
refuses (or, with --allow_overlap, reports) evaluating jets that a checkpoint's training split held.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jetzoo.datamodules.jet_identity import Source, SplitRule, row_ids, training_ids
from jetzoo.datamodules.table import JetTable
from jetzoo.errors import JetDataError


def identified(table: JetTable) -> JetTable:
    """`table`, its jets given (source, row) ids when its reader gave none; two jets with one identity
    (the same file twice, or generated files of one recipe and seed, which share jets) are an error."""
    if table.jet_ids is None:
        rows = np.arange(len(table))
        source = Source("table", table.source, table.source, ((0, len(table)),))
        table = dataclasses.replace(table, jet_ids=row_ids("table", table.source, rows), sources=(source,))
    unique = np.unique(table.jet_ids)
    if len(unique) != len(table):
        raise JetDataError(
            f"{table.source}: {len(table) - len(unique)} jets appear more than once (the same file read twice, "
            "or generated files of one recipe and seed, which share jets); read each jet once"
        )
    return table


def overlap_with_training(ids: np.ndarray, record: dict) -> int:
    """How many of `ids` the checkpoint record's manifest and split rule put in its training split."""
    sources = [Source.from_json(s) for s in record["manifest"]]
    rule = SplitRule(**record["split"])
    return int(np.isin(rule.key_of(ids), training_ids(sources, rule)).sum())


def refuse_overlap(table: JetTable, indices: np.ndarray, split: str, record: dict, rule: SplitRule,
                   allow: bool) -> int:
    """JetDataError when jets `indices` of `table` (about to be evaluated as `split`) were in the
    training split of the checkpoint `record` (manifest + split rule); with `allow`, one printed line.

    The default fit-then-test on one file's own split is never an overlap: the same rule puts no
    test jet in train. Returns the number of overlapping jets."""
    seen = overlap_with_training(table.jet_ids[indices], record) if len(indices) else 0
    return overlap_message(table.source, seen, len(indices), split, record, rule, allow)


def overlap_message(source: str, seen: int, total: int, split: str, record: dict, rule: SplitRule, allow: bool) -> int:
    """Raise (or with `allow` print) the one line saying `seen` of `total` `split` jets were trained on."""
    if not seen:
        return 0
    what = (
        f"{seen} of {total} {split} jets were in the checkpoint's training data "
        f"(checkpoint: {SplitRule(**record['split']).describe()}; this run: {rule.describe()})"
    )
    if allow:
        print(f"jetzoo: warning: --allow_overlap true: {what}; these {split} metrics are not independent", flush=True)
        return seen
    raise JetDataError(
        f"{source}: {what}; evaluate on independent jets (another generator seed, or the checkpoint's "
        "split seed and fractions), or pass --allow_overlap true"
    )
