"""`jetzoo check-plugin DIST`: the contract tests on the models and datamodules one installed distribution
registers, the same tests jetzoo's suite runs on its built-ins (compare scikit-learn's check_estimator).

It runs pytest on jetzoo.testing.model_contract and .datamodule_contract with the kit's plugin and
`--jetzoo-dist DIST`, in a fresh configuration (no pytest.ini or conftest of the current directory), and
exits with pytest's status. Extra arguments after `--` go to pytest (`-x`, `-k onnx`, `-v`).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import tempfile
from pathlib import Path

from jetzoo.errors import OptionError
from jetzoo.registry import DATAMODULE_GROUP, MODEL_GROUP

CONTRACTS = ("model_contract", "datamodule_contract")


def registered_by(distribution: str) -> dict[str, list[str]]:
    """{group: entry names} of the jetzoo entry points `distribution` declares (OptionError if not installed)."""
    try:
        dist = md.distribution(distribution)
    except md.PackageNotFoundError:
        raise OptionError(f"{distribution}: no such installed distribution (pip install it first; "
                          "the name is its pyproject's [project] name)") from None
    groups = {MODEL_GROUP: [], DATAMODULE_GROUP: []}
    for ep in dist.entry_points:
        if ep.group in groups:
            groups[ep.group].append(ep.name)
    if not any(groups.values()):
        raise OptionError(f"{distribution}: registers no jetzoo entry point (no [project.entry-points.\"{MODEL_GROUP}\"] "
                          f"or \"{DATAMODULE_GROUP}\" in its pyproject; see docs/plugins.md)")
    return groups


def add_check_plugin_arguments(parser) -> None:
    parser.add_argument("distribution", metavar="DIST", help="an installed distribution that registers jetzoo plugins")
    parser.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="passed on to pytest (after --)")


def run_check_plugin_command(args) -> int:
    groups = registered_by(args.distribution)
    try:
        import pytest
    except ImportError:
        raise OptionError("check-plugin runs pytest, which is not installed: pip install 'jetzoo[test]'") from None
    models, datamodules = groups[MODEL_GROUP], groups[DATAMODULE_GROUP]
    print(f"jetzoo check-plugin {args.distribution}: models {', '.join(models) or 'none'}; "
          f"datamodules {', '.join(datamodules) or 'none'}", flush=True)
    here = Path(__file__).parent
    with tempfile.TemporaryDirectory(prefix="jetzoo-check-") as empty:
        ini = Path(empty) / "pytest.ini"  # no pytest.ini, pyproject or conftest of where it runs applies
        ini.write_text("[pytest]\nfilterwarnings =\n    ignore::DeprecationWarning\n    ignore::UserWarning\n    ignore::FutureWarning\n")
        argv = ["-c", str(ini), "--rootdir", str(here.parent.parent), "-p", "jetzoo.testing.plugin",
                "-p", "no:cacheprovider", "--jetzoo-dist", args.distribution, *(args.pytest_args or ["-q"]),
                *(str(here / f"{name}.py") for name in CONTRACTS)]
        os.environ.setdefault("WANDB_MODE", "offline")
        return int(pytest.main(argv))
