"""`mpgan`: the message-passing GAN (MPGAN) of R. Kansal et al., "Particle Cloud Generation with Message Passing
Generative Adversarial Networks", arXiv:2106.11535.

The configuration is the paper's best gluon model as the authors released it (github.com/rkansal47/MPGAN, branch
neurips21 at 90d7b3b, "the exact code and scripts used for" the paper: trained_models/mp_g/args.txt,
mpgan/model.py, setup_training.py); the top model differs only in its learning rates (2e-5 / 6e-5, the
light-quark one 5e-6 / 1.5e-5), which the bench passes as model arguments:

* message passing on the fully connected graph with self-loops: m_ij = f_e(h_i, h_j), f_e a 3-layer MLP
  (2F -> 96 -> 160 -> 192, LeakyReLU(0.2) after every layer, the last included), messages weighted by the
  sender's mask and summed over j; h_i' = f_n(sum_j m_ij, h_i), f_n 192+F -> 256 -> 256 -> F_out (LeakyReLU
  after all but the last); no residual;
* generator: per-particle noise N(0, 0.2^2) of 32 features; 2 layers (32 -> 32 -> 3), then tanh;
* multiplicity (`mask_c`): the generator is given the multiplicity N (that of the real jet in training, one
  drawn from the training set's when sampling) and keeps the N particles whose first noise feature is
  smallest;
* discriminator: 2 layers (3 -> 32 -> 32) with dropout 0.5 after every linear map, masked sum pooling,
  Linear(32, 1) and a sigmoid;
* least-squares loss (D: (D(x) - 1)^2 + D(G(z))^2, G: (D(G(z)) - 1)^2, means, no 1/2); RMSprop with PyTorch's
  defaults, lr 1e-5 (G) and 3e-5 (D); one D and one G step per batch of 256;
* features scaled as `FeaturewiseLinearBounded`: eta_rel, phi_rel, pT_rel each divided by its largest |value|
  (the authors used JetNet's maxima; here the training set's), pT_rel then shifted by -0.5; generated pT_rel
  below 0 set to 0 (jetnet.utils.gen_jet_corrections).

The authors chose the epoch of lowest W1M over 2000 epochs (gluon) on a GPU; the generative bench gives every
generator the same CPU budget instead.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo.dropout import Dropout
from jetzoo.zoo.gan import JetGAN

NOISE_STD = 0.2  # the authors' sd
LEAKY = 0.2  # leaky_relu_alpha


def _mlp(widths: list[int], final_activation: bool, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if final_activation or i < len(widths) - 2:
            layers.append(nn.LeakyReLU(LEAKY))
        if dropout:
            layers.append(Dropout(dropout))  # 16-bit masks: nn.Dropout's Bernoulli draws were 57% of a step
    return nn.Sequential(*layers)


class MPLayer(nn.Module):
    """One fully connected message-passing layer (sender-masked sum of f_e(h_i, h_j), then f_n)."""

    def __init__(self, in_dim: int, out_dim: int, fe: tuple[int, ...] = (96, 160, 192), fn: tuple[int, ...] = (256, 256),
                 dropout: float = 0.0, cond_dim: int = 0):
        super().__init__()
        self.fe = _mlp([2 * in_dim + cond_dim, *fe], final_activation=True, dropout=dropout)
        self.fn = _mlp([fe[-1] + in_dim + cond_dim, *fn, out_dim], final_activation=False, dropout=dropout)

    def forward(self, h: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        b, p, f = h.shape
        c = cond[:, None, None, :].expand(b, p, p, -1)
        pairs = torch.cat([h.unsqueeze(2).expand(b, p, p, f), h.unsqueeze(1).expand(b, p, p, f), c], -1)
        messages = (self.fe(pairs) * mask[:, None, :, None]).sum(2)
        return self.fn(torch.cat([messages, h, cond[:, None, :].expand(b, p, -1)], -1))


def message_passing(layers: nn.ModuleList, h: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """The MP layers in order, a leaky ReLU between them (not after the last): the generator's and the discriminator's."""
    for i, layer in enumerate(layers):
        h = layer(h, mask, cond)
        if i < len(layers) - 1:
            h = F.leaky_relu(h, LEAKY)
    return h


class MPGANGenerator(nn.Module):
    def __init__(self, latent: int = 32, hidden: int = 32, layers: int = 2, cond_dim: int = 0,
                 fe: tuple[int, ...] = (96, 160, 192), fn: tuple[int, ...] = (256, 256)):
        super().__init__()
        dims = [latent] + [hidden] * (layers - 1) + [3]
        self.layers = nn.ModuleList(MPLayer(a, b, fe, fn, cond_dim=cond_dim) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, noise: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return torch.tanh(message_passing(self.layers, noise, mask, cond)) * mask.unsqueeze(-1)


class MPGANDiscriminator(nn.Module):
    def __init__(self, hidden: int = 32, layers: int = 2, dropout: float = 0.5, cond_dim: int = 0,
                 fe: tuple[int, ...] = (96, 160, 192), fn: tuple[int, ...] = (256, 256)):
        super().__init__()
        dims = [3] + [hidden] * layers
        self.layers = nn.ModuleList(MPLayer(a, b, fe, fn, dropout=dropout, cond_dim=cond_dim)
                                    for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = message_passing(self.layers, x, mask, cond)
        pooled = (h * mask.unsqueeze(-1)).sum(1)
        return torch.sigmoid(self.head(pooled)).squeeze(-1)


class MPGAN(JetGAN):
    """`mpgan`: the message-passing GAN (Kansal et al., arXiv:2106.11535), the authors' gluon configuration.

    Args:
        num_classes: number of classes (set from the data).
        class_names: the classes (set from the data).
        conditional: condition both networks on the class (one-hot; an option jetzoo adds).
        cloud_particles: particles per cloud (set from the data: 30 for JetNet30).
        latent: per-particle noise features.
        hidden: particle features between the message-passing layers.
        layers: message-passing layers of each network.
        edge_widths: widths of the edge network f_e.
        node_widths: hidden widths of the node network f_n.
        discriminator_dropout: dropout after every linear map of the discriminator.
        lr_generator: RMSprop learning rate of the generator (top jets: 2e-5).
        lr_discriminator: RMSprop learning rate of the discriminator (top jets: 6e-5).
        jet_radius: jet radius of the data.
        default_jet_pt: jet pT the generated clouds are placed at on output when the batch carries no jets.
        noise_seed: seed of the draws of `loss`, validation and test.
    """

    adversarial_loss = "least-squares"
    recipe = None  # the authors' configuration is the defaults; not the tuned `gan` recipe JetGAN names
    cpu_variant = "mpgan-lite"  # the registry-wide CPU tests run on it: f_e over 900 pairs a jet is heavy

    def __init__(
        self,
        num_classes: int = 2,
        class_names: list[str] | None = None,
        conditional: bool = False,
        cloud_particles: int = 30,
        latent: int = 32,
        hidden: int = 32,
        layers: int = 2,
        edge_widths: tuple[int, ...] = (96, 160, 192),
        node_widths: tuple[int, ...] = (256, 256),
        discriminator_dropout: float = 0.5,
        lr_generator: float = 1e-5,
        lr_discriminator: float = 3e-5,
        jet_radius: float = 0.8,
        default_jet_pt: float = 1000.0,
        noise_seed: int = 0,
    ):
        super(JetGAN, self).__init__(num_classes, class_names, jet_radius, default_jet_pt, noise_seed)
        self.save_hyperparameters()
        self.conditional, self.n_critic, self.num_particles, self.latent = conditional, 1, cloud_particles, latent
        cond_dim = num_classes if conditional else 0
        fe, fn = tuple(edge_widths), tuple(node_widths)
        self.generator = MPGANGenerator(latent, hidden, layers, cond_dim, fe, fn)
        self.discriminator = MPGANDiscriminator(hidden, layers, discriminator_dropout, cond_dim, fe, fn)
        self.init_training_statistics(cloud_particles)

    def scaled(self, cloud: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = cloud / self.feature_absmax
        return torch.cat([x[..., :2], x[..., 2:] - 0.5], -1) * mask.unsqueeze(-1)

    def generate(self, labels: torch.Tensor, generator: torch.Generator | None = None,
                 counts: torch.Tensor | None = None):
        n = self.draw_counts(labels, generator) if counts is None else counts
        noise = NOISE_STD * torch.randn(len(labels), self.num_particles, self.latent, generator=generator,
                                        device=labels.device)
        rank = noise[..., 0].argsort(1).argsort(1)  # mask_c: the N particles of smallest first noise feature
        mask = (rank < n[:, None]).float()
        x = self.generator(noise, mask, self.condition(labels))
        cloud = torch.cat([x[..., :2], (x[..., 2:] + 0.5).clamp_min(0.0)], -1) * self.feature_absmax
        return cloud * mask.unsqueeze(-1), mask

    def discriminate(self, cloud, mask, labels) -> torch.Tensor:
        mask = mask.to(cloud.dtype)
        return self.discriminator(self.scaled(cloud, mask), mask, self.condition(labels))

    def discriminator_loss(self, batch, fake, generator: torch.Generator | None = None) -> torch.Tensor:
        real = self.discriminate(batch["cloud"], batch["mask"], batch["label"])
        fake_score = self.discriminate(fake[0], fake[1], batch["label"])
        return ((real - 1) ** 2).mean() + (fake_score ** 2).mean()  # the authors' MSE losses, without the 1/2

    def generator_loss(self, fake, labels) -> torch.Tensor:
        return ((self.discriminate(fake[0], fake[1], labels) - 1) ** 2).mean()

    def configure_optimizers(self):
        return [torch.optim.RMSprop(self.generator.parameters(), lr=self.hparams.lr_generator),
                torch.optim.RMSprop(self.discriminator.parameters(), lr=self.hparams.lr_discriminator)]


class MPGANLite(MPGAN):
    """`mpgan-lite`: `mpgan` with edge network (32, 32, 32) and node network (32, 32), 13x fewer FLOPs per pair; the
    CPU tests' variant. Every argument of `mpgan` applies."""

    cpu_variant = None

    def __init__(self, edge_widths: tuple[int, ...] = (32, 32, 32), node_widths: tuple[int, ...] = (32, 32), **kwargs):
        super().__init__(edge_widths=edge_widths, node_widths=node_widths, **kwargs)
