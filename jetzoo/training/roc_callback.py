"""`jetzoo fit`/`test` save the ROC of the tested checkpoint beside its logs: roc.csv and roc.png.

`TestRocWriter` runs after each test: it takes the test logits and labels the tagger kept
(`JetTagger.last_test_predictions`, gathered over all processes) and writes, on rank 0, into
`trainer.log_dir`: `roc.csv` (eps_S, eps_B, 1/eps_B and the log-odds threshold of every point of
the headline comparison's ROC, as jetzoo.metrics builds it) and `roc.png` (1/eps_B on a log axis
against eps_S, jetzoo.plots). Nothing is written when there is no run directory: fast_dev_run,
or no logger and the trainer's root directory left at the current directory (`--trainer.logger
false` outside `fit`); nor for a model that is not a tagger. A plotting failure is one line on
stderr, never the end of the run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import lightning as L


def run_directory(trainer) -> Path | None:
    """Where this run's logs are, or None when it has none (see the module docstring)."""
    if getattr(trainer, "fast_dev_run", False):
        return None
    if not trainer.loggers and os.path.abspath(trainer.default_root_dir) == os.path.abspath(os.getcwd()):
        return None
    log_dir = trainer.log_dir
    return Path(log_dir) if log_dir else None


class TestRocWriter(L.Callback):
    def on_test_end(self, trainer, pl_module) -> None:
        predictions = getattr(pl_module, "last_test_predictions", None)
        if predictions is None:
            return
        out = run_directory(trainer)  # on every rank: under DDP `trainer.log_dir` is a collective
        if out is None or not trainer.is_global_zero:
            return
        logits, labels = predictions
        if len(labels) == 0:
            return
        try:
            from jetzoo.plots import checkpoint_roc

            settings = pl_module.metric_settings() if hasattr(pl_module, "metric_settings") else ([], [])
            paths = checkpoint_roc(logits, labels, list(pl_module.class_names), settings[0], out, title=type(pl_module).__name__)
            print(f"jetzoo: test ROC written to {paths[0]} and {paths[1].name}", file=sys.stderr, flush=True)
        except Exception as err:  # noqa: BLE001 - a plot never fails a run
            print(f"jetzoo: no test ROC plot: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
