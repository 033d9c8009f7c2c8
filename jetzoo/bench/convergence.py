"""Training to convergence (issue 23 §1): validation after every epoch, stop when the validation loss has
not improved for `patience` epochs (at most `epochs`), test the best epoch's weights.

`BestEpoch` is a Lightning callback that keeps, in memory, the weights of the epoch with the lowest
`val/loss` and the validation curve (loss and AUC per epoch); Lightning's EarlyStopping ends the fit. A
run that reached its maximum epochs with its best epoch among the last `patience` was still improving:
it is recorded as not converged (`converged`), and the table says so. CPU time counts every thread of
the run's process and its data-loader workers (`cpu_seconds`).
"""

from __future__ import annotations

import copy
import resource

import lightning as L


class BestEpoch(L.Callback):
    def __init__(self, monitor: str = "val/loss"):
        self.monitor = monitor
        self.curve: list[dict] = []
        self.best_epoch: int | None = None
        self.best_value = float("inf")
        self.best_state: dict | None = None

    def on_validation_end(self, trainer, pl_module):  # after the module logged its epoch's val/loss
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        value = float(metrics[self.monitor])
        point = {"epoch": trainer.current_epoch + 1, "val_loss": value}
        if "val/auc" in metrics:
            point["val_auc"] = float(metrics["val/auc"])
        train = metrics.get("train/loss")
        if train is not None:
            point["train_loss"] = float(train)
        self.curve.append(point)
        if value < self.best_value:  # strictly lower: the earliest of equal epochs is kept
            self.best_value, self.best_epoch = value, point["epoch"]
            self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in pl_module.state_dict().items()})

    def restore_best(self, pl_module) -> None:
        if self.best_state is not None:
            pl_module.load_state_dict(self.best_state)


def early_stopping(patience: int) -> L.Callback:
    from lightning.pytorch.callbacks import EarlyStopping

    # min_delta 0: any decrease counts as an improvement (as BestEpoch counts it); check_finite: a NaN ends it
    return EarlyStopping(monitor="val/loss", mode="min", patience=patience, min_delta=0.0, check_finite=True)


def converged(curve: list[dict], best_epoch: int | None, patience: int, max_epochs: int) -> bool:
    """False when the fit hit `max_epochs` with its best epoch among the last `patience`: still improving."""
    if best_epoch is None:
        return False
    epochs_run = curve[-1]["epoch"] if curve else 0
    return not (epochs_run >= max_epochs and epochs_run - best_epoch < patience)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) and of its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
