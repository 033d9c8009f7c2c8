"""The contract of the unsupervised and generative models, a sibling of `jetzoo.zoo.base.JetTagger`.

Every model here is a LightningModule sharing the datamodules (docs/DESIGN.md §4) with the
class attributes `input_view` and `task` ("anomaly" or "generation"), and implements

- `loss(batch) -> scalar`: the quantity its training lowers (registry-wide contract);
- `forward(batch) -> (B,)`: deterministic in eval mode — an anomaly score for the anomaly
  detectors, the discriminator's score of the real batch for the generators.

Data-determined `__init__` parameters (`num_classes`, `class_names`, `num_particle_features`,
`num_particles`, `image_size`) are filled by the CLI from `datamodule.dims`; every parameter
has a default.

`AnomalyDetector` (task "anomaly") trains on the background classes only: its `train_classes`
(default: those of ["QCD", "g", "q"] present in the data) is read by the datamodule, which
keeps only those classes in train and val. Test sees every class and logs, for each other
(signal) class c, `test/anomaly_auc_<c>` and `test/rej30_<c>_vs_bkg` (1/eps_B at eps_S = 0.3,
`jetzoo.metrics.background_rejection`) of the anomaly score, signal c against the background
classes, with `test/rej30_<c>_vs_bkg_lower_bound` (1.0 when no background jet passes and
the value is the Clopper-Pearson lower bound, see jetzoo.metrics).

`JetGenerator` (task "generation", `input_view = "cloud"`) generates 30-particle clouds
(Δη, Δφ, pT/pT_jet) + mask; its `predict_step` returns generated jets conditioned on the
batch labels beside the real ones, `write_predictions(outputs, path)` writes them as an
hls4ml-layout HDF5 plus PNG plots (`jetzoo.generate.generated_output`), and `test` logs every metric of
`jetzoo.metrics.generative` with its real-vs-real floor (the test split's real jets are halved
into `real` and `real_reference`). Validation logs the discriminator loss as `val/d_loss` and the
W1 of the jet mass between the validation jets and as many generated ones as `val/w1m`, also
logged as `val/loss` so that checkpointing on `val/loss` keeps the best generator, and every so often
their FPD as `val/fpd` (`jetzoo.metrics.generated.validation_fpd`).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import lightning as L
import numpy as np
import scipy.stats
import torch
from torch import nn
from torchmetrics import CatMetric
from torchmetrics.functional.classification import binary_auroc

from jetzoo.errors import UsageError
from jetzoo.metrics import RejectionPoint, background_rejection
from jetzoo.metrics.anomaly import BACKGROUND_EFFICIENCY as ANOMALY_BACKGROUND_EFFICIENCY
from jetzoo.metrics.roc import signal_efficiency_at
from jetzoo.zoo.backbone_task import BackboneTask
from jetzoo.zoo.base import configure_adamw
from jetzoo.zoo.finite import check_finite, raise_held
from jetzoo.zoo.generator_statistics import TrainingStatistics
from jetzoo.zoo.prediction_outputs import concat_outputs, output_file

BACKGROUND_CLASSES = ["QCD", "g", "q"]
ANOMALY_SIGNAL_EFFICIENCY = 0.3


def gathered() -> CatMetric:
    """Concatenates tensors along the batch axis, synced across DDP processes by `cat`.

    CatMetric stores float32 (masks and labels are cast back where computed); no NaN filtering,
    which would misalign the values with their labels.
    """
    return CatMetric(nan_strategy="disable")


FPD_CPU_SHARE = 0.05  # the most of a generator's CPU time its validation FPD points take


class GenerativeModel(L.LightningModule, ABC):
    """Shared pieces of the anomaly detectors and the generators."""

    input_view: ClassVar[str] = "particles"
    task: ClassVar[str] = "anomaly"

    def __init__(self, num_classes: int = 2, class_names: list[str] | None = None):
        super().__init__()
        self.num_classes = num_classes
        self.class_names = list(class_names) if class_names else [str(i) for i in range(num_classes)]

    @abstractmethod
    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B,) per-jet scores, deterministic in eval mode."""

    @abstractmethod
    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The scalar the module's training lowers."""


class AnomalyDetector(BackboneTask, GenerativeModel):
    """The anomaly-detection task: trained on `train_classes`, scored on all classes in test.

    A detector is a backbone (`backbone_class`, jetzoo.zoo.backbone_task) whose `forward(tensors)` is
    the per-jet score (B,) and whose `loss(tensors)` is the scalar training lowers.

    Args:
        num_classes: number of classes (set from the data).
        class_names: the classes (set from the data).
        train_classes: the background classes trained on (default: those of QCD, g, q in the data).
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        scheduler: learning-rate schedule, stepped per batch over the whole fit.
    """

    task: ClassVar[str] = "anomaly"
    train_classes: list[str] = BACKGROUND_CLASSES

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        train_classes: list[str] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        scheduler: str = "cosine",
    ):
        super().__init__(num_classes, class_names)
        wanted = list(train_classes) if train_classes is not None else list(BACKGROUND_CLASSES)
        if class_names:
            present = [c for c in wanted if c in self.class_names]
            if not present:
                raise ValueError(f"train_classes {wanted} name none of the data's classes {self.class_names}")
            wanted = present
        self.train_classes = wanted
        self.lr, self.weight_decay, self.scheduler = lr, weight_decay, scheduler
        self.test_scores, self.test_labels = gathered(), gathered()
        self.save_hyperparameters()

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The backbone's training loss on the batch."""
        return self.backbone.loss(*self.backbone_inputs(batch))

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        return loss

    def validation_step(self, batch, batch_idx):
        # val holds background jets only
        self.log("val/loss", self.loss(batch), prog_bar=True, sync_dist=True, batch_size=len(batch["label"]))

    def test_step(self, batch, batch_idx):
        self.test_scores.update(self(batch).float())
        self.test_labels.update(batch["label"])

    def anomaly_metrics(self, scores: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """{anomaly_auc_<c>, anomaly_eps_s_<c> (eps_S at eps_B = 1e-2), rej30_<c>_vs_bkg, its _lower_bound flag}
        for every signal class c present, against the background classes."""
        background = [i for i, c in enumerate(self.class_names) if c in self.train_classes]
        if not background:
            raise ValueError(f"train_classes {self.train_classes} name none of the classes {self.class_names}")
        background = torch.tensor(background, device=labels.device)
        is_bkg = torch.isin(labels, background)
        out = {}
        for c, name in enumerate(self.class_names):
            if name in self.train_classes:
                continue
            sel = is_bkg | (labels == c)
            is_sig = labels[sel] == c
            if is_sig.all() or not is_sig.any():
                continue
            out[f"anomaly_auc_{name}"] = float(binary_auroc(scores[sel], is_sig.long()))
            # eps_S at eps_B = 1e-2, the convention of arXiv:2212.07347 (jetzoo.metrics.anomaly)
            out[f"anomaly_eps_s_{name}"] = signal_efficiency_at(scores[sel].double().cpu().numpy(), is_sig.cpu().numpy(),
                                                                ANOMALY_BACKGROUND_EFFICIENCY)
            rejection = background_rejection(scores[sel].double().cpu().numpy(), is_sig.cpu().numpy(), ANOMALY_SIGNAL_EFFICIENCY)
            point = RejectionPoint(
                name, tuple(self.train_classes), ANOMALY_SIGNAL_EFFICIENCY, "vs_bkg", rejection.value, rejection.lower_bound,
                rejection.background_passing, rejection.background_jets,
            )
            out[point.name] = point.value
            out[f"{point.name}_lower_bound"] = float(point.lower_bound)
        return out

    def on_test_epoch_end(self):
        scores, labels = self.test_scores.compute(), self.test_labels.compute().long()
        self.test_scores.reset()
        self.test_labels.reset()
        metrics = self.anomaly_metrics(scores, labels)
        self.log_dict({f"test/{k}": v for k, v in metrics.items()}, sync_dist=True)  # equal on every rank (gathered)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return {"score": self(batch).float(), "label": batch["label"]}

    def write_predictions(self, outputs: list, path: str) -> list[Path]:
        """Per-jet anomaly scores and labels to HDF5 (`score`, `label`; attrs class_names, train_classes)."""
        import h5py

        data = concat_outputs(outputs)
        out = output_file(path, "anomaly_scores.h5")
        with h5py.File(out, "w") as f:
            f.create_dataset("score", data=data["score"].astype(np.float32))
            f.create_dataset("label", data=data["label"].astype(np.int64))
            f.attrs["class_names"] = self.class_names
            f.attrs["train_classes"] = self.train_classes
        return [out]

    def configure_optimizers(self):
        return configure_adamw(self, self.lr, self.weight_decay, self.scheduler)


def relative_jet_mass(cloud: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Jet mass / jet pT of (B, P, 3) clouds, massless particles around a unit jet (torch)."""
    frac = cloud[..., 2] * mask
    deta, dphi = cloud[..., 0], cloud[..., 1]
    p4 = torch.stack([frac * torch.cos(dphi), frac * torch.sin(dphi), frac * torch.sinh(deta), frac * torch.cosh(deta)], -1)
    jet = p4.sum(1)
    return (jet[:, 3] ** 2 - (jet[:, :3] ** 2).sum(-1)).clamp_min(0).sqrt()


class JetGenerator(TrainingStatistics, GenerativeModel):
    """Base of the cloud generators. Subclasses implement `generate` and `discriminate`."""

    input_view: ClassVar[str] = "cloud"
    task: ClassVar[str] = "generation"

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        jet_radius: float = 0.8,
        default_jet_pt: float = 1000.0,
        noise_seed: int = 0,
    ):
        super().__init__(num_classes, class_names)
        self.automatic_optimization = False
        self.jet_radius, self.default_jet_pt, self.noise_seed = jet_radius, default_jet_pt, noise_seed
        self.val_real_mass, self.val_gen_mass = gathered(), gathered()
        self.val_real = nn.ModuleDict({k: gathered() for k in ("cloud", "mask")})
        self.val_gen = nn.ModuleDict({k: gathered() for k in ("cloud", "mask")})
        self.last_validation_fpd: float | None = None  # this validation epoch's FPD point, if it has one
        # False: a validation epoch does nothing, no loss, no sampling, no W1M (the generative bench's CpuBudget sets
        # it, so the W1M points, sampling's cost, take a bounded share of a run's CPU budget)
        self.validate_w1m = True
        self._next_fpd_cpu = 0.0  # the process CPU time from which the next FPD point is due
        self.test_real = nn.ModuleDict({k: gathered() for k in ("cloud", "mask")})
        self.test_gen = nn.ModuleDict({k: gathered() for k in ("cloud", "mask")})

    # --- what subclasses provide (and `forward(batch) -> (B,)`, `loss(batch)`) -----------------------------
    @abstractmethod
    def generate(self, labels: torch.Tensor, generator: torch.Generator | None = None,
                 counts: torch.Tensor | None = None):
        """(cloud (B, P, 3), mask (B, P) float) for one jet per label; padding exactly zero. `counts` (B,): the
        multiplicities to generate, for generators that take them (else drawn or generated)."""

    def generate_for(self, batch, generator: torch.Generator | None = None):
        """Generated jets to set against a real batch in training: its labels, and its multiplicities for the
        generators that are given them (MPGAN, EPiC-GAN train that way)."""
        return self.generate(batch["label"], generator, batch["mask"].sum(1).long())

    validation_loss_name = "val/d_loss"  # what `loss` is, as validation logs it

    def seeded_generator(self, offset: int = 0) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(self.noise_seed + offset)

    @torch.no_grad()
    def sample(self, labels: torch.Tensor, generator: torch.Generator | None = None):
        """Generated jets for output: clouds sorted by pT fraction, boolean masks; None for a non-finite batch in a
        DDP evaluation stage, which the steps skip and the epoch's end raises (`jetzoo.zoo.finite`)."""
        cloud, mask = self.generate(labels, generator)
        if not check_finite(self, cloud, "the generated jets"):  # no NaN reaches a metric or a file
            return None
        mask = mask > 0.5
        key = torch.where(mask, cloud[..., 2], torch.full_like(cloud[..., 2], -1.0))
        order = key.argsort(dim=1, descending=True, stable=True)
        cloud = torch.gather(cloud, 1, order[..., None].expand_as(cloud)) * torch.gather(mask, 1, order)[..., None]
        return cloud, torch.gather(mask, 1, order)

    # --- validation: discriminator loss (val/d_loss) and W1 of the jet mass (val/w1m = val/loss) ----------------------------------------
    def validation_step(self, batch, batch_idx):
        if not self.validate_w1m:  # an epoch between W1M points (the generative bench's CPU share, CpuBudget): no work
            return
        # the WGAN-GP penalty needs gradients: evaluate the loss outside Lightning's inference mode
        with torch.inference_mode(False), torch.enable_grad():
            loss = self.loss({k: v.clone() for k, v in batch.items()}).detach()
        self.log(self.validation_loss_name, loss, prog_bar=True, sync_dist=True, batch_size=len(batch["label"]))
        sampled = self.sample(batch["label"], self.seeded_generator(1000 + batch_idx))
        if sampled is None:
            return
        cloud, mask = sampled
        self.val_real_mass.update(relative_jet_mass(batch["cloud"], batch["mask"].to(batch["cloud"].dtype)))
        self.val_gen_mass.update(relative_jet_mass(cloud, mask.to(cloud.dtype)))
        for sample, (c, m) in ((self.val_real, (batch["cloud"], batch["mask"])), (self.val_gen, (cloud, mask))):
            sample["cloud"].update(c.float())
            sample["mask"].update(m.bool())

    def on_validation_epoch_end(self):
        raise_held(self)
        if not self.validate_w1m:
            return
        real, gen = self.val_real_mass.compute().cpu().numpy(), self.val_gen_mass.compute().cpu().numpy()
        clouds = [(s["cloud"].compute().cpu(), s["mask"].compute().cpu().bool()) for s in (self.val_real, self.val_gen)]
        for metric in (self.val_real_mass, self.val_gen_mass, *self.val_real.values(), *self.val_gen.values()):
            metric.reset()
        w1m = float(scipy.stats.wasserstein_distance(real, gen))
        # val/loss is what checkpointing minimises: the generator's quality, not the discriminator's loss
        logged = {"val/w1m": w1m, "val/loss": w1m}
        self.last_validation_fpd = None  # what a learning-curve callback reads: None in an epoch without a point
        if self._validation_fpd_due():
            from jetzoo.metrics.generated import validation_fpd

            start = time.process_time()
            fpd = validation_fpd(*clouds)
            end = time.process_time()
            # the next point after 1 / FPD_CPU_SHARE times this one's cost: FPD takes at most that share of the CPU
            self._next_fpd_cpu = end + (end - start) * (1 / FPD_CPU_SHARE - 1)
            if fpd is not None:
                logged["val/fpd"] = self.last_validation_fpd = fpd
        self.log_dict(logged, prog_bar=True, sync_dist=True)  # equal on every rank

    def _validation_fpd_due(self) -> bool:
        """Whether this validation epoch gets an FPD point: not the sanity check, and once the CPU since the last
        point is 1 / FPD_CPU_SHARE times that point's cost; rank 0 decides for all (the logged keys must agree)."""
        trainer = self._trainer
        if trainer is None:
            return True
        if trainer.sanity_checking:
            return False
        return bool(trainer.strategy.broadcast(time.process_time() >= self._next_fpd_cpu, src=0))

    # --- test: every generative metric beside its real-vs-real floor -------------------------------------
    def test_step(self, batch, batch_idx):
        sampled = self.sample(batch["label"], self.seeded_generator(2000 + batch_idx))
        if sampled is None:
            return
        cloud, mask = sampled
        self.test_real["cloud"].update(batch["cloud"])
        self.test_real["mask"].update(batch["mask"].bool())
        self.test_gen["cloud"].update(cloud)
        self.test_gen["mask"].update(mask)

    def on_test_epoch_end(self):
        from jetzoo.metrics.generated import evaluate_generated

        raise_held(self)
        real = [self.test_real["cloud"].compute().cpu(), self.test_real["mask"].compute().cpu().bool()]
        gen = [self.test_gen["cloud"].compute().cpu(), self.test_gen["mask"].compute().cpu().bool()]
        for metric in (*self.test_real.values(), *self.test_gen.values()):
            metric.reset()
        try:
            metrics = evaluate_generated(
                (real[0][0::2], real[1][0::2]), (gen[0][0::2], gen[1][0::2]), (real[0][1::2], real[1][1::2]),
                jet_radius=self.jet_radius,
            )
        except ValueError as err:  # too few test jets: the user's data options, one line
            raise UsageError(f"the test split holds {len(real[0])} jets, halved into real and reference samples: "
                             f"{err}") from err
        self.log_dict({f"test/{k}": float(v) for k, v in metrics.items()}, sync_dist=True)  # equal on every rank

    # --- prediction: generated jets beside the real ones ---------------------------------------------------
    def on_predict_epoch_end(self):
        raise_held(self)  # a non-finite batch under DDP (its step returned None); jetzoo's writer raised it already

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        """Generated clouds conditioned on the batch labels, the real clouds, and the real jets' kinematics.

        `jet` (B, 4) = (pT, η, φ, m) of the real jets when the batch carries it, else
        (default_jet_pt, 0, 0, 0): the generated clouds are placed around these jets on output.
        """
        sampled = self.sample(batch["label"], self.seeded_generator(3000 + batch_idx))
        if sampled is None:
            return None
        cloud, mask = sampled
        n = len(batch["label"])
        jet = batch.get("jet")
        if jet is None:
            jet = torch.zeros(n, 4, device=cloud.device)
            jet[:, 0] = self.default_jet_pt
        return {
            "cloud": cloud,
            "mask": mask,
            "label": batch["label"],
            "jet": jet.float(),
            "real_cloud": batch["cloud"],
            "real_mask": batch["mask"].bool(),
        }

    def write_predictions(self, outputs: list, path: str) -> list[Path]:
        """Generated jets as hls4ml-layout HDF5 + PNG plots of real vs generated; returns the files written."""
        from jetzoo.generate.generated_output import write_generated

        data = concat_outputs(outputs)
        return write_generated(
            output_file(path, "generated_jets.h5"),
            data,
            class_names=self.class_names,
            jet_radius=self.jet_radius,
            generator=type(self).__name__,
            seed=self.noise_seed,
        )
