"""`autoencoder` and `vae`: anomaly detection by reconstruction, trained on background (QCD) jets only.

Papers: dense autoencoders as anomaly taggers, Farina, Nakai & Shih, "Searching for New Physics
with Deep Autoencoders" (arXiv:1808.08992) and Heimel, Kasieczka, Plehn & Thompson, "QCD or
What?" (arXiv:1808.08979); the variational version after Cerri et al., "Variational
Autoencoders for New Physics Mining at the LHC" (arXiv:1811.10276).

Input (view "particles"): `features` (B, P, Fp) standardised and `mask` (B, P). The leading
n = min(num_constituents, num_particles) constituents (pT-ordered) and their mask are flattened
into one vector x of D = n (Fp + 1) values (padding is exactly zero) — a dense autoencoder on
the particle list. Few leading constituents (default 10) keep the score from being mostly a
multiplicity count: with 30, gluon (background) jets, the most complex ones at 1 TeV, score above
W and Z jets (anomaly AUC < 0.5 on hls4ml-5class), with 10 the AUCs are above 0.6 for W, Z and
0.8-0.9 for top (benchmarks/anomaly_leaderboard/, beside the single-observable baseline). The papers'
jet-image variant is `cnn-autoencoder` (jetzoo.zoo.image_autoencoder), the particle-graph one
`gnn-autoencoder` (jetzoo.zoo.graph_autoencoder).

Score (output of `forward`, (B,)): the reconstruction error mean_d (x_d - x̂_d)². For the VAE,
loss = mean over jets of (Σ_d (x_d - x̂_d)² + β KL(q(z|x) || N(0, 1))) / D (β = 2 is the exact
negative ELBO of a unit-variance Gaussian decoder, up to a constant); `score = "elbo"` scores with
that per-jet quantity, `score = "reco"` with its reconstruction term only, both with z = μ(x)
in eval mode so the score is deterministic.

Trained on `train_classes` (default: those of QCD, g, q present in the data); the datamodule
drops every other class from train and val; test reports `test/anomaly_auc_<class>` and
`test/rej30_<class>_vs_bkg` (signal class against the training classes) for each other class.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo.dense import tracing
from jetzoo.zoo.generative_base import AnomalyDetector
from jetzoo.zoo.mlp import ACTIVATIONS, Activation, dense_stack


class DenseAutoencoderBackbone(nn.Module):
    """Dense autoencoder on the leading constituents; the anomaly score is the reconstruction error.

    Papers: Farina, Nakai & Shih (arXiv:1808.08992); Heimel, Kasieczka, Plehn & Thompson
    (arXiv:1808.08979). Inputs `features` (B, P, F) and `mask` (B, P); output the per-jet score (B,)
    (see the module docstring).

    Args:
        num_particle_features: features per particle (set from the data).
        num_particles: particles per jet in the data (set from the data).
        num_constituents: leading constituents encoded (at most num_particles).
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        latent_dim: width of the bottleneck.
        activation: activation after every hidden layer.
    """

    inputs = ("features", "mask")
    input_view = "particles"
    exportable = True
    compile_supported = True

    def __init__(
        self,
        num_particle_features: int = 7,
        num_particles: int = 64,
        num_constituents: int = 10,
        hidden: list[int] = [256, 64],  # noqa: B006 - jsonargparse shows the default
        latent_dim: int = 8,
        activation: Activation = "elu",
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}' ({', '.join(ACTIVATIONS)})")
        self.latent_dim = latent_dim
        self.n_constituents = min(num_constituents, num_particles)
        self.input_dim = self.n_constituents * (num_particle_features + 1)
        widths = list(hidden)
        self.encoder = nn.Sequential(
            dense_stack(widths, self.input_dim, activation), nn.Linear(widths[-1] if widths else self.input_dim, self._latent_out(latent_dim))
        )
        self.decoder = nn.Sequential(
            dense_stack(widths[::-1], latent_dim, activation), nn.Linear(widths[0] if widths else latent_dim, self.input_dim)
        )

    def _latent_out(self, latent_dim: int) -> int:
        return latent_dim

    def flat_input(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, D): the leading constituents' features and mask, flattened; padded when P < n."""
        mask = mask.to(features.dtype)
        x = torch.cat([features * mask[..., None], mask[..., None]], -1)
        if tracing():  # P is a constant to Python while tracing: always pad, then cut
            x = F.pad(x, (0, 0, 0, self.n_constituents))
        x = x[:, : self.n_constituents]
        if x.shape[1] < self.n_constituents:
            x = F.pad(x, (0, 0, 0, self.n_constituents - x.shape[1]))
        return x.flatten(1)

    def reconstruction_error(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.flat_input(features, mask)
        return (self.decoder(self.encoder(x)) - x).pow(2).mean(-1)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.reconstruction_error(features, mask)

    def loss(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.reconstruction_error(features, mask).mean()


class VariationalAutoencoderBackbone(DenseAutoencoderBackbone):
    """Variational autoencoder on the leading constituents (Cerri et al., arXiv:1811.10276).

    Inputs and output as the autoencoder's; the score is the per-jet negative ELBO or its
    reconstruction term, with z = μ(x) (see the module docstring).

    Args:
        beta: weight of the KL term.
        score: the anomaly score, `elbo` or `reco` (reconstruction error alone).
    """

    def __init__(self, beta: float = 1.0, score: Literal["elbo", "reco"] = "elbo", **kwargs):
        if score not in ("elbo", "reco"):
            raise ValueError(f"unknown score '{score}' (elbo, reco)")
        super().__init__(**kwargs)
        self.beta, self.score = beta, score

    def _latent_out(self, latent_dim: int) -> int:
        return 2 * latent_dim  # mean and log-variance

    def terms(self, features: torch.Tensor, mask: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-jet (Σ_d squared error, KL) with z sampled (training) or z = μ."""
        x = self.flat_input(features, mask)
        mu, logvar = self.encoder(x).chunk(2, -1)
        logvar = logvar.clamp(-10, 10)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
        reco = (self.decoder(z) - x).pow(2).sum(-1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)
        return reco, kl

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        reco, kl = self.terms(features, mask, sample=False)
        value = reco + self.beta * kl if self.score == "elbo" else reco
        return value / self.input_dim

    def loss(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        reco, kl = self.terms(features, mask, sample=self.training)
        return ((reco + self.beta * kl) / self.input_dim).mean()


class Autoencoder(AnomalyDetector):
    """`autoencoder`: dense autoencoder anomaly detector, trained on background jets only."""

    backbone_class = DenseAutoencoderBackbone


class VariationalAutoencoder(Autoencoder):
    """`vae`: variational autoencoder anomaly detector, trained on background jets only."""

    backbone_class = VariationalAutoencoderBackbone
