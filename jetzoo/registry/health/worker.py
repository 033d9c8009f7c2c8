"""The one place plugin code runs during `jetzoo models`: a worker checking one distribution's entries.

For each entry in turn it writes `{"stage": "import"}`, imports the target, checks it is the
group's Lightning class, and for a model writes `{"stage": "build at defaults"}` and builds it to
count its parameters; then it writes the entry's result (`status` ok with the facts the catalog
shows, or broken with the `reason`). Plugin code may print, exit, hang or crash: its stdout and
stderr go to a log file, the messages go to a private pipe, and the supervisor
(`jetzoo.registry.health.probe`) turns silence, exits and signals into a reason for the entry it
was on.

A worker is a fork of the probe (Lightning already imported) or, where fork is not used,
`python -m jetzoo.registry.health.worker FILE`, FILE holding `{"sys_path", "entries"}`; it then
writes `{"ready": true}` once Lightning is imported.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import traceback

from jetzoo.registry.health.lines import send
from jetzoo.registry import MODEL_GROUP, Entry, PluginError, describe


def first_doc_line(cls: type) -> str:
    """The first line of the class's own docstring (not an inherited one), else of its module's."""
    doc = cls.__doc__ or getattr(inspect.getmodule(cls), "__doc__", None) or ""
    return inspect.cleandoc(doc).splitlines()[0] if doc.strip() else ""


def model_facts(entry: Entry, cls: type, fd: int) -> dict:
    send(fd, group=entry.group, name=entry.name, stage="build at defaults")
    try:
        params = sum(p.numel() for p in cls().parameters())
    except (Exception, SystemExit) as err:
        raise PluginError(entry, f"cannot build at defaults: {describe(err)}") from err
    return {
        "task": str(getattr(cls, "task", "?")),
        "input_view": str(getattr(cls, "input_view", "?")),
        "params": params,
    }


def datamodule_facts(entry: Entry, cls: type) -> dict:
    try:
        views = [str(v) for v in getattr(cls, "supported_views", ("hl", "image", "particles", "cloud"))]
    except TypeError as err:
        raise PluginError(entry, f"has unusable supported_views: {describe(err)}") from err
    return {"doc": first_doc_line(cls), "supported_views": views}


def check_entries(entries: list[dict], fd: int) -> None:
    """Check each entry (dicts of name, group, target, distribution), writing messages to `fd`."""
    for spec in entries:
        entry = Entry(spec["name"], spec["group"], spec["target"], spec["distribution"])
        ident = {"group": entry.group, "name": entry.name}
        send(fd, **ident, stage="import")
        try:
            cls = entry.import_target()
            entry.check_type(cls)
            facts = model_facts(entry, cls, fd) if entry.group == MODEL_GROUP else datamodule_facts(entry, cls)
        except PluginError as err:
            send(fd, **ident, status="broken", reason=err.problem)
        else:
            send(fd, **ident, status="ok", **facts)
    send(fd, finished=True)


def exit_code(err: SystemExit) -> int:
    if err.code is None or isinstance(err.code, int):
        return err.code or 0
    print(err.code, file=sys.stderr)
    return 1


def run_forked(entries: list[dict], fd: int, log_fd: int) -> None:
    """In a freshly forked child: check `entries`, then leave without returning to the caller."""
    code = 70
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        check_entries(entries, fd)
        code = 0
    except SystemExit as err:
        code = exit_code(err)
    except BaseException:  # noqa: BLE001 - the supervisor reports the exit code and the log's last line
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)  # never run the probe's own code (loop, atexit) in the child


def main(payload_path: str) -> None:
    """Spawned worker: a JSON file names the entries; stdout is the message pipe, stderr the log."""
    with open(payload_path) as f:
        payload = json.load(f)
    fd = os.dup(1)
    os.dup2(2, 1)  # plugin output must never reach the message pipe
    sys.path[:] = payload["sys_path"]
    import lightning  # noqa: F401 - not plugin code: the supervisor times it as start-up

    send(fd, ready=True)
    check_entries(payload["entries"], fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
