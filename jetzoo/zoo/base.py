"""The tagger contract: one LightningModule base for binary and multi-class jet tagging.

A tagger subclasses `JetTagger`, sets the class attribute `input_view` (see docs/DESIGN.md),
builds its network in `__init__` (calling `super().__init__(...)` with the shared training
arguments, then `self.save_hyperparameters()`), and implements `forward(batch) -> logits`
of shape (B, num_classes). The base provides the loss, AdamW with an optional cosine or
one-cycle schedule, torchmetrics accuracy / AUC / background rejection on val and test,
and `predict_step` returning per-jet class probabilities and truth labels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy, MulticlassAUROC

from jetzoo.errors import JetDataError
from jetzoo.metrics import BackgroundRejection, ClassCounts

Scheduler = Literal["none", "cosine", "onecycle"]


def configure_adamw(module: L.LightningModule, lr: float, weight_decay: float, scheduler: str):
    """AdamW, with a per-step cosine decay or one-cycle schedule over the whole fit."""
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
    if scheduler == "none":
        return optimizer
    total = max(1, int(module.trainer.estimated_stepping_batches))
    if scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    elif scheduler == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total)
    else:
        raise ValueError(f"unknown scheduler '{scheduler}' (none, cosine, onecycle)")
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class JetTagger(L.LightningModule, ABC):
    """Base class of every jet tagger. Subclasses implement `forward(batch) -> logits`."""

    input_view: ClassVar[str] = "hl"
    task: ClassVar[str] = "tagging"

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: Scheduler = "cosine",
    ):
        super().__init__()
        self.num_classes = num_classes
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        self.lr, self.weight_decay, self.scheduler = lr, weight_decay, scheduler
        self.val_metrics = self._metric_collection()
        self.test_metrics = self._metric_collection()

    def _metric_collection(self) -> nn.ModuleDict:
        k = max(self.num_classes, 2)  # a one-class model builds (and `setup` refuses to fit it in one line)
        return nn.ModuleDict(
            {
                "acc": MulticlassAccuracy(k, average="micro"),
                "auc_per_class": MulticlassAUROC(k, average=None),
                "rejection": BackgroundRejection(k),
                "counts": ClassCounts(k),
                "loss": MeanMetric(),
            }
        )

    # --- the contract -------------------------------------------------------------------------
    @abstractmethod
    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits (B, num_classes) for a batch of the model's `input_view`."""

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(self(batch), batch["label"])

    # --- Lightning hooks ----------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        return loss

    def _eval_step(self, batch, metrics: nn.ModuleDict, stage: str):
        logits = self(batch)
        loss = F.cross_entropy(logits, batch["label"])
        probs = logits.float().softmax(-1)
        for name, metric in metrics.items():
            if name == "loss":
                metric.update(loss, weight=len(batch["label"]))
            else:
                metric.update(probs, batch["label"])

    def setup(self, stage: str) -> None:
        if stage == "fit" and self.num_classes < 2:
            datamodule = getattr(self.trainer, "datamodule", None)
            source = getattr(datamodule, "path", None) or type(datamodule).__name__
            raise JetDataError(
                f"{source}: {self.num_classes} class ({', '.join(self.class_names)}) in the data after "
                "--data.classes; a tagger needs at least 2 to fit (predicting on one class is fine)"
            )

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch, self.val_metrics, "val")

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, self.test_metrics, "test")

    def _log_metrics(self, metrics: nn.ModuleDict, stage: str):
        values = {name: metric.compute() for name, metric in metrics.items()}
        for metric in metrics.values():
            metric.reset()
        names = self.class_names
        present = [c for c in range(self.num_classes) if values["counts"][c] > 0]
        out = {f"{stage}/loss": values["loss"], f"{stage}/acc": values["acc"]}
        auc = values["auc_per_class"]
        if len(present) < 2:
            pass  # one class alone: no ROC
        elif self.num_classes == 2:
            out[f"{stage}/auc"] = auc[1]
        else:
            # macro averages only over the classes that have jets: an absent class is n/a, not 0
            out[f"{stage}/auc"] = auc[present].mean()
            out.update({f"{stage}/auc_{names[c]}": auc[c] for c in present})
        for key, value in values["rejection"].items():
            c, eff = key[1:].split("_eff")
            if int(c) in present and len(present) > 1:
                out[f"{stage}/rej{round(float(eff) * 100)}_{names[int(c)]}"] = value
        absent = [names[c] for c in range(self.num_classes) if c not in present]
        if absent and stage == "test" and self.trainer.is_global_zero:
            print(f"jetzoo: {stage} metrics n/a for {', '.join(absent)}: no such jets in the {stage} data")
        # the metric states are already synchronised across processes by torchmetrics
        self.log_dict({k: v.float() for k, v in out.items()}, sync_dist=False)

    def on_validation_epoch_end(self):
        self._log_metrics(self.val_metrics, "val")

    def on_test_epoch_end(self):
        self._log_metrics(self.test_metrics, "test")

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return {"probs": self(batch).float().softmax(-1), "label": batch["label"]}

    def configure_optimizers(self):
        return configure_adamw(self, self.lr, self.weight_decay, self.scheduler)
