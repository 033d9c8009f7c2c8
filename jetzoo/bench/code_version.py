"""The code that made a bench run, so that a run made by other code is never mixed silently with new ones.

A run records (`identity`) the jetzoo version, the torch version, and, for every jetzoo module the run's
process had imported when it finished, the sha256 of that module's code (`module_sha256`): the model's own
files, but also the shared layers, the datamodule, the training loop and the metrics, which all decide its
numbers. A run is stale (`stale_reason`) when either version differs or when one of those modules' code now
hashes differently; the reason names the modules. A change in a module the run never imported does not make
it stale.

What is hashed is the code, not the file (`code_text`): docstrings, comments and blank lines are left out, so
documenting a model does not throw away a board that trained for days. Left out too are the modules that only
schedule, store, print or tabulate runs (`BOOKKEEPING`): which runs to do and in which process, atomic writes,
progress lines, tables. Their tests show they cannot change a run's numbers: a run trained by `workers: 2`
equals the one trained alone bit for bit (test_bench.py), and re-made predictions must match the record
(jetzoo.bench.kept). `bench.resume` is hashed, as it assembles each run's Trainer options (978f438, the first
commit of this scheme, left it out; its records do not cover it).

A record written before this scheme (a `source_sha256` of the raw files, no `module_sha256`) is checked as it
was written: against the raw bytes of the same files.

The bench keeps a stale run, marks it in the table and says so; it is re-made only with
`rerun_stale: true` (`--rerun_stale true`), so an old board stays readable beside the code that
made it, and a changed model never keeps its old numbers unannounced.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import io
import sys
import tokenize

BOOKKEEPING = frozenset({
    "jetzoo",  # the package's __init__: its version is compared on its own
    "jetzoo.bench",  # the command: which runs to do, which are finished or stale
    "jetzoo.bench.code_version", "jetzoo.bench.console", "jetzoo.bench.dask_runner", "jetzoo.bench.kept",
    "jetzoo.bench.store", "jetzoo.bench.tasks", "jetzoo.bench.workers",
    "jetzoo.bench.table", "jetzoo.bench.anomaly_table", "jetzoo.bench.generative_table",
    "jetzoo.bench.significance", "jetzoo.bench.published",
    "jetzoo.cli", "jetzoo.cli.main", "jetzoo.errors",
})
SHOWN = 3  # modules named in a stale reason


def imported_modules() -> list[str]:
    """The jetzoo modules this process has imported that come from a source file (sorted)."""
    return sorted(name for name, module in list(sys.modules.items())
                  if (name == "jetzoo" or name.startswith("jetzoo.")) and getattr(module, "__file__", None))


def _source_bytes(name: str) -> bytes | None:
    """The current source file of module `name`, or None when it is gone or has none."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    origin = getattr(spec, "origin", None)
    try:
        with open(origin, "rb") as f:
            return f.read()
    except (OSError, TypeError):
        return None


def code_text(source: str) -> str:
    """`source` without its docstrings, comments, trailing spaces and blank lines: what a change of the code,
    and not of its documentation, changes. Cut by the positions `ast` and `tokenize` give, so the text left is
    the source's own, whatever Python parsed it."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # the newlines ast counts lines by, and only those:
    lines = source.split("\n")  # str.splitlines would also split at a form feed, which Python code may hold
    spans = []  # (first line, first column, last line, end column) to cut; lines 1-based, columns in characters
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            doc = body[0]
            spans.append((doc.lineno, _column(lines, doc.lineno, doc.col_offset),
                          doc.end_lineno, _column(lines, doc.end_lineno, doc.end_col_offset)))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            spans.append((*token.start, *token.end))
    for first, start, last, end in sorted(spans, reverse=True):
        lines[first - 1:last] = [lines[first - 1][:start] + lines[last - 1][end:]]
    return "\n".join(line.rstrip() for line in lines if line.strip())


def _column(lines: list[str], lineno: int, byte_offset: int) -> int:
    """`ast`'s UTF-8 byte offset on line `lineno` as a character column."""
    return len(lines[lineno - 1].encode()[:byte_offset].decode(errors="ignore"))


def module_sha256(name: str) -> str:
    """sha256 of module `name`'s code (`code_text`) now; a module gone (or no longer parsable) hashes as such."""
    return _code_sha256(_source_bytes(name))


@functools.lru_cache(maxsize=1024)
def _code_sha256(source: bytes | None) -> str:
    """sha256 of the code of a source file's bytes (cached: a bench checks each module once per record)."""
    try:
        text = "<missing>" if source is None else code_text(source.decode())
    except (SyntaxError, UnicodeDecodeError, tokenize.TokenError):
        text = "<unparsable>"
    return hashlib.sha256(text.encode()).hexdigest()


def source_sha256(modules: list[str]) -> str:
    """sha256 over (module name, its current source file's bytes) of `modules`: the older records' check."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(name.encode() + b"\0" + (_source_bytes(name) or b"<missing>") + b"\0")
    return digest.hexdigest()


def identity() -> dict:
    """What a finished run records as the code that made it."""
    import torch

    from jetzoo import __version__

    modules = imported_modules()
    hashes = {name: module_sha256(name) for name in modules if name not in BOOKKEEPING}
    combined = hashlib.sha256(repr(sorted(hashes.items())).encode()).hexdigest()
    return {"jetzoo": __version__, "torch": torch.__version__, "code_sha256": combined, "modules": modules,
            "module_sha256": hashes}


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
    hashes = code.get("module_sha256")
    if hashes is None:
        if source_sha256(code.get("modules", [])) != code.get("source_sha256"):
            return "the jetzoo source it imported has changed since"
        return None
    changed = sorted(name for name, digest in hashes.items() if module_sha256(name) != digest)
    if changed:
        more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
        return f"the code of {', '.join(changed[:SHOWN])}{more} has changed since"
    return None
