"""Where a run's logs, config and checkpoints go, and which run a checkpoint belongs to.

A run is `<save_dir>/<name>/version_<K>/` (Lightning's logger layout), with its checkpoints in
`checkpoints/`. Resuming a fit, or testing and predicting from a checkpoint, writes into the
checkpoint's own run instead of opening a new `version_<K+1>`; `--ckpt_path last` finds the
newest `last.ckpt`. With `--trainer.logger false` jetzoo still keeps each run in its own
`lightning_logs/version_<K>/` directory rather than writing into the current directory.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jetzoo.training.checkpoints import is_remote
from jetzoo.registry import import_class_path

DEFAULT_LOGGER_NAME = "lightning_logs"
DEFAULT_LOGGER = "lightning.pytorch.loggers.TensorBoardLogger"
_VERSION = re.compile(r"^version_(\d+)$")


@dataclass(frozen=True)
class RunDir:
    save_dir: Path
    name: str
    version: int

    @property
    def path(self) -> Path:
        return self.save_dir / self.name / f"version_{self.version}"


def run_of_checkpoint(ckpt_path: str | os.PathLike | None) -> RunDir | None:
    """The run a checkpoint at `<save_dir>/<name>/version_<K>/checkpoints/<file>` belongs to."""
    if not ckpt_path or is_remote(ckpt_path):
        return None
    path = Path(ckpt_path).resolve()
    if path.parent.name != "checkpoints":
        return None
    match = _VERSION.match(path.parent.parent.name)
    if not match:
        return None
    return RunDir(path.parents[3], path.parents[2].name, int(match.group(1)))


def versions(save_dir: Path, name: str) -> list[int]:
    root = save_dir / name
    if not root.is_dir():
        return []
    return sorted(int(m.group(1)) for p in root.iterdir() if (m := _VERSION.match(p.name)) and p.is_dir())


def next_run(save_dir: Path, name: str = DEFAULT_LOGGER_NAME) -> RunDir:
    found = versions(save_dir, name)
    return RunDir(save_dir, name, found[-1] + 1 if found else 0)


def find_last_checkpoint(save_dir: Path, name: str, checkpoint_dirpath: str | None) -> Path | None:
    """The newest `last.ckpt`: in `checkpoint_dirpath` if given, else in the newest run that has one."""
    if checkpoint_dirpath:
        candidate = Path(checkpoint_dirpath) / "last.ckpt"
        return candidate if candidate.is_file() else None
    for version in reversed(versions(save_dir, name)):
        candidate = save_dir / name / f"version_{version}" / "checkpoints" / "last.ckpt"
        if candidate.is_file():
            return candidate
    return None


# --- the parsed logger configuration ------------------------------------------------------------
def logger_configs(trainer_cfg) -> list:
    """The class-path logger entries of a parsed `trainer` config (none for True/False/None)."""
    logger = trainer_cfg.get("logger")
    if logger is None or isinstance(logger, bool):
        return []
    return list(logger) if isinstance(logger, list) else [logger]


def _accepts(class_path: str, parameter: str) -> bool:
    try:
        cls = import_class_path(class_path)
    except (ImportError, AttributeError):
        return False
    return parameter in inspect.signature(cls.__init__).parameters


def default_save_dir(trainer_cfg) -> Path:
    return Path(trainer_cfg.get("default_root_dir") or os.getcwd()).resolve()


def use_default_logger_explicitly(trainer_cfg) -> None:
    """Lightning's default logger (`logger: null|true`) as an explicit TensorBoardLogger entry."""
    if trainer_cfg.get("logger") in (None, True):
        from jsonargparse import Namespace

        init = Namespace(save_dir=str(default_save_dir(trainer_cfg)), name=DEFAULT_LOGGER_NAME, version=None)
        trainer_cfg["logger"] = Namespace(class_path=DEFAULT_LOGGER, init_args=init)


def log_into_run(trainer_cfg, run: RunDir) -> None:
    """Point every logger that writes where `run` lives at `run`'s version, instead of a new one."""
    for logger in logger_configs(trainer_cfg):
        init = logger.get("init_args")
        if init is None or not _accepts(logger.class_path, "version") or init.get("version") is not None:
            continue
        save_dir = Path(init.get("save_dir") or default_save_dir(trainer_cfg)).resolve()
        name = init.get("name", DEFAULT_LOGGER_NAME) or ""
        if save_dir == run.save_dir.resolve() and name == run.name:
            init["version"] = run.version


def resolve_last(trainer_cfg, checkpoint_dirpath: str | None) -> str | None:
    """`--ckpt_path last` -> the newest last.ckpt of this configuration's runs (None: none yet)."""
    save_dir, name = default_save_dir(trainer_cfg), DEFAULT_LOGGER_NAME
    for logger in logger_configs(trainer_cfg):
        init = logger.get("init_args") or {}
        save_dir = Path(init.get("save_dir") or save_dir).resolve()
        name = init.get("name", name) or name
        break
    found = find_last_checkpoint(save_dir, name, checkpoint_dirpath)
    return str(found) if found else None
