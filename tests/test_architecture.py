"""The house: rooms by role, no import circle, no import from a lower room up to a higher one, and the
old module paths of jetzoo 0.1.0 still working (docs/DESIGN.md, "The map").

The layers are `[tool.importlinter]` in pyproject.toml, checked by import-linter in-process; the
circles are counted here on grimp's graph, which holds the imports inside functions too.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import grimp
import pytest

from jetzoo import compat

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jetzoo"


def _layers() -> list[list[str]]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [[room.strip() for room in layer.split("|")] for layer in contract["layers"]]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("jetzoo", cache_dir=None)


def test_import_linter_contracts_are_kept():
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle_counting_imports_inside_functions(graph):
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    # grimp sees the imports inside functions: the catalog is imported inside main() only
    assert "jetzoo.cli.catalog" in edges["jetzoo.cli.main"]
    assert _circles(edges) == []
    # and the check can fail: a made-up circle through a function-level import is found
    assert _circles({**edges, "jetzoo.io.files": edges["jetzoo.io.files"] | {"jetzoo.errors"},
                     "jetzoo.errors": {"jetzoo.io.files"}}) == [["jetzoo.errors", "jetzoo.io.files"]]


def test_package_root_holds_at_most_three_modules():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert set(modules) <= {"__init__.py", "errors.py", "__main__.py"}, modules


def _room(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_every_room_says_what_it_is_for_and_what_it_may_import(graph):
    layers = _layers()
    rank = {room: i for i, layer in enumerate(layers) for room in layer}
    rooms = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert set(rooms) == {r.split(".")[1] for r in rank} - {"errors"} | {"compat"}, "a room outside the layers contract"
    for name in rooms:
        room = f"jetzoo.{name}"
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())) or ""
        assert len(doc.split()) >= 15, f"{room}/__init__.py: no docstring saying what the room is for"
        allowed_text = doc.partition("May import")[2]
        assert allowed_text, f"{room}/__init__.py: the docstring does not say what the room may import"
        if name == "compat":
            continue
        imported = {
            _room(target)
            for module in graph.find_descendants(room) | {room}
            for target in graph.find_modules_directly_imported_by(module)
            if _room(target) != room and target.count(".") >= 1
        }
        if "every other room" in allowed_text.split(";")[0]:
            continue
        named = set(re.findall(r"`(jetzoo\.\w+)`", allowed_text.split("Never")[0]))
        assert imported <= named, f"{room} imports {sorted(imported - named)}, which its docstring does not allow"
        above = {r for r in named if rank.get(r, len(layers)) < rank[room]}
        assert not above, f"{room}'s docstring allows {sorted(above)}, a room above it in the layers contract"


# --- old paths ------------------------------------------------------------------------------------
@pytest.mark.parametrize("old", sorted(compat.MOVED))
def test_old_module_path_warns_and_gives_the_same_objects(old):
    new = importlib.import_module(compat.MOVED[old])
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        alias = importlib.import_module(old)
    assert any(issubclass(w.category, DeprecationWarning) and compat.MOVED[old] in str(w.message) for w in caught)
    public = [n for n in dir(new) if not n.startswith("_")]
    assert public and all(getattr(alias, n) is getattr(new, n) for n in public)


def test_old_submodule_path_and_from_import():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from jetzoo.checkpoints import CheckpointProvenance, load_checkpoint_file  # noqa: F401
        from jetzoo.plugin_health.probe import main as probe_main

    from jetzoo.registry.health.probe import main

    assert probe_main is main
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("jetzoo.plugin_health.no_such_module")


PUBLIC_NAMES = {
    # README and docs/DESIGN.md §5: what plugins and users import
    "jetzoo.registry": ["load_checkpoint", "get_model", "get_datamodule", "list_models", "list_datamodules",
                        "create_model", "create_datamodule", "model_entries", "datamodule_entries",
                        "RegistryError", "MODEL_GROUP", "DATAMODULE_GROUP"],
    "jetzoo.zoo.base": ["JetTagger"],
    "jetzoo.zoo.generative_base": ["AnomalyDetector", "JetGenerator"],
    "jetzoo.zoo.backbone_task": ["BackboneTask"],
    "jetzoo.datamodules.base": ["JetDataModule"],
    "jetzoo.datamodules.table": ["JetTable"],
    "jetzoo.datamodules.readers": ["read_hls4ml"],
    "jetzoo.errors": ["JetDataError", "UsageError"],
    "jetzoo.generate": ["ensure_generated", "generate"],
    "jetzoo.training": ["fit_and_test", "build", "quiet_trainer"],
    "jetzoo.metrics": ["evaluate", "format_summary", "LogitsAndLabels"],
    "jetzoo.cli": ["main"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_documented_public_names_import(module):
    imported = importlib.import_module(module)
    missing = [n for n in PUBLIC_NAMES[module] if not hasattr(imported, n)]
    assert not missing, f"{module} lacks {missing}"


def test_config_yaml_of_jetzoo_0_1_0_still_parses(capsys):
    """A 0.1.0 `--print_config` with a callback under its 0.1.0 path (jetzoo.prediction_writer...)."""
    from jetzoo.cli import main

    fixture = ROOT / "tests" / "fixtures" / "mlp-jetzoo-0.1.0-config.yaml"
    assert "jetzoo.prediction_writer.JetPredictionWriter" in fixture.read_text()
    with pytest.raises(SystemExit) as exited:
        main(["fit", "--config", str(fixture), "--print_config"])
    assert exited.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "class_path: jetzoo.zoo.mlp.MLP" in printed
    assert "output_path: scores.h5" in printed


def test_version_starts_without_torch():
    """`jetzoo --version` imports no torch, lightning or plugin: start-up stays fast."""
    code = ("import sys; from jetzoo.cli import main; main(['--version']); "
            "print(sorted(m for m in ('torch', 'lightning', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["jetzoo 0.1.0", "[]"]


@pytest.mark.parametrize("argv, message", [
    (["fit", "--model", "not-a-model", "--print_config"], "unknown model 'not-a-model'"),
    (["test", "--model", "mlp", "--ckpt_path", "/no/such.ckpt"], "/no/such.ckpt: no such checkpoint file"),
    (["sample"], "the following arguments are required: --model, --ckpt_path, --n, --out"),
    (["sample", "--model", "epic-gan", "--ckpt_path", "/no/such.ckpt", "--n", "9", "--out", "x.h5"], "no such checkpoint"),
    (["sample", "--model", "epic-gan", "--ckpt_path", sys.executable, "--n", "0", "--out", "x.h5"], "--n must be a positive"),
    (["export", "--model", "mlp", "--ckpt_path", "/no/such.ckpt", "--out", "x.onnx"], "no such checkpoint file"),
    (["export"], "the following arguments are required: --model, --ckpt_path, --out"),
    (["export", "--model", "mlp", "--ckpt_path", sys.executable, "--out", "x", "--format", "tflite"], "invalid choice"),
])
def test_a_misspelt_model_or_checkpoint_is_refused_before_lightning_is_imported(argv, message):
    """A wrong `--model` name or `--ckpt_path` is a fraction of a second, not the seconds of importing Lightning
    (`--recipe`'s module lives in `jetzoo.training`, which imports it, and a known model's module imports it: only a
    command that names a recipe loads the one, and the checkpoint is checked before the other)."""
    code = (f"import sys; from jetzoo.cli import main; code = main({argv!r}); "
            "print(code, sorted(m for m in ('torch', 'lightning') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "2 []", done.stdout + done.stderr
    assert message in done.stderr
