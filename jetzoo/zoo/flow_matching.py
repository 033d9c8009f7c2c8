"""`epic-fm`: a particle-cloud generator trained by flow matching, with an EPiC velocity network.

Papers: Y. Lipman et al., "Flow Matching for Generative Modeling", arXiv:2210.02747 (the objective and the
optimal-transport conditional path with sigma_min, §4.1); E. Buhmann et al., "EPiC-ly Fast Particle Cloud
Generation with Flow-Matching and Diffusion", arXiv:2310.00049 (EPiC-FM). Everything follows the authors'
code, github.com/uhh-pd-ml/EPiC-FM at 09294eb (src/models/components/losses.py, flow_matching_module.py,
configs/experiment/fm_tops30.yaml, configs/data/jetnet/jetnet_tops_30_jedi.yaml); the network is
`jetzoo.zoo.epic.EPiCVelocity`.

Data (view "cloud"): JetNet clouds, (eta_rel, phi_rel, pT_rel) + mask of the 30 leading particles.

Preprocessing (the authors'): each feature standardised over the real particles of the training set with
5 standard deviations as the unit, x' = (x - mu) / (sigma / 5); padded particles stay zero. The statistics are
measured once when a fit starts and kept in the checkpoint as buffers, with the multiplicity distribution of
the training set (per class when `conditional`).

Flow (the authors' convention, time tau = 0 data, 1 noise): tau ~ U(0, 1) per jet, z ~ N(0, 1) on the real
particles, y = (1 - tau) x + (sigma_min + (1 - sigma_min) tau) z; the network regresses u = (1 - sigma_min) z - x,
the mean squared error over the real particles' features (no minibatch optimal-transport coupling). The
multiplicity enters only through the mask, as theirs: sampling draws it from the training distribution (they
take the test jets' masks), fills that many slots with noise and integrates dy/dtau = v from tau = 1 to 0 in
`ode_steps` midpoint (or Euler) steps; the authors' evaluation used a 100-point grid, 99 midpoint steps.
Generated pT_rel below 0 are set to 0.

The authors' training: AdamW, lr 1e-3, weight decay 5e-5, a cosine schedule after a linear warm-up over a
tenth of the run, batches of 1024, gradients clipped at 0.5, an exponential moving average (0.999) of the
weights for evaluation: the `epic-fm` recipe (jetzoo/training/recipes/epic-fm.yaml). The average is the task's
own (`ema_decay`), with a warm-up the authors' has not, and it is what every sample uses, so that validation
(the checkpoint rule), test and `jetzoo sample` judge the same weights (Lightning's EMAWeightAveraging validates
the average but `test` after a fit restores the raw weights).

`loss(batch)` draws z and tau from a generator seeded with `noise_seed`; `forward(batch)` is the per-jet loss
at those draws (deterministic in eval mode), the task's (B,) score.
"""

from __future__ import annotations

import copy
from typing import Literal

import torch

from jetzoo.zoo.base import configure_adamw
from jetzoo.zoo.epic import EPiCVelocity
from jetzoo.zoo.finite import check_finite
from jetzoo.zoo.generative_base import JetGenerator
from jetzoo.zoo.optimizers import Scheduler

SIGMA_UNITS = 5.0  # the authors' normalize_sigma: standardised features have standard deviation 5


class FlowMatchingGenerator(JetGenerator):
    """`epic-fm`: flow matching with an EPiC velocity network (Buhmann et al., arXiv:2310.00049).

    Args:
        num_classes: number of classes (set from the data).
        class_names: the classes (set from the data).
        conditional: condition on the class (one-hot) besides the multiplicity.
        cloud_particles: particles per cloud (set from the data: 30 for JetNet30).
        hidden: particle width of the EPiC layers.
        global_dim: width of the EPiC global vector.
        num_layers: EPiC layers.
        time_dim: width of the sinusoidal time embedding.
        sigma_min: width of the conditional path at the data end.
        ode_steps: integration steps when sampling (99: the authors' 100-point grid).
        solver: midpoint (2 network calls a step) or euler.
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        scheduler: learning-rate schedule (jetzoo.zoo.optimizers; cosine-warmup: the authors').
        ema_decay: decay of an exponential moving average of the velocity network's weights, updated after every
            training step and used for every sample (validation, test, `jetzoo sample`); 0: none.
        jet_radius: jet radius of the data.
        default_jet_pt: jet pT the generated clouds are placed at on output when the batch carries no jets.
        noise_seed: seed of the draws of `loss`, validation and test.
    """

    recipe = "epic-fm"  # its training recipe (jetzoo/training/recipes/epic-fm.yaml)
    exportable = False
    export_blocker = ("a flow-matching generator: its output comes from integrating an ODE in a loop of "
                      "network calls, which is not exported")
    validation_loss_name = "val/fm_loss"

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        conditional: bool = False,
        cloud_particles: int = 30,
        hidden: int = 128,
        global_dim: int = 10,
        num_layers: int = 6,
        time_dim: int = 32,
        sigma_min: float = 1e-4,
        ode_steps: int = 99,
        solver: Literal["midpoint", "euler"] = "midpoint",
        lr: float = 1e-3,
        weight_decay: float = 5e-5,
        scheduler: Scheduler = "cosine-warmup",
        ema_decay: float = 0.0,
        jet_radius: float = 0.8,
        default_jet_pt: float = 1000.0,
        noise_seed: int = 0,
    ):
        super().__init__(num_classes, class_names, jet_radius, default_jet_pt, noise_seed)
        self.save_hyperparameters()
        if ode_steps < 1:
            raise ValueError(f"ode_steps must be >= 1, got {ode_steps}")
        if solver not in ("midpoint", "euler"):
            raise ValueError(f"unknown solver '{solver}' (midpoint, euler)")
        self.automatic_optimization = True
        self.conditional, self.num_particles = conditional, cloud_particles
        self.sigma_min, self.ode_steps, self.solver = sigma_min, ode_steps, solver
        self.lr, self.weight_decay, self.scheduler = lr, weight_decay, scheduler
        self.velocity = EPiCVelocity(3, hidden, global_dim, num_layers, time_dim, num_classes if conditional else 0)
        self.ema_decay = ema_decay
        if ema_decay > 0:
            self.velocity_ema = copy.deepcopy(self.velocity).requires_grad_(False)
            self.register_buffer("ema_updates", torch.tensor(0))
        self.init_training_statistics(cloud_particles)

    # --- preprocessing ----------------------------------------------------------------------------------
    def to_flow(self, cloud: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (cloud - self.feature_mean) / (self.feature_std / SIGMA_UNITS) * mask.unsqueeze(-1)

    def from_flow(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        cloud = x * (self.feature_std / SIGMA_UNITS) + self.feature_mean
        cloud = torch.cat([cloud[..., :2], cloud[..., 2:].clamp_min(0.0)], -1)
        return cloud * mask.unsqueeze(-1)

    # --- the objective ----------------------------------------------------------------------------------
    def per_jet_loss(self, batch, generator: torch.Generator | None = None) -> torch.Tensor:
        mask = batch["mask"].to(batch["cloud"].dtype)
        x = self.to_flow(batch["cloud"], mask)
        z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) * mask.unsqueeze(-1)
        tau = torch.rand(len(x), generator=generator, device=x.device, dtype=x.dtype)[:, None, None]
        y = (1 - tau) * x + (self.sigma_min + (1 - self.sigma_min) * tau) * z
        target = (1 - self.sigma_min) * z - x
        v = self.velocity(y, tau[:, 0, 0], mask, self.condition(batch["label"]))
        error = ((v.float() - target.float()) ** 2).sum((1, 2))
        return error / (3 * mask.sum(1).float().clamp_min(1.0))

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.per_jet_loss(batch, self.seeded_generator()).mean()

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.per_jet_loss(batch, self.seeded_generator())

    def training_step(self, batch, batch_idx):
        loss = self.per_jet_loss(batch).mean()
        check_finite(self, loss, "the flow-matching loss", batch_idx)
        self.log("train/fm_loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        return loss

    def configure_optimizers(self):
        return configure_adamw(self, self.lr, self.weight_decay, self.scheduler)

    @torch.no_grad()
    def on_train_batch_end(self, outputs, batch, batch_idx):
        """The moving average, with TensorFlow's warm-up (decay min(d, (1 + n) / (10 + n)) after n updates), so that
        a run of a few thousand steps (a CPU budget) is not averaged toward its initial weights: the authors' 0.999
        without a warm-up still holds (0.999)^600 = 55% of them after 600 steps."""
        if self.ema_decay <= 0:
            return
        n = int(self.ema_updates)
        decay = min(self.ema_decay, (1 + n) / (10 + n))
        torch._foreach_lerp_(list(self.velocity_ema.parameters()), list(self.velocity.parameters()), 1 - decay)
        self.ema_updates += 1

    @property
    def sampling_velocity(self):
        """The network samples are drawn with: the moving average when there is one."""
        return self.velocity_ema if self.ema_decay > 0 else self.velocity

    # --- sampling ---------------------------------------------------------------------------------------
    def generate(self, labels: torch.Tensor, generator: torch.Generator | None = None,
                 counts: torch.Tensor | None = None):
        n = self.draw_counts(labels, generator) if counts is None else counts
        mask = self.leading_mask(n, self.num_particles)
        y = torch.randn(len(labels), self.num_particles, 3, generator=generator, device=labels.device) * mask.unsqueeze(-1)
        cond = self.condition(labels)
        step = -1.0 / self.ode_steps  # tau from 1 (noise) to 0 (data)
        velocity = self.sampling_velocity
        for i in range(self.ode_steps):
            tau = torch.full((len(labels),), 1.0 + i * step, device=labels.device)
            v = velocity(y, tau, mask, cond)
            if self.solver == "midpoint":
                v = velocity(y + 0.5 * step * v, tau + 0.5 * step, mask, cond)
            y = y + step * v
        return self.from_flow(y, mask), mask
