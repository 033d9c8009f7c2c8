"""`cnn-autoencoder`: the convolutional autoencoder on jet images of M. Farina, Y. Nakai and D. Shih, "Searching for
New Physics with Deep Autoencoders", arXiv:1808.08992, trained on background jets only; the anomaly score is
the reconstruction error.

Architecture as the authors' Keras listing (reprinted with attribution in zichunhao/cnn-jet-autoencoder,
models/cnnae_fns.py, at 7477aa7): Conv(128, 3x3, ReLU), 2x2 max pool, Conv(128, 3x3, ReLU), 2x2 max pool,
Conv(128, 3x3, ReLU), flatten, Dense(32, ReLU), Dense(6) (the linear latent); decoder Dense(32, ReLU),
Dense(128 (S/4)^2, ReLU), reshape to (128, S/4, S/4), Conv(128, 3x3, ReLU), 2x upsampling, Conv(128, 3x3,
ReLU), 2x upsampling, Conv(1, 3x3) and a softmax over all pixels, so that the reconstruction sums to 1 as the
input does; the loss is the pixel MSE, Adam at Keras' default 1e-3 (jetzoo's `lr` default). The image is the
`image` view's (the pT-fraction image, centred, rotated, flipped: jetzoo's jet-image preprocessing, after
Macaluso and Shih, arXiv:1803.00107), normalised to unit sum; its side S must be a multiple of 4 (the
authors' 40: `--data.image_size 40`; 40 x 40 gives their Dense(12800)). The paper's own preprocessing and
training length could not be read here: what the view does is documented in jetzoo.datamodules.views.

Score (B,): the per-jet mean squared pixel difference between the unit-sum image and its reconstruction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo.autoencoder import Autoencoder


class ImageAutoencoderBackbone(nn.Module):
    """The Farina-Nakai-Shih convolutional autoencoder (see the module docstring).

    Args:
        image_size: pixels per side of the jet image (set from the data; a multiple of 4).
        channels: channels of every convolution.
        dense: width of the dense layers around the latent.
        latent_dim: width of the linear latent.
    """

    inputs = ("image",)
    input_view = "image"
    exportable = True
    compile_supported = True

    def __init__(self, image_size: int = 40, channels: int = 128, dense: int = 32, latent_dim: int = 6):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"cnn-autoencoder needs an image side that is a multiple of 4 (two 2x poolings and "
                             f"upsamplings), got {image_size}: use --data.image_size 40, the authors'")
        self.side, self.channels = image_size // 4, channels
        conv = lambda a, b: nn.Conv2d(a, b, 3, padding=1)  # noqa: E731 - Keras' 'same' padding
        self.encoder = nn.Sequential(
            conv(1, channels), nn.ReLU(), nn.MaxPool2d(2), conv(channels, channels), nn.ReLU(), nn.MaxPool2d(2),
            conv(channels, channels), nn.ReLU(), nn.Flatten(),
            nn.Linear(channels * self.side ** 2, dense), nn.ReLU(), nn.Linear(dense, latent_dim))
        self.expand = nn.Sequential(nn.Linear(latent_dim, dense), nn.ReLU(), nn.Linear(dense, channels * self.side ** 2),
                                    nn.ReLU())
        self.decoder = nn.Sequential(
            conv(channels, channels), nn.ReLU(), nn.Upsample(scale_factor=2),
            conv(channels, channels), nn.ReLU(), nn.Upsample(scale_factor=2), conv(channels, 1))

    def reconstruction_error(self, image: torch.Tensor) -> torch.Tensor:
        x = image / image.sum((-1, -2), keepdim=True).clamp_min(1e-12)  # unit-sum images, as the softmax output
        z = self.expand(self.encoder(x)).unflatten(1, (self.channels, self.side, self.side))
        logits = self.decoder(z)
        reco = F.softmax(logits.flatten(1), -1).view_as(x)
        return (reco - x).pow(2).flatten(1).mean(-1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.reconstruction_error(image)

    def loss(self, image: torch.Tensor) -> torch.Tensor:
        return self.reconstruction_error(image).mean()


class ImageAutoencoder(Autoencoder):
    """`cnn-autoencoder`: the Farina-Nakai-Shih convolutional autoencoder on jet images, trained on background jets."""

    backbone_class = ImageAutoencoderBackbone
    cpu_variant = "cnn-autoencoder-lite"  # the registry-wide CPU tests run on it: 128-channel convolutions are slow


class ImageAutoencoderLite(ImageAutoencoder):
    """`cnn-autoencoder-lite`: `cnn-autoencoder` with 16 channels, the CPU tests' variant."""

    backbone_defaults = {"channels": 16}
    cpu_variant = None
