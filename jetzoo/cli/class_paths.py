"""Every `class_path` a command line or config names, checked before the parser imports it.

jsonargparse imports a class path's module to resolve it, so before this check a YAML file naming
`class_path: this.Nothing` ran that module's import-time code (it printed the Zen of Python) and only
then refused the class (issue 24 §1). Here each dotted class path in the arguments, in the config files
they name (nested ones too) and in inline JSON/YAML values is checked without importing anything: its
top-level package must be one jetzoo trusts:
- jetzoo, torch, lightning (and pytorch_lightning), torchmetrics: the libraries jetzoo runs on;
- a distribution that registers jetzoo entry points (an installed plugin, already trusted to be imported);
- a package the user names in `JETZOO_ALLOW_IMPORT` (comma-separated), e.g. a module of their own callbacks.
Short names (`Adam`, `CSVLogger`, `mlp`) are resolved by the parser among classes already imported.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from jetzoo.errors import OptionError

ALLOW_ENV = "JETZOO_ALLOW_IMPORT"
TRUSTED_ROOTS = ("jetzoo", "torch", "lightning", "pytorch_lightning", "lightning_fabric", "torchmetrics")
# options whose value is a class (or a list of them) by name or path
CLASS_OPTIONS = ("--model", "--data", "--optimizer", "--lr_scheduler", "--trainer.logger", "--trainer.callbacks",
                 "--trainer.plugins", "--trainer.strategy", "--trainer.profiler", "--trainer.accelerator")
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_MAX_DEPTH = 8  # config files naming config files


def trusted_roots() -> set[str]:
    """Top-level packages whose modules may be imported for a class path (see the module docstring)."""
    from jetzoo.registry import datamodule_entries, model_entries

    roots = set(TRUSTED_ROOTS)
    for entries in (model_entries(), datamodule_entries()):
        roots.update(e.target.split(":", 1)[0].split(".", 1)[0] for e in entries.values())
    roots.update(r.strip() for r in os.environ.get(ALLOW_ENV, "").split(",") if r.strip())
    return roots


def check_class_paths(argv: list[str]) -> None:
    """OptionError naming the option (or config file) and the class path when one is not trusted."""
    roots = None
    for where, class_path in _class_paths_in_argv(argv):
        roots = trusted_roots() if roots is None else roots
        root = class_path.split(".", 1)[0]
        if root not in roots:
            raise OptionError(
                f"{where}: class_path '{class_path}' is not in jetzoo, torch, lightning, torchmetrics or a "
                f"registered jetzoo plugin, so its module was not imported; register it (docs/plugins.md) or "
                f"allow its package with {ALLOW_ENV}={root}"
            )


def _class_paths_in_argv(argv: list[str]):
    i = 0
    while i < len(argv):
        flag, eq, value = argv[i].partition("=")
        if flag.startswith("--") and not eq and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            value = argv[i + 1]
            i += 1
        i += 1
        if not flag.startswith("--") or not value:
            continue
        option = flag.rstrip("+")
        if _is_config_file(value):
            yield from _class_paths_in_file(Path(value), 0)
        elif value.lstrip().startswith(("{", "[")):
            yield from _class_paths_in(_safe_yaml(value), flag, Path("."), 0, top=option)
        elif option in CLASS_OPTIONS or option.endswith(".class_path"):
            if _DOTTED.match(value):
                yield flag, value


def _is_config_file(value: str) -> bool:
    return value.endswith(CONFIG_SUFFIXES) and Path(value).is_file()


def _safe_yaml(text: str):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # the parser's own error says what is wrong with it


def _class_paths_in_file(path: Path, depth: int):
    if depth > _MAX_DEPTH:
        return
    try:
        data = _safe_yaml(path.read_text())
    except (OSError, UnicodeDecodeError):
        return  # unreadable: the parser reports it
    yield from _class_paths_in(data, str(path), path.parent, depth, top="")


def _class_paths_in(data, where: str, base: Path, depth: int, top: str):
    """Class paths in parsed YAML: `class_path` values anywhere, values of class options, nested config files."""
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key)
            option = f"{top}.{key}" if top else f"--{key}"
            if key == "class_path" and isinstance(value, str) and _DOTTED.match(value):
                yield where, value
            elif isinstance(value, str) and value.endswith(CONFIG_SUFFIXES) and (base / value).is_file():
                yield from _class_paths_in_file(base / value, depth + 1)
            elif isinstance(value, str) and option in CLASS_OPTIONS and _DOTTED.match(value):
                yield where, value
            else:
                yield from _class_paths_in(value, where, base, depth, option)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, str) and top in CLASS_OPTIONS and _DOTTED.match(item):
                yield where, item
            else:
                yield from _class_paths_in(item, where, base, depth, top)
