"""The README's leaderboard rows are the committed board's, to the digits the README prints, and its ROC
plot exists: a re-run board and a hand-copied front page cannot drift apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_board_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## The leaderboard")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def cell(metric: dict, digits: int) -> str:
    return f"{metric['mean']:.{digits}f} ± {metric['std']:.{digits}f}"


def test_the_readmes_leaderboard_rows_are_the_committed_boards():
    section = readme_board_section()
    board_md = re.search(r"\((benchmarks/[^)\s]+/leaderboard\.md)\)", section).group(1)
    board = json.loads((REPO / board_md).with_suffix(".json").read_text())
    rows = [line.strip("|").split("|") for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| model")]
    assert rows, "no leaderboard rows in the README"
    ranked = [row for row in board["rows"] if row.get("auc")]
    assert len(rows) <= len(ranked)
    for printed, row in zip(rows, ranked):  # the README shows the board's top rows, in its order
        model, auc, rej50, rej30, params = (c.strip() for c in printed)
        assert model == row["name"], f"README row {model!r}: the board ranks {row['name']!r} there"
        assert (auc, rej50, rej30) == (cell(row["auc"], 4), cell(row["rej50"], 1), cell(row["rej30"], 1)), model
        assert params == f"{row['params']:,}", model
    assert f"{ranked[0]['test_jets']:,}" in section, "the README's test-set size is not the board's"
    for image in re.findall(r"!\[[^]]*\]\(([^)]+)\)", section):
        assert (REPO / image).is_file(), f"the README shows {image}, which is not committed"
