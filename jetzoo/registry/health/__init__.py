"""Plugin health for `jetzoo models` / `jetzoo datasets`, without running plugin code in the caller.

`check(entries)` gives, for each registry entry, either `{"status": "ok", ...facts}` (models:
`task`, `input_view`, `params` at defaults; datamodules: `doc`, `supported_views`) or
`{"status": "broken", "reason": ...}`. Healthy means: imports, is the group's Lightning class,
and (models) builds at its defaults.

Results come from the cache (`jetzoo.registry.health.cache`) when nothing they depend on has
changed. The others are computed by one child process, `python -m jetzoo.registry.health.probe`
(see there), which imports Lightning once and checks each distribution's entries in a worker,
two distributions at a time, with a timeout per entry; a plugin that exits, hangs or crashes
costs only its own entry. This process only reads the child's JSON lines, with its own
deadline as a backstop, and kills the child's whole process group when done.

Environment: `JETZOO_PLUGIN_TIMEOUT` (seconds per entry, default 20: ample for a plugin's own
imports and a build; Lightning itself is imported before the clock starts, within
max(60, 2 x timeout) seconds) and `JETZOO_CACHE`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from jetzoo.registry.health import cache
from jetzoo.registry.health.lines import LineReader, wait_readable
from jetzoo.registry import Entry

DEFAULT_TIMEOUT = 20.0
MAX_WORKERS = 2


def entry_timeout() -> float:
    value = os.environ.get("JETZOO_PLUGIN_TIMEOUT", "")
    try:
        return float(value) if float(value) > 0 else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT


def check(entries: list[Entry], mode: str | None = None) -> dict[Entry, dict]:
    """The health of each entry (none of them a clashing name), cached or checked now."""
    keys = cache.Keys()
    results, todo = {}, {}
    for entry in entries:
        key = keys.key(entry)
        cached = cache.load(key)
        if cached is not None:
            results[entry] = cached
        else:
            todo[entry] = key
    if todo:
        fresh = run_probe(list(todo), mode)
        for entry, key in todo.items():
            result = fresh[(entry.group, entry.name)]
            if result.pop("cacheable", False):
                cache.store(key, result)
            results[entry] = result
    return results


def run_probe(entries: list[Entry], mode: str | None = None) -> dict[tuple[str, str], dict]:
    """Check `entries` in the probe process: {(group, name): result with a `cacheable` flag}."""
    timeout = entry_timeout()
    startup = max(60.0, 2 * timeout)
    mode = mode or ("fork" if sys.platform.startswith("linux") else "spawn")
    jobs: dict[str, list[dict]] = {}  # one job per distribution
    for e in entries:
        jobs.setdefault(e.distribution, []).append(
            {"name": e.name, "group": e.group, "target": e.target, "distribution": e.distribution}
        )
    payload = {
        "sys_path": sys.path, "timeout": timeout, "startup_timeout": startup, "max_workers": MAX_WORKERS,
        "mode": mode, "jobs": list(jobs.values()),
    }
    # once started, even checking every entry one after the other (restarting after each) fits
    budget = len(entries) * (timeout + (startup if mode == "spawn" else 1.0)) + 10.0
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jetzoo.registry.health.probe"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
        )
        try:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(json.dumps(payload).encode())
                process.stdin.close()
            results, failure = read_results(process, startup, budget)
        finally:
            with contextlib.suppress(OSError):  # the probe, its workers and anything they started
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            process.stdout.close()
        if failure is None and len(results) < len(entries):
            failure = f"exited with code {process.returncode}{last_line(log)}"
    missing = {"status": "broken", "reason": f"could not be checked: the checking process {failure}", "cacheable": False}
    for e in entries:
        results.setdefault((e.group, e.name), dict(missing))
    return results


def read_results(process: subprocess.Popen, startup: float, budget: float) -> tuple[dict, str | None]:
    """The probe's results until it says done or closes its stdout; a reason if it ran out of time."""
    results: dict[tuple[str, str], dict] = {}
    reader = LineReader(process.stdout.fileno())
    deadline, ready = time.monotonic() + startup, False
    while not reader.eof:
        if time.monotonic() > deadline:
            return results, f"did not finish within {budget:.0f}s" if ready else f"did not start within {startup:g}s"
        wait_readable([reader], deadline - time.monotonic())
        for message in reader.read_available():
            if message.get("ready"):
                ready, deadline = True, time.monotonic() + budget
            elif message.get("done"):
                return results, None
            elif "status" in message:
                results[(message.pop("group"), message.pop("name"))] = message
    return results, None


def last_line(log) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
    return f": {lines[-1][:200]}" if lines else ""
