"""What a run prints: quiet by default (no tips, no deprecation noise), and W&B offline without credentials."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import warnings


def wandb_has_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        import netrc
    except ImportError:  # a Python built without netrc: no credentials file can be read (the except
        return False     # clause below would otherwise name the module that failed to import)
    try:
        auth = netrc.netrc().authenticators("api.wandb.ai")
        return bool(auth and auth[2])
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def require_extra(module: str, extra: str, feature: str) -> None:
    """Raise a one-line UsageError naming the pip extra when an optional dependency is missing."""
    if importlib.util.find_spec(module) is None:
        from jetzoo.errors import UsageError

        raise UsageError(f"{feature} needs the optional package {module!r}: pip install 'jetzoo[{extra}]'")


def make_wandb_offline_without_credentials(cfg) -> None:
    """Check that wandb is installed when a WandbLogger is configured (the `wandb` extra), and set
    `offline=True` on every WandbLogger in the parsed config when no API key is available."""
    from jetzoo.training.run_dirs import logger_configs

    wandb_loggers = [
        logger
        for logger in logger_configs(cfg.get("trainer"))
        if (getattr(logger, "class_path", "") or "").endswith("WandbLogger")
    ]
    if wandb_loggers:
        require_extra("wandb", "wandb", "--trainer.logger WandbLogger")
    if os.environ.get("WANDB_MODE") in ("offline", "disabled") or wandb_has_credentials():
        return
    for logger in wandb_loggers:
        logger.init_args["offline"] = True
        os.environ["WANDB_MODE"] = "offline"
        print("jetzoo: no W&B credentials found; WandbLogger runs offline (sync later with `wandb sync`)", file=sys.stderr)


from jetzoo.metrics.summary import VERBOSE_ENV  # noqa: E402 - set by --verbose, inherited by DDP ranks and loader workers


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # tips, Lightning's note that jetzoo's own model summary replaces its default one, and DDP's
        # per-rank "Initializing distributed" lines and its dashed banner (shown with --verbose)
        return not any(text in message for text in _NOISE)


_NOISE = ("Tip:", "already configured with model summary", "Initializing distributed:",
          "All distributed processes registered")
_TIPS = _DropTips()
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "pytorch_lightning")


def quiet_output(verbose: bool) -> None:
    """Silence library tips and deprecation warnings unless `--verbose` (or JETZOO_VERBOSE=1)."""
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    verbose = os.environ.get(VERBOSE_ENV) == "1"
    for name in _LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            (target.removeFilter if verbose else target.addFilter)(_TIPS)  # both idempotent
    if verbose:
        return
    for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    # Lightning's advice to the reader, not about this run: more workers, litlogger, "Seed set to"
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*")
    # streaming (jetzoo/datamodules/streaming.py): every (rank, worker) reads its own blocks, and
    # __len__ counts exactly what they yield together
    warnings.filterwarnings("ignore", message=r".*`IterableDataset` has `__len__` defined.*")
    # a class without jets in the test data: jetzoo itself reports its metrics as n/a
    warnings.filterwarnings("ignore", message=r"No (positive|negative) samples in targets")
    logging.getLogger("lightning.fabric.utilities.seed").setLevel(logging.WARNING)
