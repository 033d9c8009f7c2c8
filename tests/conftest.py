"""Shared fixtures: real Pythia 8 + FastJet jets, generated once per cache and reused.

The cache is `$JETZOO_CACHE` (default: `.cache/` in the repository), so a second run of the
suite reuses the generated files; a fresh clone generates them (about a minute on 2 cores).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("JETZOO_CACHE", str(REPO / ".cache"))
os.environ.setdefault("WANDB_MODE", "offline")  # never reach for the network from tests
os.environ.setdefault("WANDB_SILENT", "true")
# one intra-op thread: the suite's subprocesses (DDP ranks, CLI runs) share two cores, and
# OpenMP threads spinning against each other make small ops orders of magnitude slower
torch.set_num_threads(1)

from jetzoo.testing.plugin import TOP_JETS  # noqa: E402 - the contract kit's real jets, shared

pytest_plugins = ["jetzoo.testing.plugin"]  # the kit's --jetzoo-dist option and fixtures (overridden below)


@pytest.fixture(scope="session")
def top_jets_file() -> Path:
    """A few thousand real top-vs-QCD jets (top-landscape recipe); made in the background from the start
    of the session when missing (pytest_collection_modifyitems), so this waits on its lock at most."""
    from jetzoo.generate import ensure_generated

    return Path(ensure_generated(**TOP_JETS))


_MAKER_ENV = "JETZOO_TEST_TOP_JETS_MAKER"  # set once the top jets are being made, so no worker starts another


def _start_top_jets_maker(config) -> None:
    """Generate the top jets in the background unless cached (ensure_generated's lock makes the fixture
    wait for it instead of generating them again)."""
    from jetzoo.generate import default_dataset_path

    recipe, n, seed = TOP_JETS["recipe"], TOP_JETS["n"], TOP_JETS["seed"]
    if os.environ.get(_MAKER_ENV) or default_dataset_path(recipe, n, seed).exists():
        return
    import subprocess
    import sys

    # two generator processes: while the test files that need no top jets run, they share the cores with
    # them; once every test worker waits on the fixture, they use both cores (one left one idle, ~50 s)
    code = (f"from jetzoo.generate import ensure_generated; "
            f"ensure_generated({recipe!r}, {n}, {seed}, workers=2, progress=False)")
    config._top_jets_maker = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
    os.environ[_MAKER_ENV] = str(config._top_jets_maker.pid)  # xdist's workers inherit it


def pytest_configure(config):
    """The whole suite on xdist: the controller starts the top jets at once, before its workers have even
    imported torch (about 10 s earlier than their collection could); a run of chosen files leaves it to
    the collection below, which knows whether any test needs them."""
    whole_suite = not config.args or [str(a) for a in config.args] == config.getini("testpaths")
    if whole_suite and not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        _start_top_jets_maker(config)


def pytest_collection_modifyitems(session, config, items):
    """Test files that need no top jets first, in their own order; if the top jets are not cached yet and
    no process is making them yet (pytest_configure), one starts now."""
    needs = {item.module.__name__ for item in items if "top_jets_file" in getattr(item, "fixturenames", ())}
    items.sort(key=lambda item: item.module.__name__ in needs)  # stable: each file's tests stay together, in order
    if needs:
        _start_top_jets_maker(config)


def pytest_sessionfinish(session, exitstatus):
    maker = getattr(session.config, "_top_jets_maker", None)
    if maker is not None and maker.poll() is None:  # a run that ended before it was needed
        maker.kill()
        maker.wait()


@pytest.fixture(scope="session")
def hls4ml_file(tmp_path_factory) -> Path:
    """250 real hls4ml-5class jets (g, q, W, Z, t; 50 per class)."""
    from jetzoo.generate import generate

    out = tmp_path_factory.mktemp("generated") / "hls4ml.h5"
    return generate("hls4ml-5class", 250, seed=0, out=out, workers=2, progress=False)


@pytest.fixture(scope="session")
def jetzoo_builtin_samples():
    """The built-in formats' samples for the datamodule contract (jetzoo/testing/datamodule_contract.py),
    each written with the format's own tooling (tests/format_writers.py); the generated format's is the
    session's real jets. A plugin's datamodule writes its own (`contract_sample`)."""
    import format_writers as fw

    batch_size = 8

    def written_by(writer, filename):
        def sample(directory, request):
            writer(directory / filename)
            return {"path": str(directory / filename), "batch_size": batch_size}

        return sample

    return {
        "pythia": lambda directory, request: {
            "path": str(request.getfixturevalue("top_jets_file")), "max_jets": 400, "batch_size": batch_size,
        },
        "hls4ml": written_by(fw.write_hls4ml_file, "jets.h5"),
        "top-tagging": written_by(fw.write_top_tagging_file, "jets.h5"),
        "jetclass": written_by(fw.write_jetclass_file, "jets.root"),
        "jetnet": written_by(fw.write_jetnet_file, "t.hdf5"),
        "quark-gluon": written_by(fw.write_quark_gluon_file, "jets.npz"),
    }


@pytest.fixture(scope="session")
def mlp_run(top_jets_file, tmp_path_factory):
    """One real `jetzoo fit` of the MLP (2 epochs, default logger), shared by the CLI tests.

    Returns (run directory the command ran in, its last.ckpt, the completed process).
    """
    from helpers import run_jetzoo

    cwd = tmp_path_factory.mktemp("mlp-run")
    result = run_jetzoo(
        "fit", "--model", "mlp", "--data.path", top_jets_file, "--trainer.max_epochs", "2",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", cwd=cwd,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return cwd, cwd / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt", result
