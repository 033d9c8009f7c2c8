"""The tagging task: one LightningModule for binary and multi-class jet tagging around a backbone.

A tagger is a backbone and one line: the network is a plain `torch.nn.Module` whose `forward`
takes tensors (`hl`; `image`; or some of `features`, `points`, `p4`, `mask`, named by its `inputs`
class attribute, in that order) and returns logits (B, num_classes), usable without Lightning;
the registered class is

    class MLP(JetTagger):
        backbone_class = MLPBackbone  # plus a one-line class docstring: the registry's summary

and gets its `__init__` (the backbone's arguments, then the shared ones below), docstring and
`forward(batch)` from `jetzoo.zoo.backbone_task`. The network's parameters are named
`backbone.*`; checkpoints written before the backbones (names without the prefix) still load.

The contract of earlier versions keeps working unchanged, for plugins written against it (kept
at least until jetzoo 0.4, docs/DESIGN.md §5): a subclass that builds its network in its own
`__init__` (ending in `**kwargs` passed to `super().__init__(num_classes, **kwargs)`, or
re-declaring the shared arguments, passing them positionally and calling
`self.save_hyperparameters()`) and implements `forward(batch) -> logits`. The task provides the loss, AdamW with an optional cosine or
one-cycle schedule, accuracy / AUC / background rejection on val and test (jetzoo.metrics:
computed in float64 from the logits gathered across DDP processes; names, lower bounds and
the test-time bootstrap intervals are described there), and `predict_step` returning per-jet
class probabilities and truth labels.

The background classes and signal efficiencies of the rejection come from the `__init__`
arguments when given, else from the trainer's datamodule's `dims` when the metrics are
computed (most taggers' own `__init__` does not list them, so the CLI cannot pass them there),
else the defaults of `JetDataModule`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric

from jetzoo.errors import JetDataError
from jetzoo.metrics import LogitsAndLabels, bootstrap_intervals, evaluate, format_summary
from jetzoo.metrics.summary import lightning_table_too
from jetzoo.zoo import optimizers
from jetzoo.zoo.backbone_task import BackboneTask
from jetzoo.zoo.finite import raise_held, refuse_non_finite
from jetzoo.zoo.optimizers import Optimizer, Scheduler

# bootstrap resamples of the test metrics' intervals (seed 0): ~0.1 s for a binary tagger on 4k jets
TEST_BOOTSTRAP_RESAMPLES = 300

def configure_adamw(module: L.LightningModule, lr: float, weight_decay: float, scheduler: str):
    """AdamW with one of the schedules of jetzoo.zoo.optimizers (the generative tasks' optimiser)."""
    return optimizers.configure(module, "adamw", lr, weight_decay, scheduler)


class JetTagger(BackboneTask, L.LightningModule, ABC):
    """Base class of every jet tagger. Subclasses implement `forward(batch) -> logits`.

    Args:
        num_classes: number of classes (set from the data).
        class_names: the classes, in the order of the logits (set from the data).
        lr: learning rate (`--optimizer` replaces the optimizer).
        weight_decay: weight decay (decoupled for adamw and ranger; ranger spares biases and norm layers).
        optimizer: adamw, adam or ranger (RAdam + Lookahead, the ParticleNet and ParT authors'); see
            jetzoo/zoo/optimizers.py.
        l1: an L1 penalty on every weight matrix and kernel, l1 * sum |w| added to the training loss (Keras'
            kernel_regularizer=l1(...), as the hls4ml MLP was trained); 0: none.
        scheduler: learning-rate schedule: cosine or onecycle over the whole fit (per batch), flat-decay
            (weaver-core's flat+decay, per epoch), plateau (halved when the validation loss stalls), none
            (`--lr_scheduler` replaces it).
        background_classes: the background of the signal-vs-background rejection
            (default: the datamodule's).
        signal_efficiencies: signal efficiencies of the reported 1/εB (default: the datamodule's).
    """

    input_view: ClassVar[str] = "hl"
    task: ClassVar[str] = "tagging"

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: Scheduler = "cosine",
        background_classes: list[str] | None = None,
        signal_efficiencies: list[float] | None = None,
        optimizer: Optimizer = "adamw",
        l1: float = 0.0,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
        self.lr, self.weight_decay, self.scheduler = lr, weight_decay, scheduler
        self.optimizer_name = optimizer
        self.l1 = l1
        self.background_classes = list(background_classes) if background_classes is not None else None
        self.signal_efficiencies = list(signal_efficiencies) if signal_efficiencies is not None else None
        self.val_metrics = self._metric_collection()
        self.test_metrics = self._metric_collection()
        # every argument of the __init__ chain, the subclass's included (Lightning collects the frames;
        # a backbone tagger's installed __init__ saves its arguments itself)
        self.save_hyperparameters()

    def _metric_collection(self) -> nn.ModuleDict:
        return nn.ModuleDict({"predictions": LogitsAndLabels(self.num_classes), "loss": MeanMetric()})

    def metric_settings(self) -> tuple[list[str], list[float]]:
        """(background classes, signal efficiencies): the `__init__` arguments, else the datamodule's."""
        from jetzoo.datamodules.base import JetDataModule

        datamodule = getattr(self._trainer, "datamodule", None)
        dims = datamodule.dims if isinstance(datamodule, JetDataModule) else {}
        background = self.background_classes
        if background is None:
            background = dims.get("background_classes", JetDataModule.background_classes)
        efficiencies = self.signal_efficiencies
        if efficiencies is None:
            efficiencies = dims.get("signal_efficiencies", JetDataModule.signal_efficiencies)
        return [c for c in background if c in self.class_names], list(efficiencies)

    # --- the contract -------------------------------------------------------------------------
    @abstractmethod
    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits (B, num_classes) for a batch of the model's `input_view`."""

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(self(batch).float(), batch["label"])  # fp32 under bf16 autocast too

    # --- Lightning hooks ----------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        if getattr(self, "l1", 0.0):  # the training objective only: val/test losses stay comparable
            loss = loss + self.l1 * sum(p.abs().sum() for p in self.backbone_weights())
        return loss

    def backbone_weights(self):
        """The weight matrices and kernels (biases and norm parameters, 1-D, excluded)."""
        return [p for p in self.parameters() if p.ndim > 1 and p.requires_grad]

    def _eval_step(self, batch, metrics: nn.ModuleDict, stage: str, batch_idx: int):
        logits = self(batch)
        finite = torch.isfinite(logits).all(-1)

        def message() -> str:
            trainer = self._trainer
            precision = f", precision {trainer.precision}" if trainer is not None else ""
            return (f"{type(self).__name__}: {int((~finite).sum())} of {len(finite)} jets have non-finite logits in "
                    f"{stage} batch {batch_idx} (after {self.global_step} training steps{precision}); the weights have "
                    "diverged or the inputs hold NaN/inf: lower the learning rate, or try --trainer.precision 32")

        if not refuse_non_finite(self, ~finite, message):  # held under DDP, raised at the epoch's end
            return
        logits = logits.float()
        loss = F.cross_entropy(logits, batch["label"])
        metrics["loss"].update(loss, weight=len(batch["label"]))
        metrics["predictions"].update(logits, batch["label"])  # logits: metrics are computed in float64

    def setup(self, stage: str) -> None:
        if stage == "fit" and self.num_classes < 2:
            datamodule = getattr(self.trainer, "datamodule", None)
            source = getattr(datamodule, "path", None) or type(datamodule).__name__
            raise JetDataError(
                f"{source}: {self.num_classes} class ({', '.join(self.class_names)}) in the data after "
                "--data.classes; a tagger needs at least 2 to fit (predicting on one class is fine)"
            )

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch, self.val_metrics, "validation", batch_idx)

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, self.test_metrics, "test", batch_idx)

    def _log_metrics(self, metrics: nn.ModuleDict, stage: str):
        # compute() gathers the states across processes: every rank computes the same values
        logits, labels = metrics["predictions"].compute()
        loss = metrics["loss"].compute()
        for metric in metrics.values():
            metric.reset()
        logits, labels = logits.double().cpu().numpy(), labels.cpu().numpy()
        self.last_test_predictions = (logits, labels) if stage == "test" else getattr(self, "last_test_predictions", None)
        settings = (self.class_names, *self.metric_settings())
        result = evaluate(logits, labels, *settings)
        out = {f"{stage}/loss": float(loss), **{f"{stage}/{k}": v for k, v in result.scalars().items()}}
        if stage == "test" and len(labels):
            result.intervals = bootstrap_intervals(logits, labels, *settings, n_resamples=TEST_BOOTSTRAP_RESAMPLES)
            for name, (lo, hi) in result.intervals.items():
                out[f"{stage}/{name}_lo"], out[f"{stage}/{name}_hi"] = lo, hi
        counts = np.bincount(labels, minlength=self.num_classes)
        absent = [self.class_names[c] for c in range(self.num_classes) if counts[c] == 0]
        if stage == "test" and self.trainer.is_global_zero:
            if absent:
                print(f"jetzoo: {stage} metrics n/a for {', '.join(absent)}: no such jets in the {stage} data")
            if self.trainer.test_loop.verbose and len(labels):
                print(format_summary(result, stage, TEST_BOOTSTRAP_RESAMPLES), flush=True)
                self.trainer.test_loop.verbose = lightning_table_too()  # one table unless --verbose
        # every rank holds the same values (compute() gathered the states); sync_dist's mean of equal numbers
        # changes none, and without it Lightning warns once per key on every DDP epoch (issue 24 §4)
        self.log_dict(out, sync_dist=True)

    def on_validation_epoch_end(self):
        raise_held(self)
        self._log_metrics(self.val_metrics, "val")

    def on_test_epoch_end(self):
        raise_held(self)
        self._log_metrics(self.test_metrics, "test")

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        # the logits beside the probabilities: float32 probabilities of a confident model saturate at 1.0 and
        # tie, so a ROC from them is coarser than from the logits the metrics use (issue 23 §7)
        logits = self(batch).float()
        return {"logits": logits, "probs": logits.softmax(-1), "label": batch["label"]}

    def configure_optimizers(self):
        return optimizers.configure(self, getattr(self, "optimizer_name", "adamw"), self.lr, self.weight_decay, self.scheduler)
