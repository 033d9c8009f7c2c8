"""Plugins as real installed distributions: wheels built with pip from their own pyproject,
unpacked with their dist-info onto the path, found through the `jetzoo.models` and
`jetzoo.datamodules` entry points. Besides the example plugin, each test plugin misbehaves in
one way (tests/plugins/*): a missing dependency, a name clash with a built-in, sys.exit /
os._exit, a loop at import or in __init__, classes that are not Lightning classes. Each must
cost only its own entry."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from argparse import Namespace

import pytest

from helpers import REPO, jetzoo_in_process, printed_value, run_jetzoo
from jetzoo import bench, registry
from jetzoo.cli import catalog
from jetzoo.registry import health as plugin_health

PLUGIN_SOURCES = {
    "example": REPO / "examples" / "plugin",
    "broken": REPO / "tests" / "plugins" / "broken",
    "duplicate": REPO / "tests" / "plugins" / "duplicate",
    "exits": REPO / "tests" / "plugins" / "exits",
    "hang_import": REPO / "tests" / "plugins" / "hang_import",
    "hang_init": REPO / "tests" / "plugins" / "hang_init",
    "not_lightning": REPO / "tests" / "plugins" / "not_lightning",
    "liar": REPO / "tests" / "plugins" / "liar",
}
HANGING = ("hang-import-model", "hang-init-model")
TIMEOUT = 6  # seconds per entry in these tests (the default is 20)


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory):
    """{name: directory holding the unpacked wheel}, each a real distribution for importlib.metadata."""
    root = tmp_path_factory.mktemp("plugins")
    copies = {}
    for name, source in PLUGIN_SOURCES.items():
        copies[name] = root / f"{name}-source"
        # builds leave build/ and egg-info behind: not in the repo
        shutil.copytree(source, copies[name], ignore=shutil.ignore_patterns("build", "*.egg-info"))
    wheels = root / "wheels"
    subprocess.run(  # one pip for all: each pip start costs about a second
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), *map(str, copies.values())],
        check=True,
        capture_output=True,
    )
    dirs = {}
    for name, source in copies.items():
        project = tomllib.loads((source / "pyproject.toml").read_text())["project"]["name"].replace("-", "_")
        (wheel,) = wheels.glob(f"{project}-*.whl")
        zipfile.ZipFile(wheel).extractall(root / name)
        dirs[name] = root / name
    return dirs


@pytest.fixture
def on_path(monkeypatch):
    def add(*directories):
        for directory in directories:
            monkeypatch.syspath_prepend(str(directory))

    return add


@pytest.fixture(scope="module")
def listing_with_every_plugin(installed_plugins, tmp_path_factory):
    """One `jetzoo models` run with all the plugins installed at once: (result, seconds, env)."""
    env = {
        "PYTHONPATH": os.pathsep.join(map(str, installed_plugins.values())),
        "JETZOO_CACHE": str(tmp_path_factory.mktemp("cache")),
        "JETZOO_PLUGIN_TIMEOUT": str(TIMEOUT),
    }
    start = time.monotonic()
    result = run_jetzoo("models", env=env, timeout=300)
    return result, time.monotonic() - start, env


def row(listing: str, name: str) -> str:
    return next(line for line in listing.splitlines() if line.startswith(f"{name} "))


def test_models_lists_every_plugin_and_isolates_each_bad_one(listing_with_every_plugin):
    result, seconds, _ = listing_with_every_plugin
    assert result.returncode == 0, result.stderr
    out = result.stdout
    expected = {  # name: (distribution, words of the reason)
        "broken-model": ("jetzoo-broken-plugin", "ModuleNotFoundError", "jetzoo_dependency_that_is_not_installed"),
        "exit-model": ("jetzoo-exit-plugin", "sys.exit(3)"),
        "exit-at-build": ("jetzoo-exit-plugin", "exited with code 3 during build at defaults"),
        "hang-import-model": ("jetzoo-hang-import-plugin", f"timed out after {TIMEOUT}s during import"),
        "hang-init-model": ("jetzoo-hang-init-plugin", f"timed out after {TIMEOUT}s during build at defaults"),
        "not-a-module": ("jetzoo-not-lightning-plugin", "is not a lightning.LightningModule subclass"),
    }
    for name, (distribution, *reason) in expected.items():
        line = row(out, name)
        assert re.match(rf"{re.escape(name)}\s+{distribution}\s+BROKEN\s", line), line
        assert all(word in line for word in reason), line
    clash = row(out, "mlp")
    assert re.match(r"mlp\s+jetzoo, jetzoo-duplicate-plugin\s+CONFLICT\s", clash), clash
    assert re.search(r"^perceptron\s+jetzoo\s+tagging\s+hl\s+26$", out, re.M)
    assert re.search(r"^highway\s+jetzoo-example-plugin\s+tagging\s+hl\s+[0-9,]+$", out, re.M)
    assert seconds < 60, f"listing took {seconds:.0f}s"


def test_listing_is_cached_except_timeouts(listing_with_every_plugin, installed_plugins, on_path, monkeypatch):
    _, _, env = listing_with_every_plugin
    on_path(*installed_plugins.values())
    monkeypatch.setenv("JETZOO_CACHE", env["JETZOO_CACHE"])
    probed = []

    def probe(entries, mode=None):
        probed.extend(e.name for e in entries)
        return {(e.group, e.name): {"status": "broken", "reason": "timed out", "cacheable": False} for e in entries}

    monkeypatch.setattr(plugin_health, "run_probe", probe)
    entries = [e for e in registry.model_entries().values() if not e.conflict]
    health = plugin_health.check(entries)
    assert sorted(probed) == sorted(HANGING)  # everything else came from the cache, without a child process
    assert health[registry.model_entries()["perceptron"]]["params"] == 26


def test_a_clash_disables_only_that_name(installed_plugins, on_path):
    on_path(installed_plugins["duplicate"])
    names = registry.list_models()
    assert "mlp" in names and "perceptron" in names
    assert registry.get_model("perceptron").__name__ == "Perceptron"
    with pytest.raises(registry.RegistryError) as err:
        registry.get_model("mlp")
    message = str(err.value)
    assert "'mlp'" in message and "'jetzoo'" in message and "'jetzoo-duplicate-plugin'" in message
    with pytest.raises(registry.RegistryError, match="jetzoo-duplicate-plugin"):
        registry.resolve_cli_value(registry.MODEL_GROUP, "mlp")
    # a full class path never goes through the registry's names
    assert registry.resolve_cli_value(registry.MODEL_GROUP, "jetzoo.zoo.mlp.MLP") == "jetzoo.zoo.mlp.MLP"
    # the registry-wide contract tests still collect (their module lists the models at import)
    assert "mlp" in runpy.run_path(str(REPO / "tests" / "test_model_contract.py"))["MODELS"]


def test_a_distribution_installed_or_removed_after_a_read_is_seen_at_the_next(tmp_path, on_path):
    """The registry keeps what it read until a sys.path directory changes: an install into a directory
    already on the path (a new dist-info) is seen at once, and so is its removal."""
    on_path(tmp_path)
    assert "late-model" not in registry.list_models()
    info = tmp_path / "jetzoo_late_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: jetzoo-late-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[jetzoo.models]\nlate-model = jetzoo_late:Model\n")
    assert registry.model_entries()["late-model"].distribution == "jetzoo-late-plugin"
    shutil.rmtree(info)
    assert "late-model" not in registry.list_models()


def test_catalog_rows_of_a_clash_name_both_distributions():
    ours = registry.Entry("pythia", registry.DATAMODULE_GROUP, "jetzoo.datamodules.pythia:PythiaJetDataModule", "jetzoo")
    theirs = registry.Entry("pythia", registry.DATAMODULE_GROUP, "other.data:Pythia", "other-plugin")
    clash = registry.Entry(ours.name, ours.group, ours.target, ours.distribution, rivals=(theirs,))
    name, distributions, source = catalog.datamodule_row(clash, None)
    assert (name, distributions) == ("pythia", "jetzoo, other-plugin")
    assert source.startswith("CONFLICT: ") and "'jetzoo'" in source and "'other-plugin' (other.data:Pythia)" in source
    assert catalog.model_row(clash, None)[2] == "CONFLICT"


def test_full_class_path_works_with_a_clash_installed(installed_plugins, top_jets_file, tmp_path):
    result = run_jetzoo(
        "fit", "--model", "jetzoo.zoo.mlp.MLP", "--data", "pythia", "--data.path", top_jets_file, "--print_config",
        env={"PYTHONPATH": str(installed_plugins["duplicate"])}, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "class_path: jetzoo.zoo.mlp.MLP" in result.stdout


def test_broken_plugin_is_reported_and_does_not_break_the_others(installed_plugins, on_path):
    on_path(installed_plugins["broken"])
    names = registry.list_models()
    assert "broken-model" in names and "mlp" in names and "perceptron" in names
    assert registry.get_model("mlp").__name__ == "MLP"
    with pytest.raises(registry.RegistryError) as err:
        registry.get_model("broken-model")
    message = str(err.value)
    assert "broken-model" in message and "jetzoo-broken-plugin" in message and "ModuleNotFoundError" in message


def test_exit_at_import_is_a_registry_error_not_an_exit(installed_plugins, on_path):
    on_path(installed_plugins["exits"])
    with pytest.raises(registry.RegistryError, match=r"'exit-model' .* 'jetzoo-exit-plugin' failed to load: called sys.exit\(3\)"):
        registry.get_model("exit-model")


def test_the_cache_keys_ignore_vendored_copies_on_sys_path(tmp_path, monkeypatch):
    """setuptools puts its _vendor directory on sys.path when imported (torch.compile imports it): those private
    copies are not installed distributions, so the keys stay those of a fresh process; a real install changes them."""
    from jetzoo.registry.health import cache

    def distribution(directory, name):
        info = directory / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        return directory

    before = cache.Keys().environment
    monkeypatch.syspath_prepend(str(distribution(tmp_path / "tool" / "_vendor", "vendored-copy")))
    assert cache.Keys().environment == before
    monkeypatch.syspath_prepend(str(distribution(tmp_path / "site", "installed-plugin-dependency")))
    assert cache.Keys().environment != before


def test_classes_that_are_not_lightning_classes_are_registry_errors(installed_plugins, on_path, monkeypatch):
    on_path(installed_plugins["not_lightning"])
    with pytest.raises(registry.RegistryError) as err:
        registry.get_model("not-a-module")
    message = str(err.value)
    assert "'not-a-module'" in message and "'jetzoo-not-lightning-plugin'" in message
    assert "is not a lightning.LightningModule subclass" in message and len(message.splitlines()) == 1
    with pytest.raises(registry.RegistryError, match="'not-a-datamodule' .* is not a lightning.LightningDataModule subclass"):
        registry.get_datamodule("not-a-datamodule")
    with pytest.raises(registry.RegistryError, match="not-a-module"):
        registry.resolve_cli_value(registry.MODEL_GROUP, "not-a-module")

    # `jetzoo bench` checks every name before training any model
    monkeypatch.setattr(bench, "bench_model", lambda *a, **k: pytest.fail("trained before checking the names"))
    args = Namespace(threads=None, data_arg=[], model_arg=[], models="perceptron,not-a-module", data="pythia", max_epochs=1, seed=0, out="x")
    with pytest.raises(registry.RegistryError, match="not-a-module"):
        bench.run_bench_command(args)


@pytest.mark.parametrize(
    "plugin, name, named",
    [
        ("broken", "broken-model", ["'broken-model'", "'jetzoo-broken-plugin'", "ModuleNotFoundError"]),
        ("not_lightning", "not-a-module", ["'not-a-module'", "'jetzoo-not-lightning-plugin'", "LightningModule"]),
        ("duplicate", "mlp", ["'mlp'", "'jetzoo'", "'jetzoo-duplicate-plugin'"]),
    ],
)
def test_fit_with_a_bad_plugin_is_the_registry_one_line_error(installed_plugins, plugin, name, named, tmp_path):
    result = run_jetzoo(  # --print_config: nothing is generated or trained even if the name were accepted
        "fit", "--model", name, "--data", "pythia", "--print_config", env={"PYTHONPATH": str(installed_plugins[plugin])}, cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(word in lines[0] for word in named), result.stderr[-3000:]


def test_example_plugins_are_listed_and_train_by_short_name(listing_with_every_plugin, installed_plugins, on_path, top_jets_file, tmp_path):
    """`highway` (a model) trained on `hl-csv` (a datamodule), both from the example plugin."""
    listing, _, _ = listing_with_every_plugin
    assert re.search(r"^highway\s+jetzoo-example-plugin\s+tagging\s+hl\s", listing.stdout, re.M)
    assert re.search(r"^mlp\s", listing.stdout, re.M) and re.search(r"^perceptron\s+jetzoo\s", listing.stdout, re.M)

    on_path(installed_plugins["example"])
    from jetzoo_example_plugin.hl_csv import write_csv_from_generated

    csv_path = write_csv_from_generated(top_jets_file, tmp_path / "top.csv")
    fit = run_jetzoo(
        "fit", "--model", "highway", "--data", "hl-csv", "--data.path", csv_path,
        "--trainer.max_epochs", "2", "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", tmp_path, env={"PYTHONPATH": str(installed_plugins["example"])}, cwd=tmp_path,
    )
    assert fit.returncode == 0, fit.stderr[-3000:]
    auc = printed_value(fit.stdout, "test/auc")
    assert auc > 0.8


def test_unknown_name_is_a_one_line_error(capfd, monkeypatch, tmp_path):
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "no-such-model", "--data", "pythia", cwd=tmp_path)
    assert code == 2
    assert "unknown model 'no-such-model'" in err and len(err.strip().splitlines()) == 1


def test_check_plugin_passes_the_installed_example_plugin(tmp_path):
    """The kit for plugin authors (jetzoo.testing): `jetzoo check-plugin DIST` runs the registry-wide
    contract on the example plugin as installed by the README's test command (pip install ./examples/plugin)."""
    result = run_jetzoo("check-plugin", "jetzoo-example-plugin", "--", "-v", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "models highway; datamodules hl-csv" in result.stdout
    for test in ("test_optimizer_steps_lower_the_loss[highway]", "test_onnx_export_matches_pytorch[highway]",
                 "test_serves_each_supported_view[hl-csv]"):
        assert re.search(rf"{re.escape(test)} PASSED", result.stdout), result.stdout[-3000:]


def test_check_plugin_fails_a_model_that_claims_what_it_lacks(installed_plugins, tmp_path):
    """`lying-rnn` declares permutation invariance that an RNN lacks: the kit fails it, and only that check."""
    env = {"PYTHONPATH": str(installed_plugins["liar"])}
    result = run_jetzoo("check-plugin", "jetzoo-liar-plugin", "--", "-k", "invariance or builds", env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "FAILED" in result.stdout and "test_declared_permutation_invariance[lying-rnn]" in result.stdout
    assert "1 failed, 1 passed" in result.stdout, result.stdout[-2000:]


@pytest.mark.parametrize("dist, message", [("jetzoo-no-such-dist", "no such installed distribution"),
                                           ("numpy", "registers no jetzoo entry point")])
def test_check_plugin_of_what_is_not_a_plugin_is_one_line(dist, message, capfd, monkeypatch, tmp_path):
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "check-plugin", dist, cwd=tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
