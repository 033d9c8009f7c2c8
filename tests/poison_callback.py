"""A Lightning callback that turns one rank's weights to NaN before one batch, for the real DDP runs of
tests/test_generative.py: `--trainer.callbacks+=poison_callback.PoisonOneRank` with this directory on
PYTHONPATH and `JETZOO_ALLOW_IMPORT=poison_callback`, as a user adds their own callback.

JETZOO_POISON = "RANK:STAGE:EPOCH:BATCH", STAGE "train" or "validate" (the sanity check is never poisoned)."""

from __future__ import annotations

import os

import torch
from lightning.pytorch.callbacks import Callback


class PoisonOneRank(Callback):
    def __init__(self):
        rank, self.stage, epoch, batch = os.environ["JETZOO_POISON"].split(":")
        self.rank, self.epoch, self.batch = int(rank), int(epoch), int(batch)

    def _poison(self, trainer, pl_module, stage: str, batch_idx: int) -> None:
        if (trainer.global_rank, stage, trainer.current_epoch, batch_idx) == (self.rank, self.stage, self.epoch, self.batch):
            with torch.no_grad():
                for p in pl_module.parameters():
                    p.fill_(float("nan"))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._poison(trainer, pl_module, "train", batch_idx)

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        if not trainer.sanity_checking:
            self._poison(trainer, pl_module, "validate", batch_idx)

    def on_validation_epoch_end(self, trainer, pl_module):
        """Each rank's number of validation batches, for the test to check the ranks' counts differ."""
        if not trainer.sanity_checking:
            batches = trainer.num_val_batches[0] if isinstance(trainer.num_val_batches, list) else trainer.num_val_batches
            with open(f"validation_batches.rank{trainer.global_rank}", "w") as f:
                f.write(str(int(batches)))
