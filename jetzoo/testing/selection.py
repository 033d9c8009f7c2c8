"""Which registered entries the contract tests check: those of one distribution (`jetzoo check-plugin
DIST`, `--jetzoo-dist DIST`), or all of them (jetzoo's own suite). Set before the test modules are
imported, since they parametrize over it at import (pytest's collection)."""

from __future__ import annotations

import re

from jetzoo.registry import datamodule_entries, model_entries

_distribution: str | None = None


def canonical(name: str) -> str:
    """A distribution name as packaging compares them (PEP 503): case and runs of -_. ignored."""
    return re.sub(r"[-_.]+", "-", name).lower()


def choose(distribution: str | None) -> None:
    global _distribution
    _distribution = canonical(distribution) if distribution else None


def chosen() -> str | None:
    return _distribution


def _names(entries) -> list[str]:
    return sorted(n for n, e in entries.items()  # a clashing name is checked for each distribution claiming it
                  if _distribution is None or any(canonical(c.distribution) == _distribution for c in e.claimants))


def models() -> list[str]:
    return _names(model_entries())


def datamodules() -> list[str]:
    return _names(datamodule_entries())
