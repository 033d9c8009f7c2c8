"""`cnn`: a 2D convolutional network on jet images.

The jet-image tagger of de Oliveira et al. (arXiv:1511.05190) and the CNN top tagger of
Kasieczka et al. (arXiv:1701.08784): blocks of 3x3 convolutions followed by 2x2 max
pooling, then a dense head. Depth (`filters`, one block per entry), width (the entries),
convolutions per block and the dense widths are configurable.

Input: `image` (B, 1, image_size, image_size), the per-pixel pT fraction of the jet.
Output: logits (B, num_classes).
"""

from __future__ import annotations

import torch
from torch import nn

from jetzoo.zoo.base import JetTagger
from jetzoo.zoo.mlp import ACTIVATIONS, Activation, dense_stack


class JetImageCNNBackbone(nn.Module):
    """Convolutional network on jet images (see the module docstring for the papers and shapes).

    Args:
        num_classes: number of classes (set from the data).
        image_size: pixels per side of the jet image (set from the data).
        filters: output channels of each convolution block (one block per entry, each ending in
            2x2 max pooling).
        convs_per_block: 3x3 convolutions per block.
        kernel_size: convolution kernel size.
        dense: widths of the dense layers after the convolutions.
        activation: activation after every convolution and dense layer.
        dropout: dropout probability in the dense layers.
        batch_norm: batch normalisation after every convolution.
        intensity_scale: the pT-fraction image is multiplied by this before the first convolution.
    """

    inputs = ("image",)
    input_view = "image"
    exportable = True
    compile_supported = True

    def __init__(
        self,
        num_classes: int = 2,
        image_size: int = 32,
        filters: list[int] = [16, 32, 64],  # noqa: B006 - jsonargparse shows the default
        convs_per_block: int = 2,
        kernel_size: int = 3,
        dense: list[int] = [64],  # noqa: B006
        activation: Activation = "relu",
        dropout: float = 0.1,
        batch_norm: bool = True,
        intensity_scale: float = 10.0,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}' ({', '.join(ACTIVATIONS)})")
        if not filters:
            raise ValueError("cnn needs at least one convolution block (filters=[...])")
        if convs_per_block < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError("convs_per_block must be >= 1 and kernel_size a positive odd number")
        self.intensity_scale = intensity_scale

        layers: list[nn.Module] = []
        channels, size = 1, image_size
        for width in filters:
            for _ in range(convs_per_block):
                layers.append(nn.Conv2d(channels, width, kernel_size, padding=kernel_size // 2, bias=not batch_norm))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(width))
                layers.append(ACTIVATIONS[activation]())
                channels = width
            if size >= 2:  # pool while there is something left to pool
                layers.append(nn.MaxPool2d(2))
                size //= 2
        self.features = nn.Sequential(*layers)
        flat = channels * size * size
        self.head = nn.Sequential(
            nn.Flatten(),
            dense_stack(dense, flat, activation, dropout),
            nn.Linear(dense[-1] if dense else flat, num_classes),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(image * self.intensity_scale))


class JetImageCNN(JetTagger):
    """`cnn`: convolutional network on jet images (de Oliveira et al.; Kasieczka et al.)."""

    recipe = "cnn"  # its training recipe (jetzoo/training/recipes/cnn.yaml)

    backbone_class = JetImageCNNBackbone
