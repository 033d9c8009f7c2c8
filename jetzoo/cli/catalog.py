"""`jetzoo models` and `jetzoo datasets`: tables of what the registry holds, plugins included.

This process imports no plugin code: parameter counts, docstrings and health come from
`jetzoo.registry.health` (a child process, cached). A plugin that fails to import, exits, hangs,
crashes, or is not the right Lightning class gets a BROKEN row with the reason; a name claimed
by two distributions gets a CONFLICT row naming both. The other rows are listed as usual.
"""

from __future__ import annotations

import fnmatch

from jetzoo.registry import health as plugin_health
from jetzoo.registry import Entry, datamodule_entries, model_entries


def distributions(entry: Entry) -> str:
    return ", ".join(e.distribution for e in entry.claimants)


def model_row(entry: Entry, health: dict | None) -> list[str]:
    if entry.conflict:
        return [entry.name, distributions(entry), "CONFLICT", "-", entry.conflict]
    if health["status"] != "ok":
        return [entry.name, entry.distribution, "BROKEN", "-", health["reason"]]
    return [entry.name, entry.distribution, health["task"], health["input_view"], f"{health['params']:,}"]


def datamodule_row(entry: Entry, health: dict | None) -> list[str]:
    if entry.conflict:
        return [entry.name, distributions(entry), f"CONFLICT: {entry.conflict}"]
    if health["status"] != "ok":
        return [entry.name, entry.distribution, f"BROKEN: {health['reason']}"]
    return [entry.name, entry.distribution, health["doc"]]


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def rows(what: str, pattern: str = "*") -> list[list[str]]:
    entries = model_entries() if what == "models" else datamodule_entries()
    chosen = [e for n, e in entries.items() if fnmatch.fnmatch(n, pattern)]
    health = plugin_health.check([e for e in chosen if not e.conflict])
    row = model_row if what == "models" else datamodule_row
    return [row(e, health.get(e)) for e in chosen]


def print_catalog(what: str, argv: list[str]) -> int:
    pattern = argv[0] if argv else "*"
    if what == "models":
        header = ["name", "distribution", "task", "input view", "parameters (defaults)"]
    else:
        header = ["name", "distribution", "source"]
    print(format_table(header, rows(what, pattern)))
    return 0
