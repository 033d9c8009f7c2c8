"""Checkpoints are data, never code: every load is `torch.load(weights_only=True)`, every save is atomic.

- `load_checkpoint_file` is the one way jetzoo reads a checkpoint (the CLI, the Trainer through
  `SafeCheckpointIO`, `registry.load_checkpoint`). A remote checkpoint (any `scheme://`) is
  refused unless the caller opts in; it is then downloaded and loaded weights-only like a local
  file. Missing, empty, truncated, foreign or code-carrying files are one-line `CheckpointError`s
  naming the file.
- `save_checkpoint_atomically` writes to a temporary file beside the target, fsyncs it and
  renames it over the target, so a process killed mid-write leaves the previous file intact.
- `class_path_of` / `checkpoint_model_class`: the network a checkpoint says it holds (checked against
  `--model` by `jetzoo.registry.checkpoints.check_model_class`; written by
  `jetzoo.training.checkpoints.CheckpointProvenance`).
"""

from __future__ import annotations

import atexit
import os
import pickle
import re
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from jetzoo.errors import JetDataError
from jetzoo.io.files import atomic_write

_REMOTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class CheckpointError(JetDataError):
    """A checkpoint that cannot or must not be loaded. The message starts with the file."""


def is_remote(path: str | os.PathLike) -> bool:
    return bool(_REMOTE.match(str(path))) and not str(path).startswith("file://")


def _download(url: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix="jetzoo-ckpt-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    target = directory / "remote.ckpt"
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:  # noqa: S310 - opt-in
            shutil.copyfileobj(response, out)
    except OSError as err:
        raise CheckpointError(f"{url}: download failed: {err}") from err
    return target


def local_checkpoint_path(path: str | os.PathLike, allow_remote: bool = False) -> Path:
    """A local file for `path`: itself, or (opted in) a download of a remote checkpoint; refused otherwise."""
    source = str(path)
    if source.startswith("file://"):
        source = source[len("file://") :]
    if not is_remote(source):
        return Path(source)
    if not allow_remote:
        raise CheckpointError(
            f"{source}: remote checkpoints are refused; download it yourself, or pass "
            "--allow_remote_checkpoint true to download it and load it weights-only"
        )
    return _download(source)


def _first_sentence(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text.split(". ")[0].rstrip(".")


def _code_it_would_run(err: Exception) -> str | None:
    """The global a weights-only load refused (`posix.system`, a class...), None for other failures."""
    found = re.search(r"(?:GLOBAL|Unsupported global:?)\s+([\w.]+)", str(err))
    return found.group(1) if found else None


def load_checkpoint_file(path: str | os.PathLike, map_location: Any = "cpu", allow_remote: bool = False) -> dict:
    """The checkpoint dict at `path`, loaded weights-only; a `CheckpointError` naming the file otherwise."""
    return load_local_checkpoint(local_checkpoint_path(path, allow_remote), map_location, label=str(path))


def load_local_checkpoint(path: Path, map_location: Any, label: str) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{label}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{label}: empty file, not a checkpoint")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError) as err:
        code = _code_it_would_run(err) if isinstance(err, pickle.UnpicklingError) else None
        if code:
            raise CheckpointError(
                f"{label}: refused: it would run {code} when loaded, and a checkpoint may hold only tensors "
                "and plain data (jetzoo loads checkpoints weights-only)"
            ) from err
        raise CheckpointError(f"{label}: truncated or not a PyTorch checkpoint ({_first_sentence(err)})") from err
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise CheckpointError(f"{label}: not a Lightning checkpoint (no 'state_dict')")
    return checkpoint


def save_checkpoint_atomically(checkpoint: dict, path: str | os.PathLike) -> None:
    """Write `checkpoint` to `path` through a temp file + rename: `path` is always old or new, never half."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint

    atomic_write(Path(path), write)


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint I/O with jetzoo's weights-only loading and atomic saving."""

    def __init__(self, allow_remote: bool = False):
        super().__init__()
        self.allow_remote = allow_remote

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__}.save_checkpoint takes no storage_options")
        save_checkpoint_atomically(checkpoint, path)

    def load_checkpoint(self, path, map_location: Any | None = "cpu", weights_only: bool | None = None) -> dict:
        return load_checkpoint_file(path, map_location=map_location, allow_remote=self.allow_remote)


# --- what the checkpoint says it is ---------------------------------------------------------------
def class_path_of(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def checkpoint_model_class(checkpoint: dict) -> str | None:
    """The network's class path recorded in a checkpoint (jetzoo's record, else LightningCLI's hparams)."""
    recorded = checkpoint.get("jetzoo", {}).get("model_class")
    return recorded or checkpoint.get("hyper_parameters", {}).get("_class_path")


