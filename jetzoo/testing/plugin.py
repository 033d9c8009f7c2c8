"""The pytest plugin of the contract kit: `pytest -p jetzoo.testing.plugin [--jetzoo-dist DIST]`.

- `--jetzoo-dist DIST`: check only the entry points DIST registers (default: every registered one);
- fixtures: `top_jets_file` (4,000 real top-vs-QCD Pythia 8 + FastJet jets, generated once into
  `$JETZOO_CACHE`, about a minute on 2 cores the first time), `top_datamodules` (one set-up datamodule
  per view over them) and `jetzoo_builtin_samples` (samples of datamodules without `contract_sample`:
  none here; jetzoo's own suite gives its formats').
A conftest.py's fixtures of the same names take precedence, as pytest's always do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jetzoo.testing import selection

TOP_JETS = dict(recipe="top-landscape", n=4000, seed=1)


def pytest_addoption(parser):
    parser.getgroup("jetzoo").addoption(
        "--jetzoo-dist", default=None, metavar="DIST",
        help="check only the jetzoo models and datamodules this installed distribution registers")


def pytest_configure(config):
    selection.choose(config.getoption("--jetzoo-dist"))  # before the contract modules are collected


@pytest.fixture(scope="session")
def top_jets_file() -> Path:
    from jetzoo.generate import ensure_generated

    return Path(ensure_generated(**TOP_JETS, progress=False))


@pytest.fixture(scope="session")
def top_datamodules(top_jets_file):
    """One set-up datamodule per view over the top jets, shared by the contract tests."""
    from jetzoo.registry import create_datamodule

    cache = {}

    def get(view: str):
        if view not in cache:
            dm = create_datamodule("pythia", path=str(top_jets_file), batch_size=64, num_particles=32, view=view)
            dm.setup("fit")
            cache[view] = dm
        return cache[view]

    return get


@pytest.fixture(scope="session")
def jetzoo_builtin_samples() -> dict:
    return {}
