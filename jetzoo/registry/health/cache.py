"""The on-disk cache of plugin health: `$JETZOO_CACHE/registry-health/<name>-<hash>.json`.

An entry's key holds what its result depends on, all read without importing plugin code:
the entry (group, name, target), its distribution's name and version, a fingerprint of the
source files of the target's top-level package and of jetzoo's own (so an editable install
re-checks after an edit), and a fingerprint of the environment (sys.prefix, the Python version
and every visible distribution's version, so installing a plugin's missing dependency
re-checks it). Files are written atomically (temporary file + os.replace); an unreadable or
unwritable cache only costs a re-check.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as md
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from jetzoo.registry import Entry

FORMAT = 1


def cache_dir() -> Path:
    """`$JETZOO_CACHE/registry-health` (`$JETZOO_CACHE` defaults to `~/.cache/jetzoo`)."""
    return Path(os.environ.get("JETZOO_CACHE") or Path.home() / ".cache" / "jetzoo") / "registry-health"


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def find_spec(top_level: str):
    """Where the import system would find the top-level module `top_level` now (ignoring what is
    already imported, as the checking process starts afresh); nothing is executed."""
    for finder in sys.meta_path:
        try:
            spec = finder.find_spec(top_level, None)
        except (AttributeError, ImportError, ValueError):
            continue
        if spec is not None:
            return spec
    return None


def source_fingerprint(top_level: str) -> str:
    """Names, sizes and mtimes of the files of the module or package `top_level` (found, not imported)."""
    spec = find_spec(top_level)
    if spec is None:
        return "not found"
    files = []
    for root in spec.submodule_search_locations or []:
        for directory, subdirs, names in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
            files += [os.path.join(directory, n) for n in sorted(names)]
    if not spec.submodule_search_locations and spec.origin:
        files.append(spec.origin)
    stats = []
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        stats.append((path, st.st_size, st.st_mtime_ns))
    return digest(stats)


def installed_paths() -> list[str]:
    """sys.path without the `_vendor` directories of other packages: importing setuptools (torch.compile does) puts
    setuptools/_vendor on sys.path, whose private copies are not installed distributions. Counted, they made the
    keys of a process that had compiled something differ from a fresh `jetzoo models`' and every entry re-checked."""
    return [entry for entry in sys.path if os.path.basename(os.path.normpath(entry or ".")) != "_vendor"]


class Keys:
    """Cache keys for entries of the current environment (scanned once)."""

    def __init__(self):
        self.versions: dict[str, str] = {}
        for dist in md.distributions(path=installed_paths()):
            self.versions.setdefault(dist.metadata["Name"] or "?", dist.version or "?")
        self.environment = digest([sys.prefix, sys.version, sorted(self.versions.items())])
        self._sources: dict[str, str] = {}

    def source(self, top_level: str) -> str:
        if top_level not in self._sources:
            self._sources[top_level] = source_fingerprint(top_level)
        return self._sources[top_level]

    def key(self, entry: Entry) -> dict:
        top_level = entry.target.partition(":")[0].split(".")[0]
        return {
            "format": FORMAT,
            "group": entry.group,
            "name": entry.name,
            "target": entry.target,
            "distribution": entry.distribution,
            "version": self.versions.get(entry.distribution, "?"),
            "source": self.source(top_level),
            "jetzoo": self.source("jetzoo"),
            "environment": self.environment,
        }


def path_for(key: dict) -> Path:
    """One file per entry and environment: a re-check replaces the stale result instead of adding one."""
    slot = [sys.prefix, key["group"], key["name"], key["distribution"]]
    readable = re.sub(r"[^\w.-]", "_", key["name"])[:64]
    return cache_dir() / f"{readable}-{digest(slot)[:24]}.json"


def load(key: dict) -> dict | None:
    """The cached result for `key`, or None."""
    try:
        with open(path_for(key)) as f:
            stored = json.load(f)
    except (OSError, ValueError):
        return None
    return stored.get("result") if isinstance(stored, dict) and stored.get("key") == key else None


def store(key: dict, result: dict) -> None:
    """Write atomically; a cache that cannot be written is skipped."""
    path, temporary = path_for(key), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"key": key, "result": result}, f)
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
