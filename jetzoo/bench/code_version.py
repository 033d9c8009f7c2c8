"""The code that made a bench run, so that a run made by other code is never mixed silently with new ones.

A run records (`identity`) the jetzoo version, the torch version, and the sha256 of the source of every
jetzoo module the run's process had imported when it finished: the model's own files, but also the
shared layers, the datamodule, the training loop and the metrics, which all decide its numbers. A run
is stale (`stale_reason`) when either version differs or when the current files of those same modules
hash differently; a change in a module the run never imported does not make it stale.

The bench keeps a stale run, marks it in the table and says so; it is re-made only with
`rerun_stale: true` (`--rerun_stale true`), so an old board stays readable beside the code that
made it, and a changed model never keeps its old numbers unannounced.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys


def imported_modules() -> list[str]:
    """The jetzoo modules this process has imported that come from a source file (sorted)."""
    return sorted(name for name, module in list(sys.modules.items())
                  if (name == "jetzoo" or name.startswith("jetzoo.")) and getattr(module, "__file__", None))


def source_sha256(modules: list[str]) -> str:
    """sha256 over (module name, its current source file's bytes) of `modules`; a module gone is hashed as such."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(name.encode() + b"\0")
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = getattr(spec, "origin", None)
        try:
            with open(origin, "rb") as f:
                digest.update(f.read())
        except (OSError, TypeError):
            digest.update(b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def identity() -> dict:
    """What a finished run records as the code that made it."""
    import torch

    from jetzoo import __version__

    modules = imported_modules()
    return {"jetzoo": __version__, "torch": torch.__version__, "source_sha256": source_sha256(modules), "modules": modules}


def stale_reason(record: dict) -> str | None:
    """Why `record` was made by other code than this process would use, or None when it was not."""
    import torch

    from jetzoo import __version__

    code = record.get("code")
    if not code:
        return "made by a jetzoo that did not record its code"
    if code.get("jetzoo") != __version__:
        return f"made by jetzoo {code.get('jetzoo')} (this is {__version__})"
    if code.get("torch") != torch.__version__:
        return f"made with torch {code.get('torch')} (this is {torch.__version__})"
    if source_sha256(code.get("modules", [])) != code.get("source_sha256"):
        return "the jetzoo source it imported has changed since"
    return None
