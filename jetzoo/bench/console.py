"""What the bench prints: its own progress lines on stderr, and Lightning's info lines hidden. No Lightning import
at module level, so that `jetzoo bench` refuses a bad spec before the seconds of importing it."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    print(f"jetzoo bench: {message}", file=sys.stderr, flush=True)


def quiet_bench_output() -> None:
    """Lightning's info lines (devices, stepping-batch estimates) and tips hidden: the bench prints its own progress."""
    import logging

    from jetzoo.training.output import VERBOSE_ENV, quiet_output

    quiet_output(False)
    if __import__("os").environ.get(VERBOSE_ENV) != "1":
        for name in ("lightning.pytorch", "lightning.fabric", "pytorch_lightning"):
            logging.getLogger(name).setLevel(logging.WARNING)
