"""`epic-gan`: EPiC-GAN, an adversarial generator and discriminator of EPiC layers (deep sets with a global latent).

Paper: E. Buhmann, G. Kasieczka and J. Thaler, "EPiC-GAN: Equivariant Point Cloud Generation for Particle Jets",
arXiv:2301.08128. Configuration and training as the authors' code, github.com/uhh-pd-ml/EPiC-GAN at a9d2dca
(models.py, start_training.py, training.py, generate.py); the sizes are confirmed by the parameter counts the
authors' evaluation notebook prints (generator 424,850, discriminator 313,170, matched here):

* generator: noise z_global ~ N(0, 1)^10 and z_local ~ N(0, 1)^3 per particle; local embedding Linear(3, 128);
  global embedding Linear(10, 128), Linear(128, 10); 6 EPiC layers (width 128, global 10, sum pool unscaled),
  each followed by adding the embedded noise again; output Linear(128, 3), no activation;
* discriminator: local Linear(3, 128), Linear(128, 128) + residual; global from [mean, sum] to 128 to 10; 3 EPiC
  layers; head from [mean, sum, global] to 128, Linear(128, 128) + residual, Linear(128, 1), no sigmoid;
* weight normalisation on every linear map, leaky ReLU (slope 0.01);
* least-squares loss, D: 0.5 [(D(x) - 1)^2 + D(G(z))^2], G: 0.5 (D(G(z)) - 1)^2; one step each per batch;
  Adam, lr 1e-4 for both, betas (0.9, 0.999), eps 1e-14;
* features standardised over the training particles with 5 standard deviations as the unit, x' = (x - mu) /
  (sigma / 5); generated jets re-centred (their pT-weighted eta and phi moved to 0), pT below the training
  minimum raised to it.

Multiplicity: the authors batch jets of one multiplicity (bucketing) and run the generator at the batch's N;
here batches mix multiplicities and every pool is masked, which is the same function for each jet, and the
generator is given each real jet's multiplicity in training. Sampling draws multiplicities from the training
set's distribution (the authors fit a Gaussian KDE to it). The class, when `conditional`, is concatenated to
every EPiC layer's inputs (an option jetzoo adds; the paper trains one jet type at a time).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo.epic import EPiCLayer, _linear, pool
from jetzoo.zoo.gan import JetGAN

SIGMA_UNITS = 5.0  # the authors' norm_sigma


class EPiCGenerator(nn.Module):
    def __init__(self, hidden: int = 128, global_dim: int = 10, local_noise: int = 3, num_layers: int = 6,
                 cond_dim: int = 0):
        super().__init__()
        self.global_dim, self.local_noise = global_dim, local_noise
        self.local_in = _linear(local_noise, hidden)
        self.global_in1 = _linear(global_dim, hidden)
        self.global_in2 = _linear(hidden, global_dim)
        self.layers = nn.ModuleList(EPiCLayer(hidden, global_dim, cond_dim, sum_scale=1.0) for _ in range(num_layers))
        self.out = _linear(hidden, 3)

    def forward(self, z_global: torch.Tensor, z_local: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor):
        h0 = F.leaky_relu(self.local_in(z_local)) * mask.unsqueeze(-1)
        g0 = F.leaky_relu(self.global_in2(F.leaky_relu(self.global_in1(z_global))))
        h, g = h0, g0
        for layer in self.layers:
            h, g = layer(h, g, cond, mask)
            h, g = h + h0, g + g0
        return self.out(h) * mask.unsqueeze(-1)


class EPiCDiscriminator(nn.Module):
    def __init__(self, hidden: int = 128, global_dim: int = 10, num_layers: int = 3, cond_dim: int = 0):
        super().__init__()
        self.local1 = _linear(3, hidden)
        self.local2 = _linear(hidden, hidden)
        self.global1 = _linear(2 * hidden, hidden)
        self.global2 = _linear(hidden, global_dim)
        self.layers = nn.ModuleList(EPiCLayer(hidden, global_dim, cond_dim, sum_scale=1.0) for _ in range(num_layers))
        self.head1 = _linear(2 * hidden + global_dim + cond_dim, hidden)
        self.head2 = _linear(hidden, hidden)
        self.head3 = _linear(hidden, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.local1(x))
        h = F.leaky_relu(self.local2(h) + h) * mask.unsqueeze(-1)
        g = F.leaky_relu(self.global2(F.leaky_relu(self.global1(pool(h, mask, 1.0)))))
        for layer in self.layers:
            h, g = layer(h, g, cond, mask)
        out = F.leaky_relu(self.head1(torch.cat([pool(h, mask, 1.0), g, cond], -1)))
        out = F.leaky_relu(self.head2(out) + out)
        return self.head3(out).squeeze(-1)


class EPiCGAN(JetGAN):
    """`epic-gan`: EPiC-GAN (Buhmann, Kasieczka, Thaler, arXiv:2301.08128), the authors' configuration.

    Args:
        num_classes: number of classes (set from the data).
        class_names: the classes (set from the data).
        conditional: condition both networks on the class (one-hot).
        cloud_particles: particles per cloud (set from the data: 30 for JetNet30).
        hidden: particle width of the EPiC layers.
        global_dim: width of the global vectors (and of the global noise).
        generator_layers: EPiC layers of the generator.
        discriminator_layers: EPiC layers of the discriminator.
        lr_generator: Adam learning rate of the generator.
        lr_discriminator: Adam learning rate of the discriminator.
        betas: Adam betas.
        jet_radius: jet radius of the data.
        default_jet_pt: jet pT the generated clouds are placed at on output when the batch carries no jets.
        noise_seed: seed of the draws of `loss`, validation and test.
    """

    adversarial_loss = "least-squares"
    recipe = None  # the authors' configuration is the defaults; not the tuned `gan` recipe JetGAN names

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        conditional: bool = False,
        cloud_particles: int = 30,
        hidden: int = 128,
        global_dim: int = 10,
        generator_layers: int = 6,
        discriminator_layers: int = 3,
        lr_generator: float = 1e-4,
        lr_discriminator: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.999),
        jet_radius: float = 0.8,
        default_jet_pt: float = 1000.0,
        noise_seed: int = 0,
    ):
        super(JetGAN, self).__init__(num_classes, class_names, jet_radius, default_jet_pt, noise_seed)
        self.save_hyperparameters()
        self.conditional, self.n_critic, self.num_particles = conditional, 1, cloud_particles
        cond_dim = num_classes if conditional else 0
        self.generator = EPiCGenerator(hidden, global_dim, 3, generator_layers, cond_dim)
        self.discriminator = EPiCDiscriminator(hidden, global_dim, discriminator_layers, cond_dim)
        self.init_training_statistics(cloud_particles)

    def generate(self, labels: torch.Tensor, generator: torch.Generator | None = None,
                 counts: torch.Tensor | None = None):
        n = self.draw_counts(labels, generator) if counts is None else counts
        mask = self.leading_mask(n, self.num_particles)
        z_global = torch.randn(len(labels), self.hparams.global_dim, generator=generator, device=labels.device)
        z_local = torch.randn(len(labels), self.num_particles, 3, generator=generator, device=labels.device)
        x = self.generator(z_global, z_local, mask, self.condition(labels))
        cloud = x * (self.feature_std / SIGMA_UNITS) + self.feature_mean
        pt = torch.maximum(cloud[..., 2], self.min_pt) * mask
        weights = pt / pt.sum(1, keepdim=True).clamp_min(1e-12)
        coords = cloud[..., :2] - (weights.unsqueeze(-1) * cloud[..., :2]).sum(1, keepdim=True)  # re-centre
        return torch.cat([coords, pt.unsqueeze(-1)], -1) * mask.unsqueeze(-1), mask

    def discriminate(self, cloud, mask, labels) -> torch.Tensor:
        x = (cloud - self.feature_mean) / (self.feature_std / SIGMA_UNITS) * mask.unsqueeze(-1)
        return self.discriminator(x, mask.to(cloud.dtype), self.condition(labels))

    def configure_optimizers(self):
        betas = tuple(self.hparams.betas)
        return [
            torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr_generator, betas=betas, eps=1e-14),
            torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.lr_discriminator, betas=betas, eps=1e-14),
        ]
