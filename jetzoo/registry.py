"""The plugin registry: models and datamodules found through Python entry points.

Groups `jetzoo.models` and `jetzoo.datamodules`. jetzoo's built-ins are declared in its own
pyproject exactly as a third-party package declares its plugins. Listing reads entry-point
metadata only and imports nothing; a plugin that fails to import is reported (name,
distribution, error) without breaking listing or the other plugins. Two distributions
claiming one name is an error naming both. The result depends only on the installed
distributions, so every DDP rank sees the same registry.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata as md
from dataclasses import dataclass
from typing import Any

MODEL_GROUP = "jetzoo.models"
DATAMODULE_GROUP = "jetzoo.datamodules"


class RegistryError(LookupError):
    """Unknown name, duplicate name, or a plugin that cannot be imported."""


@dataclass(frozen=True)
class Entry:
    name: str
    group: str
    target: str  # "module:attr"
    distribution: str

    def load(self) -> type:
        try:
            module_name, _, attr = self.target.partition(":")
            obj: Any = __import__(module_name, fromlist=["_"])
            for part in attr.split("."):
                obj = getattr(obj, part)
            return obj
        except Exception as err:  # any failure inside a plugin is reported, never propagated raw
            raise RegistryError(
                f"plugin '{self.name}' ({self.target}) from distribution '{self.distribution}' "
                f"failed to load: {type(err).__name__}: {err}"
            ) from err


def _entries(group: str) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    seen_dists: set[tuple[str, str]] = set()
    for dist in md.distributions():
        dist_name = dist.metadata["Name"] or "?"
        for ep in dist.entry_points:
            if ep.group != group:
                continue
            # the same distribution can be visible twice on sys.path (e.g. editable + build dir)
            if (dist_name, ep.name) in seen_dists:
                continue
            seen_dists.add((dist_name, ep.name))
            entry = Entry(ep.name, group, ep.value, dist_name)
            other = found.get(ep.name)
            if other is not None and other.distribution != dist_name:
                raise RegistryError(
                    f"'{ep.name}' in {group} is claimed by two distributions: "
                    f"'{other.distribution}' ({other.target}) and '{dist_name}' ({ep.value}); uninstall one"
                )
            found[ep.name] = entry
    return dict(sorted(found.items()))


def _list(group: str, pattern: str) -> list[str]:
    return [n for n in _entries(group) if fnmatch.fnmatch(n, pattern)]


def _get(group: str, name: str) -> type:
    entries = _entries(group)
    if name not in entries:
        kind = "model" if group == MODEL_GROUP else "datamodule"
        raise RegistryError(f"unknown {kind} '{name}'; known: {', '.join(entries) or 'none'}")
    return entries[name].load()


def list_models(pattern: str = "*") -> list[str]:
    return _list(MODEL_GROUP, pattern)


def list_datamodules(pattern: str = "*") -> list[str]:
    return _list(DATAMODULE_GROUP, pattern)


def model_entries() -> dict[str, Entry]:
    return _entries(MODEL_GROUP)


def datamodule_entries() -> dict[str, Entry]:
    return _entries(DATAMODULE_GROUP)


def get_model(name: str) -> type:
    return _get(MODEL_GROUP, name)


def get_datamodule(name: str) -> type:
    return _get(DATAMODULE_GROUP, name)


def create_model(name: str, **kwargs):
    return get_model(name)(**kwargs)


def create_datamodule(name: str, **kwargs):
    return get_datamodule(name)(**kwargs)


def load_checkpoint(name: str, checkpoint_path: str, **kwargs):
    """Reload a trained model by its registry short name."""
    return get_model(name).load_from_checkpoint(checkpoint_path, **kwargs)


def short_name_of(cls: type, group: str = MODEL_GROUP) -> str | None:
    target = f"{cls.__module__}:{cls.__qualname__}"
    for name, entry in _entries(group).items():
        if entry.target == target:
            return name
    return None
