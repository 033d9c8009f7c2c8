"""`epic-fm`: a particle-cloud generator trained by flow matching, with an EPiC velocity network.

Papers: Y. Lipman et al., "Flow Matching for Generative Modeling", arXiv:2210.02747 (the objective, §4.1,
the optimal-transport conditional path with sigma_min); E. Buhmann et al., "EPiC-ly Fast Particle Cloud
Generation with Flow-Matching and Diffusion", arXiv:2310.00049 (EPiC-FM: the EPiC velocity network
conditioned on the multiplicity, jets as JetNet clouds). The network is `jetzoo.zoo.epic.EPiCVelocity`.

Data (view "cloud"): JetNet clouds, (eta_rel, phi_rel, pT_rel) + mask of the 30 leading particles.

Preprocessing: eta_rel and phi_rel are standardised, pT_rel as log pT_rel, with the means and standard
deviations of the real particles of the training set (computed once when a fit starts, kept in the
checkpoint as buffers); padded particles stay zero. The multiplicity distribution of the training set
(per class when `conditional`) is kept as well: sampling draws a multiplicity n from it, fills the n
leading slots with noise and integrates the flow on them, conditioned on n / P as in EPiC-FM.

Training: x_1 a batch of (preprocessed) jets, x_0 ~ N(0, 1) on the same real particles, t ~ U(0, 1) per jet,
x_t = (1 - (1 - sigma_min) t) x_0 + t x_1; the network regresses u = x_1 - (1 - sigma_min) x_0 (mean squared
error over the real particles' features). Sampling integrates dx/dt = v(x, t) from t = 0 to 1 in
`ode_steps` steps of the midpoint (default) or Euler rule.

`loss(batch)` draws x_0 and t from a generator seeded with `noise_seed`; `forward(batch)` is the per-jet
loss at those draws (deterministic in eval mode), the task's (B,) score.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from jetzoo.zoo.base import configure_adamw
from jetzoo.zoo.epic import EPiCVelocity
from jetzoo.zoo.generative_base import JetGenerator

STATISTICS_BATCHES = 200  # training batches read for the preprocessing statistics and multiplicities


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
        sigma_min: width of the conditional path at t = 1.
        ode_steps: integration steps when sampling.
        solver: midpoint (2 network calls a step) or euler.
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        scheduler: learning-rate schedule (jetzoo.zoo.optimizers).
        jet_radius: jet radius of the data.
        default_jet_pt: jet pT the generated clouds are placed at on output when the batch carries no jets.
        noise_seed: seed of the draws of `loss`, validation and test.
    """

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
        global_dim: int = 16,
        num_layers: int = 6,
        time_dim: int = 32,
        sigma_min: float = 1e-4,
        ode_steps: int = 100,
        solver: Literal["midpoint", "euler"] = "midpoint",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        scheduler: str = "cosine",
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
        self.velocity = EPiCVelocity(3, hidden, global_dim, num_layers, time_dim, 1 + (num_classes if conditional else 0))
        self.register_buffer("feature_mean", torch.zeros(3))
        self.register_buffer("feature_std", torch.ones(3))
        # multiplicity counts per class (row) and n = 0..P (column); uniform over 1..P until a fit measures them
        counts = torch.ones(num_classes, cloud_particles + 1)
        counts[:, 0] = 0
        self.register_buffer("multiplicity_counts", counts)
        self.register_buffer("statistics_measured", torch.tensor(False))

    # --- preprocessing ----------------------------------------------------------------------------------
    def to_flow(self, cloud: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = torch.cat([cloud[..., :2], torch.log(cloud[..., 2:].clamp_min(1e-12))], -1)
        return (x - self.feature_mean) / self.feature_std * mask.unsqueeze(-1)

    def from_flow(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x * self.feature_std + self.feature_mean
        cloud = torch.cat([x[..., :2], torch.exp(x[..., 2:].clamp(max=0.0))], -1)  # pT_rel <= 1
        return cloud * mask.unsqueeze(-1)

    def on_fit_start(self):
        if bool(self.statistics_measured) or self.trainer is None or self.trainer.datamodule is None:
            return
        sums, squares, n = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 0
        counts = torch.zeros_like(self.multiplicity_counts, dtype=torch.float64)
        for i, batch in enumerate(self.trainer.datamodule.train_dataloader()):
            if i >= STATISTICS_BATCHES:
                break
            mask = batch["mask"].bool()
            cloud = batch["cloud"].double()
            x = torch.cat([cloud[..., :2], torch.log(cloud[..., 2:].clamp_min(1e-12))], -1)[mask]
            sums += x.sum(0)
            squares += (x * x).sum(0)
            n += len(x)
            rows = batch["label"].long() if self.conditional else torch.zeros_like(batch["label"].long())
            counts.index_put_((rows, mask.sum(1)), torch.ones(len(rows), dtype=torch.float64), accumulate=True)
        if n < 2:
            return
        mean = sums / n
        std = (squares / n - mean * mean).clamp_min(1e-12).sqrt()
        self.feature_mean.copy_(mean.float())
        self.feature_std.copy_(std.float())
        if not self.conditional:
            counts[:] = counts[0]
        counts[counts.sum(1) == 0] = counts.sum(0)  # a class absent from the sampled batches: all classes'
        self.multiplicity_counts.copy_(counts.float())
        self.statistics_measured.fill_(True)

    # --- the objective ----------------------------------------------------------------------------------
    def _cond(self, mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        n = mask.sum(1, keepdim=True).to(torch.float32) / self.num_particles
        if not self.conditional:
            return n
        return torch.cat([n, F.one_hot(labels.long(), self.num_classes).float()], -1)

    def per_jet_loss(self, batch, generator: torch.Generator | None = None) -> torch.Tensor:
        mask = batch["mask"].to(batch["cloud"].dtype)
        x1 = self.to_flow(batch["cloud"], mask)
        x0 = torch.randn(x1.shape, generator=generator, device=x1.device, dtype=x1.dtype) * mask.unsqueeze(-1)
        t = torch.rand(len(x1), generator=generator, device=x1.device, dtype=x1.dtype)
        xt = (1 - (1 - self.sigma_min) * t)[:, None, None] * x0 + t[:, None, None] * x1
        target = x1 - (1 - self.sigma_min) * x0
        v = self.velocity(xt, t, mask, self._cond(mask, batch["label"]))
        error = ((v.float() - target.float()) ** 2).sum((1, 2))
        return error / (3 * mask.sum(1).float().clamp_min(1.0))

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.per_jet_loss(batch, self.seeded_generator()).mean()

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.per_jet_loss(batch, self.seeded_generator())

    def training_step(self, batch, batch_idx):
        loss = self.per_jet_loss(batch).mean()
        self.log("train/fm_loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        return loss

    def configure_optimizers(self):
        return configure_adamw(self, self.lr, self.weight_decay, self.scheduler)

    # --- sampling ---------------------------------------------------------------------------------------
    def generate(self, labels: torch.Tensor, generator: torch.Generator | None = None):
        rows = labels.long() if self.conditional else torch.zeros_like(labels.long())
        probs = self.multiplicity_counts[rows].clamp_min(0)
        n = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        mask = (torch.arange(self.num_particles, device=labels.device)[None, :] < n[:, None]).float()
        x = torch.randn(len(labels), self.num_particles, 3, generator=generator, device=labels.device) * mask.unsqueeze(-1)
        cond = self._cond(mask, labels)
        dt = 1.0 / self.ode_steps
        for step in range(self.ode_steps):
            t = torch.full((len(labels),), step * dt, device=labels.device)
            v = self.velocity(x, t, mask, cond)
            if self.solver == "midpoint":
                v = self.velocity(x + 0.5 * dt * v, t + 0.5 * dt, mask, cond)
            x = x + dt * v
        return self.from_flow(x, mask), mask
