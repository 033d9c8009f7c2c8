"""Weights & Biases without credentials runs offline, instead of prompting, hanging or failing."""

from __future__ import annotations

import os
import sys


def wandb_has_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        import netrc

        auth = netrc.netrc().authenticators("api.wandb.ai")
        return bool(auth and auth[2])
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def _loggers(trainer_cfg) -> list:
    logger = trainer_cfg.get("logger") if trainer_cfg is not None else None
    if logger is None or isinstance(logger, bool):
        return []
    return logger if isinstance(logger, list) else [logger]


def make_wandb_offline_without_credentials(cfg) -> None:
    """Set `offline=True` on every WandbLogger in the parsed config when no API key is available."""
    if os.environ.get("WANDB_MODE") in ("offline", "disabled") or wandb_has_credentials():
        return
    for logger in _loggers(cfg.get("trainer")):
        class_path = getattr(logger, "class_path", "") or ""
        if class_path.endswith("WandbLogger"):
            logger.init_args["offline"] = True
            os.environ["WANDB_MODE"] = "offline"
            print("jetzoo: no W&B credentials found; WandbLogger runs offline (sync later with `wandb sync`)", file=sys.stderr)
