"""`jetzoo models` and `jetzoo datasets`: tables of what the registry holds, plugins included.

A plugin that fails to import gets a row with its error; the others are listed as usual.
"""

from __future__ import annotations

import fnmatch
import inspect

from jetzoo.registry import Entry, RegistryError, datamodule_entries, model_entries


def _first_line(obj) -> str:
    doc = inspect.getdoc(obj) or inspect.getdoc(inspect.getmodule(obj)) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def model_row(entry: Entry) -> list[str]:
    try:
        cls = entry.load()
        model = cls()
        params = sum(p.numel() for p in model.parameters())
        return [entry.name, entry.distribution, getattr(cls, "task", "?"), getattr(cls, "input_view", "?"), f"{params:,}"]
    except RegistryError as err:
        return [entry.name, entry.distribution, "BROKEN", "-", str(err)]
    except Exception as err:  # noqa: BLE001 - a plugin that cannot build at defaults is reported, not fatal
        return [entry.name, entry.distribution, "BROKEN", "-", f"cannot build at defaults: {type(err).__name__}: {err}"]


def datamodule_row(entry: Entry) -> list[str]:
    try:
        return [entry.name, entry.distribution, _first_line(entry.load())]
    except RegistryError as err:
        return [entry.name, entry.distribution, f"BROKEN: {err}"]


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_catalog(what: str, argv: list[str]) -> int:
    pattern = argv[0] if argv else "*"
    if what == "models":
        entries = model_entries()
        rows = [model_row(e) for n, e in entries.items() if fnmatch.fnmatch(n, pattern)]
        print(format_table(["name", "distribution", "task", "input view", "parameters (defaults)"], rows))
    else:
        entries = datamodule_entries()
        rows = [datamodule_row(e) for n, e in entries.items() if fnmatch.fnmatch(n, pattern)]
        print(format_table(["name", "distribution", "source"], rows))
    return 0
