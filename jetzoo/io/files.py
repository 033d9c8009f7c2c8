"""Files written whole or not at all, and files known by their bytes.

- `atomic_write(path, write)`: `write(tmp)` on a temp file beside `path`, then `os.replace`, so a
  reader (or a writer killed mid-write, kill -9 included) sees the old file or the new one, whole.
- `remove_stale_temp_files(path)`: the `.<name>.tmp-<host>-<pid>` files of writers on this host
  whose process is dead (others may share the filesystem).
- `file_sha256(path)`: a file's identity by its bytes, remembered per (path, size, mtime).
"""

from __future__ import annotations

import glob
import hashlib
import os
import socket
from pathlib import Path


def process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def temp_path(path: Path) -> Path:
    """This process's temp file for `path`: hidden, beside it, named after this host and pid."""
    return path.with_name(f".{path.name}.tmp-{socket.gethostname()}-{os.getpid()}")


def remove_stale_temp_files(path: Path) -> None:
    """Temp files of `path` left by killed writers on this host (others may share the filesystem)."""
    path = Path(path)
    prefix = f".{path.name}.tmp-{socket.gethostname()}-"
    for tmp in path.parent.glob(f"{glob.escape(prefix)}*"):
        pid = tmp.name[len(prefix) :]
        if pid.isdigit() and not process_is_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def atomic_write(path: Path, write) -> None:
    """`write(tmp_path)` then os.replace onto `path`: readers see the old file or the new one, whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)  # what a writer killed mid-write (kill -9) left behind
    tmp = temp_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_SHA_CACHE: dict[tuple, str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, remembered per (path, size, mtime) for this process."""
    stat = os.stat(path)
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                digest.update(block)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]
