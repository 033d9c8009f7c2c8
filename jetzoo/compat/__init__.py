"""Old module paths, kept working until jetzoo 0.4.

jetzoo 0.1.0 had 18 loose modules in the package root; they now live in the room of their role
(docs/DESIGN.md, the map). Plugins, scripts and `config.yaml` files written by 0.1.0 name the old
paths (`jetzoo.checkpoints`, `jetzoo.prediction_writer.JetPredictionWriter`, ...), so each old path is
an alias of its new module: importing it warns once (DeprecationWarning, naming the new path) and
gives the same objects. `jetzoo/__init__.py` installs the finder; nothing else imports this room.

May import: nothing of jetzoo at import time (the new module is imported when the old path is).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

REMOVED_IN = "0.4"

# old path -> new path (a package's submodules follow it: jetzoo.plugin_health.probe -> ...health.probe)
MOVED = {
    "jetzoo.lightning_cli": "jetzoo.cli.lightning",
    "jetzoo.catalog": "jetzoo.cli.catalog",
    "jetzoo.logging_setup": "jetzoo.training.output",
    "jetzoo.run_dirs": "jetzoo.training.run_dirs",
    "jetzoo.fine_tuning": "jetzoo.training.fine_tuning",
    "jetzoo.resume": "jetzoo.training.resume",
    "jetzoo.roc_callback": "jetzoo.training.roc_callback",
    "jetzoo.prediction_writer": "jetzoo.training.prediction_writer",
    "jetzoo.checkpoints": "jetzoo.training.checkpoints",
    "jetzoo.plugin_health": "jetzoo.registry.health",
    "jetzoo.published_results": "jetzoo.bench.published",
    "jetzoo.generated_output": "jetzoo.generate.generated_output",
    "jetzoo.generative_metrics": "jetzoo.metrics.generative",
}


def new_path(old: str) -> str | None:
    """The module an old path now names, or None when `old` did not move."""
    for before, after in MOVED.items():
        if old == before or old.startswith(before + "."):
            return after + old[len(before):]
    return None


class _Alias(types.ModuleType):
    """The old path: every attribute is the new module's."""

    def __getattr__(self, name):
        return getattr(importlib.import_module(self.__dict__["_jetzoo_target"]), name)

    def __dir__(self):
        return dir(importlib.import_module(self.__dict__["_jetzoo_target"]))


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        target_name = new_path(fullname)
        if target_name is None:
            return None
        is_package = hasattr(importlib.import_module(target_name), "__path__")
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)

    def create_module(self, spec):
        module = _Alias(spec.name)
        module._jetzoo_target = new_path(spec.name)
        return module

    def exec_module(self, module):
        target = module.__dict__["_jetzoo_target"]
        if module.__spec__.submodule_search_locations is not None:
            module.__path__ = []  # submodules are found by this finder, not on disk
        warnings.warn(
            f"{module.__name__} is now {target}; the old path works until jetzoo {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=2,
        )


_FINDER = _MovedModules()


def install() -> None:
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)
