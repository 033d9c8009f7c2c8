"""`gan` and `wgan`: particle-cloud jet generators with a message-passing discriminator (MPGAN-like).

Papers: Kansal et al., "Particle Cloud Generation with Message Passing Generative Adversarial
Networks" (MPGAN, arXiv:2106.11535) for the cloud representation, the fully connected
message passing and the metrics; Goodfellow et al. (arXiv:1406.2661) for the non-saturating GAN
loss; Gulrajani et al., "Improved Training of Wasserstein GANs" (arXiv:1704.00028) for WGAN-GP.

Data (view "cloud"): `cloud` (B, 30, 3) = (Δη, Δφ, pT/pT_jet), `mask` (B, 30), `label` (B,).

Generator: global noise z (latent_dim) [+ one-hot class when `conditional`] -> dense layers ->
one latent vector per particle (B, P, hidden), plus a linear map of 4 noise values per particle
-> `mp_layers` fully connected message-passing
layers -> per particle (Δη, Δφ) (R tanh, within the jet radius), a pT logit and a mask logit. The mask is hard (logit > 0)
in the forward pass with the sigmoid's gradient (straight-through), so the discriminator always
sees 0/1 masks; the pT fractions are a softmax of the pT logits over the present particles times
a generated total fraction in (0, 1) (the 30 leading particles carry most, not all, of the jet
pT); the pT-weighted centroid of (Δη, Δφ) is moved to (0, 0), since real clouds are relative to
the jet axis; padded entries are exactly zero.

Discriminator / critic: per-particle embedding of (Δη, Δφ, pT fraction, log pT fraction, mask)
-> `mp_layers` message-passing layers where particle i aggregates the mask-weighted mean over j
of MLP(h_i, h_j, ΔR_ij) -> mask-weighted sum and mean pooling + multiplicity [+ class] -> MLP ->
one score. It is permutation invariant and accepts soft masks (needed by the gradient penalty).

Training (manual optimisation, two Adam optimizers): one discriminator step per batch, one
generator step every `n_critic` batches. `loss(batch)` is the discriminator (critic) loss on the
batch with the generator's noise (and, for WGAN-GP, the interpolation weights) drawn from a
torch.Generator seeded with `noise_seed`, and the generated jets detached: lowering it trains the
discriminator only. `forward(batch)` is the discriminator's score of the real jets.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.errors import OptionError
from jetzoo.zoo.finite import check_finite
from jetzoo.zoo.generative_base import JetGenerator
from jetzoo.zoo.mlp import ACTIVATION_FUNCTIONS, ACTIVATIONS, dense_stack

PARTICLE_NOISE = 4  # per-particle noise dimensions (MPGAN starts every particle from its own noise)


def pair_mean(receiver, sender, distance, coords, mask, activation: str) -> torch.Tensor:
    """Mean over the real senders j of act(receiver_i + sender_j + distance * ΔR_ij): (B, P, H).

    receiver, sender (B, P, H); distance (H,), the weights of the message's ΔR term; mask (B, P). Eager, it builds
    the (B, P, P, H) messages; compiled (`compiled_pair_mean`), it runs as a few fused loops that recompute them in
    the backward pass instead of keeping them: the cost of the GANs' message passing on the CPU.
    """
    diff = coords.unsqueeze(2) - coords.unsqueeze(1)
    dr = (diff.pow(2).sum(-1, keepdim=True) + 1e-8).sqrt()  # smooth at 0 (double backward of the GP)
    messages = ACTIVATION_FUNCTIONS[activation](receiver.unsqueeze(2) + sender.unsqueeze(1) + dr * distance)
    weights = mask.unsqueeze(1).unsqueeze(-1)  # (B, 1, P, 1): messages from real particles j
    return (messages * weights).sum(2) / weights.sum(2).clamp_min(1.0)


@functools.cache
def compiled_pair_mean():
    """`pair_mean` through torch.compile (inductor; imported on first use), sizes symbolic: ~5 graphs in a fit (grad
    modes and which inputs need gradients), under dynamo's limit of 8. Its graphs have no double backward, so
    the gradient penalty's pass runs eagerly. Inductor builds C++ at run time: a probe compiles a small function
    first, so a missing compiler is one line (OptionError) when the model is built, not a failure mid-fit."""
    try:
        probe = torch.compile(lambda x: F.elu(2 * x).sum())
        probe(torch.ones(3, requires_grad=True)).backward()
    except Exception as err:  # noqa: BLE001 - inductor raises many kinds; each means no compiled kernels
        reason = (str(err).strip().splitlines() or [""])[0][:160]
        raise OptionError(f"--model.compile_messages true: torch.compile cannot build its kernels here "
                          f"({type(err).__name__}: {reason}); set it false or install a C++ compiler") from None
    return torch.compile(pair_mean, dynamic=True)  # symbolic sizes: batch sizes do not recompile


class MessagePassing(nn.Module):
    """Fully connected message passing over the particles of each jet (MPGAN), residual node update.

    Message j -> i: act(A h_i + B h_j + c ΔR_ij + d) (one linear layer on (h_i, h_j, ΔR_ij),
    applied in its decomposed form so no (B, P, P, 2H) tensor is built); particle i takes the
    mask-weighted mean over j and updates h_i <- h_i + MLP(h_i, mean message). `compiled`: the
    mean of the messages through `compiled_pair_mean` (the task's `compile_messages`).
    """

    def __init__(self, hidden: int, activation: str):
        super().__init__()
        self.receiver = nn.Linear(hidden, hidden)
        self.sender = nn.Linear(hidden, hidden, bias=False)
        self.distance = nn.Linear(1, hidden, bias=False)
        self.activation = activation
        self.node = nn.Sequential(dense_stack([hidden], 2 * hidden, activation), nn.Linear(hidden, hidden))

    def forward(self, h: torch.Tensor, coords: torch.Tensor, mask: torch.Tensor, compiled: bool = False) -> torch.Tensor:
        mean = compiled_pair_mean() if compiled else pair_mean
        messages = mean(self.receiver(h), self.sender(h), self.distance.weight[:, 0], coords, mask, self.activation)
        return h + self.node(torch.cat([h, messages], -1))


class CloudGenerator(nn.Module):
    def __init__(self, latent_dim, num_particles, hidden, mp_layers, cond_dim, activation, jet_radius):
        super().__init__()
        self.num_particles, self.hidden, self.jet_radius = num_particles, hidden, jet_radius
        self.compiled = False  # the message passing through torch.compile (the task's compile_messages)
        self.dense = nn.Sequential(
            dense_stack([4 * hidden, 4 * hidden], latent_dim + cond_dim, activation), nn.Linear(4 * hidden, num_particles * hidden)
        )
        self.particle_noise = nn.Linear(PARTICLE_NOISE, hidden, bias=False)
        self.mp = nn.ModuleList(MessagePassing(hidden, activation) for _ in range(mp_layers))
        self.coords = nn.Linear(hidden, 2)
        self.head = nn.Linear(hidden, 4)  # Δη, Δφ, pT logit, mask logit
        self.total = nn.Linear(hidden, 1)  # logit of the pT fraction carried by the cloud
        with torch.no_grad():  # start near real clouds: most particles present, ~90% of the jet pT
            self.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0]))
            self.total.bias.fill_(2.0)

    def forward(self, z: torch.Tensor, noise: torch.Tensor, cond: torch.Tensor | None):
        """z (B, latent_dim) global noise, noise (B, P, PARTICLE_NOISE) per-particle noise."""
        x = z if cond is None else torch.cat([z, cond], -1)
        h = self.dense(x).view(len(z), self.num_particles, self.hidden) + self.particle_noise(noise)
        ones = torch.ones(h.shape[:2], device=h.device, dtype=h.dtype)
        for layer in self.mp:
            h = layer(h, self.coords(h), ones, self.compiled)
        out = self.head(h)
        prob = torch.sigmoid(out[..., 3])
        mask = (prob > 0.5).to(prob.dtype) + prob - prob.detach()  # straight-through hard mask
        # pT fractions: a softmax over the present particles times the cloud's total fraction
        weights = torch.exp(out[..., 2] - out[..., 2].max(1, keepdim=True).values.detach()) * mask
        total = torch.sigmoid(self.total(h.mean(1)))
        frac = weights / weights.sum(1, keepdim=True).clamp_min(1e-12) * total
        # real clouds are relative to the jet axis: move the pT-weighted centroid to (0, 0)
        coords = self.jet_radius * torch.tanh(out[..., :2])
        coords = coords - (frac.unsqueeze(-1) * coords).sum(1, keepdim=True) / frac.sum(1).clamp_min(1e-12)[:, None, None]
        cloud = torch.cat([coords, frac.unsqueeze(-1)], -1) * mask.unsqueeze(-1)
        return cloud, mask


class CloudDiscriminator(nn.Module):
    def __init__(self, hidden, mp_layers, cond_dim, activation):
        super().__init__()
        self.embed = dense_stack([hidden, hidden], 5, activation)
        self.compiled = False  # the message passing through torch.compile (the task's compile_messages)
        self.mp = nn.ModuleList(MessagePassing(hidden, activation) for _ in range(mp_layers))
        self.head = nn.Sequential(dense_stack([hidden, hidden], 2 * hidden + 1 + cond_dim, activation), nn.Linear(hidden, 1))

    def forward(self, cloud: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor | None, eager: bool = False) -> torch.Tensor:
        """The (B,) scores; `eager`: without the compiled message passing (a pass that needs a double backward)."""
        log_pt = torch.log(cloud[..., 2].clamp_min(0) + 1e-4) * mask
        x = torch.cat([cloud, log_pt.unsqueeze(-1), mask.unsqueeze(-1)], -1)
        h = self.embed(x) * mask.unsqueeze(-1)
        for layer in self.mp:
            h = layer(h, cloud[..., :2], mask, self.compiled and not eager) * mask.unsqueeze(-1)
        count = mask.sum(1, keepdim=True)
        pooled = [h.sum(1) / mask.shape[1], h.sum(1) / count.clamp_min(1.0), count / mask.shape[1]]
        if cond is not None:
            pooled.append(cond)
        return self.head(torch.cat(pooled, -1)).squeeze(-1)


class JetGAN(JetGenerator):
    """Non-saturating GAN on particle clouds; the adversarial loop every GAN of jetzoo shares (`wgan`, `epic-gan`
    change the networks and the loss)."""

    adversarial_loss = "non-saturating"  # or "least-squares"; `wgan` overrides the losses (WGAN-GP)
    recipe = "gan"  # its tuned training (jetzoo/training/recipes/gan.yaml)

    exportable = False
    export_blocker = ("a generator: its forward is the discriminator's score of a real batch, and exporting "
                      "the generator (noise in, clouds out) is not implemented")

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        conditional: bool = False,
        cloud_particles: int = 30,
        latent_dim: int = 32,
        hidden: int = 32,
        mp_layers: int = 1,
        activation: str = "elu",
        lr_generator: float = 1e-4,
        lr_discriminator: float = 1e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        jet_radius: float = 0.8,
        default_jet_pt: float = 1000.0,
        noise_seed: int = 0,
        compile_messages: bool = False,
    ):
        """`compile_messages`: run the message passing through torch.compile (`compiled_pair_mean`): the same
        numbers to float rounding, ~4x faster training on a CPU; it needs a C++ compiler at run time."""
        super().__init__(num_classes, class_names, jet_radius, default_jet_pt, noise_seed)
        self.save_hyperparameters()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}' ({', '.join(ACTIVATIONS)})")
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}")
        self.conditional, self.latent_dim, self.n_critic = conditional, latent_dim, n_critic
        cond_dim = num_classes if conditional else 0
        self.generator = CloudGenerator(latent_dim, cloud_particles, hidden, mp_layers, cond_dim, activation, jet_radius)
        self.discriminator = CloudDiscriminator(hidden, mp_layers, cond_dim, activation)
        self.generator.compiled = self.discriminator.compiled = compile_messages
        if compile_messages:
            compiled_pair_mean()  # fails here, in one line, where inductor cannot build

    def setup(self, stage: str) -> None:
        """Under DDP: the discriminator's and the generator's steps alternate, each leaving the other network's
        weights without gradients, which DDP only takes with `find_unused_parameters` (Lightning's GAN advice:
        'ddp_find_unused_parameters_true'). A plain `--trainer.strategy ddp` gets it here, before Lightning wraps
        the model; an explicit `..._find_unused_parameters_false` is one line."""
        super().setup(stage)
        strategy = self._trainer.strategy if self._trainer is not None else None
        ddp_kwargs = getattr(strategy, "_ddp_kwargs", None)  # DDPStrategy's arguments to DistributedDataParallel
        if ddp_kwargs is None or stage != "fit":
            return
        if ddp_kwargs.get("find_unused_parameters") is False:
            raise OptionError(f"--trainer.strategy: {type(self).__name__} steps its discriminator and its generator in "
                              "turn, so DDP needs find_unused_parameters; use ddp or ddp_find_unused_parameters_true")
        ddp_kwargs.setdefault("find_unused_parameters", True)

    # --- networks -------------------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The discriminator's (B,) score of the real batch."""
        return self.discriminate(batch["cloud"], batch["mask"].to(batch["cloud"].dtype), batch["label"])

    def _cond(self, labels: torch.Tensor) -> torch.Tensor | None:
        return F.one_hot(labels.long(), self.num_classes).float() if self.conditional else None

    def generate(self, labels: torch.Tensor, generator: torch.Generator | None = None,
                 counts: torch.Tensor | None = None):
        """The generator predicts its own masks: `counts` is not used."""
        z = torch.randn(len(labels), self.latent_dim, device=labels.device, generator=generator)
        noise = torch.randn(len(labels), self.generator.num_particles, PARTICLE_NOISE, device=labels.device, generator=generator)
        return self.generator(z, noise, self._cond(labels))

    def discriminate(self, cloud, mask, labels) -> torch.Tensor:
        return self.discriminator(cloud, mask.to(cloud.dtype), self._cond(labels))

    # --- losses -------------------------------------------------------------------------------------------
    def discriminator_loss(self, batch, fake, generator: torch.Generator | None = None) -> torch.Tensor:
        real = self.discriminate(batch["cloud"], batch["mask"], batch["label"])
        fake_score = self.discriminate(fake[0], fake[1], batch["label"])
        if self.adversarial_loss == "least-squares":  # LSGAN (Mao et al., arXiv:1611.04076), as MPGAN and EPiC-GAN
            return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake_score ** 2).mean()
        return F.softplus(-real).mean() + F.softplus(fake_score).mean()

    def generator_loss(self, fake, labels) -> torch.Tensor:
        score = self.discriminate(fake[0], fake[1], labels)
        if self.adversarial_loss == "least-squares":
            return 0.5 * ((score - 1) ** 2).mean()
        return F.softplus(-score).mean()

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        generator = self.seeded_generator()
        fake = tuple(t.detach() for t in self.generate_for(batch, generator))
        return self.discriminator_loss(batch, fake, generator)

    def training_losses(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """[discriminator loss, generator loss] of one training step (the discriminator's on detached
        fakes): between them every parameter gets a gradient, which `loss` alone gives the critic only."""
        generator = self.seeded_generator()
        g_loss = self.generator_loss(self.generate_for(batch, generator), batch["label"])
        return [self.loss(batch), g_loss]

    # --- training -------------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        labels, n = batch["label"], len(batch["label"])
        fake = tuple(t.detach() for t in self.generate_for(batch))
        d_loss = self.discriminator_loss(batch, fake)
        check_finite(self, d_loss, "the discriminator loss", batch_idx)
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.log("train/d_loss", d_loss, prog_bar=True, batch_size=n)
        if (batch_idx + 1) % self.n_critic == 0:
            self.toggle_optimizer(opt_g)
            g_loss = self.generator_loss(self.generate_for(batch), labels)
            check_finite(self, g_loss, "the generator loss", batch_idx)
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
            self.untoggle_optimizer(opt_g)
            self.log("train/g_loss", g_loss, prog_bar=True, batch_size=n)

    def configure_optimizers(self):
        betas = tuple(self.hparams.betas)
        return [
            torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr_generator, betas=betas),
            torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.lr_discriminator, betas=betas),
        ]


class JetWGAN(JetGAN):
    """Wasserstein GAN with gradient penalty (critic steps per generator step: `n_critic`)."""

    recipe = "wgan"  # its tuned training (jetzoo/training/recipes/wgan.yaml)

    def __init__(
        self,
        betas: tuple[float, float] = (0.0, 0.9),
        n_critic: int = 5,
        gp_weight: float = 10.0,
        drift: float = 1e-3,
        **kwargs,
    ):
        """`gp_weight`: gradient-penalty weight; `drift`: weight of the critic's drift term; Adam `betas`
        and `n_critic` default to the WGAN-GP paper's. Every argument of `gan` applies (`**kwargs`)."""
        super().__init__(betas=betas, n_critic=n_critic, **kwargs)
        self.gp_weight, self.drift = gp_weight, drift

    def discriminator_loss(self, batch, fake, generator: torch.Generator | None = None) -> torch.Tensor:
        """W-distance estimate + gp_weight * (|∇ critic| - 1)² on interpolates + drift * critic(real)².

        Interpolates mix real and generated clouds and masks particle by particle
        (x = α x_real + (1 - α) x_fake, one α per jet); the critic takes the soft mask as weights.
        """
        real_cloud, real_mask, labels = batch["cloud"], batch["mask"].to(batch["cloud"].dtype), batch["label"]
        real = self.discriminate(real_cloud, real_mask, labels)
        fake_score = self.discriminate(fake[0], fake[1], labels)
        alpha = torch.rand(len(labels), 1, 1, device=real_cloud.device, generator=generator)
        cloud = (alpha * real_cloud + (1 - alpha) * fake[0]).requires_grad_(True)
        mask = (alpha[..., 0] * real_mask + (1 - alpha[..., 0]) * fake[1]).requires_grad_(True)
        with torch.enable_grad():
            score = self.discriminator(cloud, mask, self._cond(labels), eager=True)  # double backward: eager
            grads = torch.autograd.grad(score.sum(), [cloud, mask], create_graph=True)
        norm = (torch.cat([g.flatten(1) for g in grads], 1).pow(2).sum(1) + 1e-12).sqrt()
        penalty = (norm - 1).pow(2).mean()
        return fake_score.mean() - real.mean() + self.gp_weight * penalty + self.drift * real.pow(2).mean()

    def generator_loss(self, fake, labels) -> torch.Tensor:
        return -self.discriminate(fake[0], fake[1], labels).mean()
