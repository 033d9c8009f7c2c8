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


def validated(trainer, pl_module) -> bool:
    """Whether this validation logged the monitored metric: not the sanity check, nor a generator's epoch between
    W1M points (CpuBudget's cadence turns its `validate_w1m` off)."""
    return not trainer.sanity_checking and getattr(pl_module, "validate_w1m", True)


class BestEpoch(L.Callback):
    def __init__(self, monitor: str = "val/loss"):
        self.monitor = monitor
        self.curve: list[dict] = []
        self.best_epoch: int | None = None
        self.best_value = float("inf")
        self.best_state: dict | None = None

    def on_validation_end(self, trainer, pl_module):  # after the module logged its epoch's val/loss
        if not validated(trainer, pl_module):
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

    def state_dict(self) -> dict:  # in the run's checkpoint (jetzoo.bench.resume): a resumed run keeps its curve and best
        return {"curve": self.curve, "best_epoch": self.best_epoch, "best_value": self.best_value,
                "best_state": self.best_state}

    def load_state_dict(self, state: dict) -> None:
        self.curve, self.best_epoch = list(state["curve"]), state["best_epoch"]
        self.best_value, self.best_state = state["best_value"], state["best_state"]


class RunClock(L.Callback):
    """The CPU seconds a run has trained for, counted across the processes of a resumed run (its checkpoints
    carry the count)."""

    def __init__(self):
        self.before, self.start = 0.0, cpu_seconds()

    def used(self) -> float:
        return self.before + cpu_seconds() - self.start

    def state_dict(self) -> dict:
        return {"cpu_s": self.used()}

    def load_state_dict(self, state: dict) -> None:
        self.before, self.start = float(state["cpu_s"]), cpu_seconds()


class CpuBudget(RunClock):
    """A RunClock that stops the fit at the first batch after `seconds` of training CPU time, and records each
    validated epoch's (CPU seconds, validation W1M, and FPD where the epoch has a point) as the run's learning
    curve (the generators').

    With a `validation_share`, a generator's W1M validation (sampling jets: epic-fm's ODE costs ~200 network
    evaluations a jet, ~10x its training epoch) is due at the first validation, at the budget's end, and once the
    CPU since the last one is (1 / share - 1) times that one's cost, so the W1M points take at most `share` of the
    budget; the first, the last and the one after the budget ends are points too; an epoch between points
    validates nothing (the generator's `validate_w1m`, set here; rank 0 decides for every rank)."""

    def __init__(self, seconds: float, validation_share: float | None = None):
        super().__init__()
        self.seconds, self.validation_share = seconds, validation_share
        self.curve: list[dict] = []
        self.exhausted = False
        self.next_point = 0.0  # used() from which the next W1M validation is due
        self._point_start: float | None = None

    def fit_fraction(self) -> float:
        """The share of the budget used: the fit's progress, over which a schedule of fixed length spreads itself
        (`jetzoo.zoo.optimizers.fit_fraction`)."""
        return min(1.0, self.used() / self.seconds)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.used() >= self.seconds:
            self.exhausted = True
            trainer.should_stop = True

    def on_validation_start(self, trainer, pl_module):
        if self.validation_share is None or not hasattr(pl_module, "validate_w1m") or trainer.sanity_checking:
            return
        last = trainer.max_epochs is not None and trainer.current_epoch + 1 >= trainer.max_epochs
        # Lightning validates once more when the budget ends (should_stop): that epoch, and the last, are points
        due = self.exhausted or last or self.used() >= self.next_point
        pl_module.validate_w1m = due = bool(trainer.strategy.broadcast(due, src=0))
        self._point_start = self.used() if due else None

    def on_fit_end(self, trainer, pl_module):
        if hasattr(pl_module, "validate_w1m"):
            pl_module.validate_w1m = True  # a later validate() outside the budget computes W1M

    def on_validation_end(self, trainer, pl_module):
        # not on_validation_epoch_end: Lightning runs the callbacks' before the module's, which logs this epoch's
        # W1M, so the curve was one epoch late and lacked the first (fixed with a test, issue 22 §5)
        if not validated(trainer, pl_module):
            return
        if self._point_start is not None:
            cost, self._point_start = self.used() - self._point_start, None
            self.next_point = self.used() + cost * (1 / self.validation_share - 1)
        w1m = trainer.callback_metrics.get("val/w1m")
        if w1m is not None:
            point = {"epoch": trainer.current_epoch + 1, "cpu_s": round(self.used(), 1), "val_w1m": float(w1m)}
            fpd = getattr(pl_module, "last_validation_fpd", None)  # not callback_metrics: it keeps an older point
            if fpd is not None:
                point["val_fpd"] = float(fpd)
            self.curve.append(point)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "curve": self.curve, "exhausted": self.exhausted, "next_point": self.next_point}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.curve, self.exhausted = list(state["curve"]), bool(state["exhausted"])
        self.next_point = float(state.get("next_point", 0.0))  # older checkpoints: due at once


def early_stopping(patience: int) -> L.Callback:
    from lightning.pytorch.callbacks import EarlyStopping

    # min_delta 0: any decrease counts as an improvement (as BestEpoch counts it); check_finite: a NaN ends it
    return EarlyStopping(monitor="val/loss", mode="min", patience=patience, min_delta=0.0, check_finite=True)


def converged(curve: list[dict], best_epoch: int | None, patience: int, max_epochs: int,
              budget_ended: bool = False) -> bool:
    """False when the fit hit `max_epochs`, or a CPU budget ended it (`budget_ended`), with its best epoch among
    the last `patience`: still improving."""
    if best_epoch is None:
        return False
    epochs_run = curve[-1]["epoch"] if curve else 0
    return not ((epochs_run >= max_epochs or budget_ended) and epochs_run - best_epoch < patience)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) and of its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
