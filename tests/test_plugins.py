"""Plugins as real installed distributions: wheels built with pip from their own pyproject,
unpacked with their dist-info onto the path, found through the `jetzoo.models` entry point."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from helpers import REPO, run_jetzoo
from jetzoo import registry

PLUGIN_SOURCES = {
    "example": REPO / "examples" / "plugin",
    "broken": REPO / "tests" / "plugins" / "broken",
    "duplicate": REPO / "tests" / "plugins" / "duplicate",
}


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory):
    """{name: directory holding the unpacked wheel}, each a real distribution for importlib.metadata."""
    root = tmp_path_factory.mktemp("plugins")
    dirs = {}
    for name, source in PLUGIN_SOURCES.items():
        wheels, build_copy = root / f"{name}-wheel", root / f"{name}-source"
        shutil.copytree(source, build_copy)  # builds leave build/ and egg-info behind: not in the repo
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(build_copy)],
            check=True,
            capture_output=True,
        )
        (wheel,) = wheels.glob("*.whl")
        target = root / name
        zipfile.ZipFile(wheel).extractall(target)
        dirs[name] = target
    return dirs


@pytest.fixture
def on_path(monkeypatch):
    def add(directory):
        monkeypatch.syspath_prepend(str(directory))

    return add


def test_example_plugin_is_listed_and_trains_by_short_name(installed_plugins, top_jets_file, tmp_path):
    env = {"PYTHONPATH": str(installed_plugins["example"])}
    listing = run_jetzoo("models", env=env)
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if line.startswith("highway "))
    assert "jetzoo-example-plugin" in row and "tagging" in row and "hl" in row
    assert re.search(r"^mlp\s+jetzoo\s", listing.stdout, re.M) and re.search(r"^perceptron\s", listing.stdout, re.M)

    fit = run_jetzoo(
        "fit", "--model", "highway", "--data", "pythia", "--data.path", top_jets_file,
        "--trainer.max_epochs", "2", "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", tmp_path, env=env, cwd=tmp_path,
    )
    assert fit.returncode == 0, fit.stderr[-3000:]
    auc = float(re.search(r"test/auc\s*[│|]\s*([0-9.]+)", fit.stdout).group(1))
    assert auc > 0.8


def test_broken_plugin_is_reported_and_does_not_break_the_others(installed_plugins, on_path):
    on_path(installed_plugins["broken"])
    names = registry.list_models()
    assert "broken-model" in names and "mlp" in names and "perceptron" in names
    assert registry.get_model("mlp").__name__ == "MLP"
    with pytest.raises(registry.RegistryError) as err:
        registry.get_model("broken-model")
    message = str(err.value)
    assert "broken-model" in message and "jetzoo-broken-plugin" in message and "ModuleNotFoundError" in message


def test_models_command_lists_a_broken_plugin_with_its_error(installed_plugins):
    listing = run_jetzoo("models", env={"PYTHONPATH": str(installed_plugins["broken"])})
    assert listing.returncode == 0, listing.stderr
    broken = next(line for line in listing.stdout.splitlines() if line.startswith("broken-model"))
    assert "jetzoo-broken-plugin" in broken and "BROKEN" in broken and "jetzoo_dependency_that_is_not_installed" in broken
    assert re.search(r"^mlp\s+jetzoo\s+tagging", listing.stdout, re.M)


def test_two_distributions_claiming_one_name_is_an_error_naming_both(installed_plugins, on_path):
    on_path(installed_plugins["duplicate"])
    with pytest.raises(registry.RegistryError) as err:
        registry.list_models()
    message = str(err.value)
    assert "'mlp'" in message and "'jetzoo'" in message and "'jetzoo-duplicate-plugin'" in message

    listing = run_jetzoo("models", env={"PYTHONPATH": str(installed_plugins["duplicate"])})
    assert listing.returncode == 2
    assert "jetzoo-duplicate-plugin" in listing.stderr and len(listing.stderr.strip().splitlines()) == 1


def test_unknown_name_is_a_one_line_error():
    result = run_jetzoo("fit", "--model", "no-such-model", "--data", "pythia")
    assert result.returncode == 2
    assert "unknown model 'no-such-model'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
