"""`pfn` and `efn`: Particle Flow and Energy Flow Networks (Deep Sets for jets).

Komiske, Metodiev, Thaler, "Energy Flow Networks: Deep Sets for Particle Jets"
(arXiv:1810.05165). Both map each particle through a shared network Φ, sum over the
particles and classify the sum with a dense network F:

- PFN: F( Σ_i Φ(p_i) ), with p_i the standardised particle features.
- EFN: F( Σ_i z_i Φ(Δη_i, Δφ_i) ), z_i = pT_i / Σ_j pT_j. Φ sees only angles and the sum is
  linear in the pT fractions, so the EFN is infrared and collinear safe: a zero-pT particle
  adds nothing and splitting a particle into collinear fragments leaves the sum unchanged.

Defaults follow the paper: Φ sizes (100, 100, 128), F sizes (100, 100, 100), ReLU.
Both are invariant under permutations of the particles and under appending padding.

Input (`particles` view): PFN uses `features` (B, P, num_particle_features) and `mask` (B, P);
EFN uses `points` (B, P, 2) = (Δη, Δφ), `p4` (B, P, 4) = (px, py, pz, E) and `mask`.
Output: logits (B, num_classes).
"""

from __future__ import annotations

import torch
from torch import nn

from jetzoo.physics import kinematics
from jetzoo.zoo.base import JetTagger
from jetzoo.zoo.mlp import ACTIVATIONS, Activation, dense_stack


class _FlowNetworkBackbone(nn.Module):
    """Shared Φ / F construction; subclasses define the per-particle input and weights."""

    input_view = "particles"
    permutation_invariant = True
    exportable = True
    compile_supported = True

    def _build(self, phi_in: int, phi_sizes, f_sizes, num_classes, activation, dropout):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}' ({', '.join(ACTIVATIONS)})")
        if not phi_sizes:
            raise ValueError("phi_sizes needs at least one layer (the latent dimension)")
        self.phi = dense_stack(phi_sizes, phi_in, activation)
        self.f = dense_stack(f_sizes, phi_sizes[-1], activation, dropout)
        self.head = nn.Linear(f_sizes[-1] if f_sizes else phi_sizes[-1], num_classes)

    def classify(self, latent: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of F on the summed latent vector (B, latent)."""
        return self.head(self.f(latent))


class ParticleFlowNetworkBackbone(_FlowNetworkBackbone):
    """PFN: F(Σ_i Φ(p_i)) on the standardised particle features (see the module docstring).

    Args:
        num_classes: number of classes (set from the data).
        num_particle_features: features per particle (set from the data).
        phi_sizes: widths of the per-particle network Φ (the last is the latent dimension).
        f_sizes: widths of the network F on the summed latent vector.
        activation: activation of Φ and F.
        dropout: dropout probability in F.
    """

    inputs = ("features", "mask")

    def __init__(
        self,
        num_classes: int = 2,
        num_particle_features: int = 7,
        phi_sizes: list[int] = [100, 100, 128],  # noqa: B006 - jsonargparse shows the default
        f_sizes: list[int] = [100, 100, 100],  # noqa: B006
        activation: Activation = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        self._build(num_particle_features, phi_sizes, f_sizes, num_classes, activation, dropout)

    def latent(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Σ_i Φ(p_i) over the real particles: (B, latent)."""
        return (self.phi(features) * mask.unsqueeze(-1).to(features.dtype)).sum(1)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.classify(self.latent(features, mask))


class EnergyFlowNetworkBackbone(_FlowNetworkBackbone):
    """EFN: F(Σ_i z_i Φ(Δη_i, Δφ_i)), infrared and collinear safe (see the module docstring).

    Args:
        num_classes: number of classes (set from the data).
        phi_sizes: widths of the angular network Φ (the last is the latent dimension).
        f_sizes: widths of the network F on the pT-weighted sum.
        activation: activation of Φ and F.
        dropout: dropout probability in F.
        angle_scale: (Δη, Δφ) are multiplied by this before Φ. jetzoo's choice, not the authors':
            EnergyFlow's efn_example.py feeds Φ the centred (y, φ) unscaled, i.e. 1.0. 2.5 spreads an
            R = 0.8 jet's ±0.8 over about ±2 for Φ's first ReLU layer; a fixed factor, so IRC safety is kept.
    """

    inputs = ("points", "p4", "mask")

    def __init__(
        self,
        num_classes: int = 2,
        phi_sizes: list[int] = [100, 100, 128],  # noqa: B006 - jsonargparse shows the default
        f_sizes: list[int] = [100, 100, 100],  # noqa: B006
        activation: Activation = "relu",
        dropout: float = 0.0,
        angle_scale: float = 2.5,
    ):
        super().__init__()
        self.angle_scale = angle_scale
        self._build(2, phi_sizes, f_sizes, num_classes, activation, dropout)

    @staticmethod
    def energy_fractions(p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """z_i = pT_i / Σ_j pT_j over the real particles: (B, P); zero for padding."""
        pt = kinematics.pt(p4) * mask.to(p4.dtype)
        return pt / pt.sum(1, keepdim=True).clamp_min(torch.finfo(p4.dtype).tiny)

    def latent(self, points: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Σ_i z_i Φ(Δη_i, Δφ_i): (B, latent)."""
        z = self.energy_fractions(p4, mask)
        phi = self.phi(points * self.angle_scale)
        return (z.unsqueeze(-1).to(phi.dtype) * phi).sum(1)

    def forward(self, points: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.classify(self.latent(points, p4, mask))


class ParticleFlowNetwork(JetTagger):
    """`pfn`: Particle Flow Network, Deep Sets on the particle features (Komiske, Metodiev, Thaler)."""

    recipe = "pfn"  # its training recipe (jetzoo/training/recipes/pfn.yaml)

    backbone_class = ParticleFlowNetworkBackbone


class EnergyFlowNetwork(JetTagger):
    """`efn`: Energy Flow Network, IRC-safe Deep Sets on pT fractions and angles (Komiske, Metodiev, Thaler)."""

    recipe = "pfn"  # its training recipe (jetzoo/training/recipes/pfn.yaml)

    backbone_class = EnergyFlowNetworkBackbone
