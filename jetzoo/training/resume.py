"""Exact resume: a fit killed at any point and re-run from `last.ckpt` ends bit-identical.

What Lightning's checkpoint already restores: weights, optimiser and scheduler states, loop
progress (epoch, global step) and callback states. What it does not, and this module adds:

- `ExactResume` stores the torch (CPU and CUDA), numpy and Python random states in
  the checkpoint, as tensors and lists only (weights-only loadable), and puts them back when
  training starts again (after the sanity check, which must not consume them), and restarts
  the training iterator, which Lightning built before the restore.
- `LatestModelCheckpoint` is Lightning's `ModelCheckpoint` whose `last.ckpt` is written after
  every epoch, not only when the monitored metric improves, so `--ckpt_path last` is the latest
  state.

The training order itself comes from the datamodule's `EpochShuffleSampler` (a function of the
seed and epoch only) and DataLoaders with their own generators, so no loader draws from the
global random state.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint


def capture_random_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, python_state, gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss, "cached": cached},
        "python": {"version": version, "state": list(python_state), "gauss": gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class ExactResume(Callback):
    """Saves the global random states with each checkpoint; when fit resumes, restores them and
    restarts the training iterator.

    Lightning builds the training iterator before it restores the checkpoint (to estimate the
    number of steps for a scheduler), and keeps it on resume; with DataLoader workers that
    iterator has already prefetched batches in epoch 0's order. Restarting it once the loop
    state is back makes the first resumed epoch see the order of the uninterrupted run.
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return capture_random_state()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_start(self, trainer, pl_module) -> None:
        if self._pending is None:
            return
        fetcher = getattr(trainer.fit_loop, "_data_fetcher", None)
        if fetcher is not None:
            # the loaders' own saved state (a streaming loader's position in its epoch) arrived with the
            # checkpoint after Lightning had built them: hand it over, then restart the iterator
            trainer.fit_loop._load_combined_loader_states()
            iter(fetcher)
        restore_random_state(self._pending)
        self._pending = None


class LatestModelCheckpoint(ModelCheckpoint):
    """`ModelCheckpoint` whose `last.ckpt` is rewritten at every checkpoint opportunity.

    Lightning writes `last.ckpt` only when a top-k checkpoint was saved at the same step, so
    with `monitor` set it lags behind the latest epoch whenever the metric did not improve.
    """

    def _save_latest(self, trainer) -> None:
        if self.save_last and not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_latest(trainer)

    def on_validation_end(self, trainer, pl_module) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_latest(trainer)
