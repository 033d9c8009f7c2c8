"""A Lightning callback that turns one rank's weights to NaN before one training batch, for the real DDP run of
tests/test_generative.py: `--trainer.callbacks+=poison_callback.PoisonOneRank` with this directory on
PYTHONPATH and `JETZOO_ALLOW_IMPORT=poison_callback`, as a user adds their own callback.

JETZOO_POISON = "RANK:EPOCH:BATCH". Each rank also writes its number of validation batches."""

from __future__ import annotations

import os

import torch
from lightning.pytorch.callbacks import Callback


class PoisonOneRank(Callback):
    def __init__(self):
        self.when = tuple(int(k) for k in os.environ["JETZOO_POISON"].split(":"))  # (rank, epoch, batch)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if (trainer.global_rank, trainer.current_epoch, batch_idx) == self.when:
            with torch.no_grad():
                for p in pl_module.parameters():
                    p.fill_(float("nan"))

    def on_validation_epoch_end(self, trainer, pl_module):
        """Each rank's number of validation batches, for the test to check the ranks' counts differ."""
        if not trainer.sanity_checking:
            batches = trainer.num_val_batches[0] if isinstance(trainer.num_val_batches, list) else trainer.num_val_batches
            with open(f"validation_batches.rank{trainer.global_rank}", "w") as f:
                f.write(str(int(batches)))
