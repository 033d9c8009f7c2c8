"""`particlenet`: ParticleNet, a dynamic-graph CNN on the particle cloud.

Paper: H. Qu and L. Gouskos, "ParticleNet: Jet Tagging via Particle Clouds", arXiv:1902.08570.

Input view `particles`: `features` (B, P, F) standardised, `points` (B, P, 2) = (Δη, Δφ),
`mask` (B, P) bool (padded entries are zero). Output: logits (B, num_classes).

Architecture (as in the paper and weaver-core's `ParticleNet`): input batch norm; EdgeConv blocks,
each building a k-nearest-neighbour graph (in (Δη, Δφ) for the first block, in the previous
block's feature space after), running a 3-layer MLP (linear, batch norm, ReLU) on every edge
(x_i, x_j - x_i), averaging over the neighbours and adding a (linear, batch norm) shortcut; the
concatenated block outputs are fused (linear, batch norm, ReLU); masked global average pooling;
dense layers with dropout. `config="full"`: k = 16, blocks (64,64,64), (128,128,128),
(256,256,256), dense 256; `config="lite"`: k = 7, (32,32,32), (64,64,64), dense 128. `k`,
`conv_widths`, `fc_widths` override the chosen configuration.

Padded particles are dropped before any computation: the network runs on the packed real
particles (N, C) of the whole batch, so padded particles never become neighbours, never send
messages and never enter batch-norm statistics. A jet with fewer than k + 1 real particles
averages over the neighbours it has.

Implementation, chosen by measurement (benchmarks/weaver_comparison.md): kNN is a dense
`topk` on the (B, P, P) squared distances (P cut to the largest multiplicity in the batch; no
pyg-lib/torch-cluster needed). The edge MLP's first layer Θ (x_i, x_j - x_i) is evaluated as
(Θ_1 - Θ_2) x_i + Θ_2 x_j: two projections per particle and one gather + add per edge instead
of a matrix product per edge (same parameters and function as the paper); in eval mode batch
norms are folded into the linear maps. Throughput relative to weaver-core's dense [B, C, P, k]
`ParticleNet` on the same real jets (P = 64, 1 thread of the 2-core CPU, training / inference):
this implementation 1.66x / 1.43x (lite, B = 128) and 1.78x / 1.24x (full, B = 32);
torch-geometric's `EdgeConv` on the same kNN graph 1.46x / 1.10x and 1.30x / 0.82x, so it is
not used. Test AUC equal within the seed spread (0.938 vs 0.939, 5 seeds, lite).

Dense path (`jetzoo.zoo.dense`: export, `torch.compile`, `dense_path = True`; eval mode only, since
training-mode batch norm would see the padded rows): the same network on all B * P rows, with
neighbour indices into the padded rows, no `nonzero()` and no cut of P; padded rows never become
neighbours and are left out of the pooling, so the logits equal the packed path's. While tracing,
k padded particles are appended so that the kNN's `topk` always has k candidates.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from jetzoo.zoo import onednn
from jetzoo.zoo.base import JetTagger
from jetzoo.zoo.dense import tracing, use_dense
from jetzoo.zoo.mlp import dense_stack

CONFIGS = {
    "full": {"k": 16, "conv_widths": [[64, 64, 64], [128, 128, 128], [256, 256, 256]], "fc_widths": [256]},
    "lite": {"k": 7, "conv_widths": [[32, 32, 32], [64, 64, 64]], "fc_widths": [128]},
}


def left_align(mask: torch.Tensor, *tensors: torch.Tensor):
    """Move real particles to the front (stable order) when the mask is not left-aligned, then cut
    P to the largest multiplicity in the batch (at least 1). Returns (mask, *tensors)."""
    counts = mask.sum(1)
    if not bool((mask == (torch.arange(mask.size(1), device=mask.device) < counts[:, None])).all()):
        order = torch.argsort((~mask).to(torch.uint8), dim=1, stable=True)
        mask = mask.gather(1, order)
        tensors = tuple(t.gather(1, order[..., None].expand_as(t)) for t in tensors)
    p = max(int(counts.max()), 1)
    return (mask[:, :p], *(t[:, :p] for t in tensors))


@torch.no_grad()
def knn(coords: torch.Tensor, mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """k nearest real neighbours of every particle, excluding itself.

    coords (B, P, C), mask (B, P) bool. Returns `idx` (B, P, k') int64 indices into P and
    `valid` (B, P, k') bool, k' = min(k, P): `valid` is False where fewer than k' other real
    particles exist (those slots hold padded or self indices and must be ignored).
    """
    b, p, _ = coords.shape
    k = min(k, p)
    coords = coords.float()  # distances in fp32 whatever the precision: bf16 ones would change the neighbours
    with torch.autocast(coords.device.type, enabled=False):
        sq = coords.square().sum(-1)
        dist = torch.baddbmm(sq[:, :, None] + sq[:, None, :], coords, coords.transpose(1, 2), alpha=-2.0)
    position = torch.arange(p, device=coords.device)
    eye = position[:, None] == position[None, :]  # not torch.eye: onnxruntime has no bool EyeLike
    dist.masked_fill_(~mask[:, None, :] | eye, float("inf"))
    idx = dist.topk(k, dim=-1, largest=False, sorted=False).indices
    valid = mask.gather(1, idx.view(b, -1)).view(b, p, k) & (idx != position[:, None])
    return idx, valid & mask[:, :, None]


def bn_affine(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) of an eval-mode batch norm: bn(x) = x * scale + shift."""
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


class LinearBN(nn.Module):
    """Linear (no bias) + BatchNorm1d on (rows, C); in eval mode folded into one affine map."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.bn = nn.BatchNorm1d(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.bn(onednn.linear(x, self.linear.weight))
        scale, shift = bn_affine(self.bn)
        return onednn.linear(x, self.linear.weight * scale[:, None], shift)


class EdgeConvBlock(nn.Module):
    """EdgeConv on packed particles: h (N, C_in), nbr (N, k) packed neighbour indices,
    weight (N, k) = 1/n_valid for real neighbours, 0 otherwise. Returns (N, C_out)."""

    def __init__(self, in_features: int, widths: list[int]):
        super().__init__()
        self.first = nn.Linear(2 * in_features, widths[0], bias=False)  # Θ acting on (x_i, x_j - x_i)
        self.first_bn = nn.BatchNorm1d(widths[0])
        self.layers = nn.ModuleList(LinearBN(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.shortcut = None if in_features == widths[-1] else LinearBN(in_features, widths[-1])

    def forward(self, h: torch.Tensor, nbr: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        n, k = nbr.shape
        # Θ (x_i, x_j - x_i) = (Θ_1 - Θ_2) x_i + Θ_2 x_j: two per-particle projections, one gather per edge
        theta_1, theta_2 = self.first.weight.chunk(2, dim=1)
        w_self, w_nbr = theta_1 - theta_2, theta_2
        if self.training:
            edges = self.first_bn((onednn.linear(h, w_self)[:, None, :] + onednn.linear(h, w_nbr)[nbr]).reshape(n * k, -1))
        else:  # batch norm folded into the per-particle projections
            scale, shift = bn_affine(self.first_bn)
            w_self, w_nbr = w_self * scale[:, None], w_nbr * scale[:, None]
            edges = (onednn.linear(h, w_self, shift)[:, None, :] + onednn.linear(h, w_nbr)[nbr]).reshape(n * k, -1)
        edges = torch.relu_(edges)
        for layer in self.layers:
            edges = torch.relu_(layer(edges))
        # masked mean over neighbours: a product and a sum, 2.3-2.8x faster (forward + backward) than the tiny (1, k)
        # @ (k, C) products of a bmm (issue 21)
        agg = (edges.view(n, k, -1) * weight[..., None]).sum(1)
        return torch.relu_((h if self.shortcut is None else self.shortcut(h)) + agg)


class ParticleNetBackbone(nn.Module):
    """ParticleNet, EdgeConv blocks on the particle cloud (see the module docstring for the paper and
    shapes); `particlenet-lite` is its CPU configuration.

    Args:
        num_classes: number of classes (set from the data).
        num_particle_features: features per particle (set from the data).
        config: `full` (the paper's) or `lite`; the three arguments below override it.
        k: neighbours of every particle in each EdgeConv block.
        conv_widths: the widths of each EdgeConv block's three edge layers, one list per block.
        fc_widths: widths of the dense layers after pooling.
        dropout: dropout probability in the dense layers.
        fusion: fuse the concatenated block outputs (linear, batch norm, ReLU) before pooling.
    """

    inputs = ("features", "points", "mask")
    input_view = "particles"
    permutation_invariant = True
    exportable = True
    compile_supported = True
    compile_in_training = False  # training keeps the packed path (its batch norm skips padding)
    dense_path = False  # True: always the dense path (see jetzoo.zoo.dense)

    def __init__(
        self,
        num_classes: int = 2,
        num_particle_features: int = 7,
        config: Literal["full", "lite"] = "full",
        k: int | None = None,
        conv_widths: list[list[int]] | None = None,
        fc_widths: list[int] | None = None,
        dropout: float = 0.1,
        fusion: bool = True,
    ):
        super().__init__()
        if config not in CONFIGS:
            raise ValueError(f"unknown ParticleNet config '{config}' ({', '.join(CONFIGS)})")
        cfg = CONFIGS[config]
        self.config = config
        self.k = int(k if k is not None else cfg["k"])
        conv_widths = [list(w) for w in (conv_widths if conv_widths is not None else cfg["conv_widths"])]
        fc_widths = list(fc_widths if fc_widths is not None else cfg["fc_widths"])
        if self.k < 1 or not conv_widths or any(not w for w in conv_widths):
            raise ValueError("ParticleNet needs k >= 1 and at least one non-empty EdgeConv block")

        self.input_bn = nn.BatchNorm1d(num_particle_features)
        self.blocks = nn.ModuleList()
        c_in = num_particle_features
        for widths in conv_widths:
            self.blocks.append(EdgeConvBlock(c_in, widths))
            c_in = widths[-1]
        if fusion:
            c_cat = sum(w[-1] for w in conv_widths)
            c_in = min(max((c_cat // 128) * 128, 128), 1024)  # weaver-core's fusion width
            self.fusion: nn.Module | None = nn.Sequential(LinearBN(c_cat, c_in), nn.ReLU())
        else:
            self.fusion = None
        self.fc = dense_stack(fc_widths, c_in, "relu", dropout)
        self.head = nn.Linear(fc_widths[-1] if fc_widths else c_in, num_classes)

    def _graph(self, coords: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, packed_of: torch.Tensor):
        """kNN graph as packed neighbour indices (N, k) and averaging weights (N, k)."""
        b, p = mask.shape
        idx, valid = knn(coords, mask, self.k)
        flat = (idx + (torch.arange(b, device=idx.device) * p)[:, None, None]).view(b * p, -1)[rows]
        valid = valid.view(b * p, -1)[rows]
        self_idx = torch.arange(rows.numel(), device=rows.device)[:, None]
        nbr = torch.where(valid, packed_of[flat], self_idx)
        weight = valid.to(coords.dtype)
        return nbr, weight / weight.sum(1, keepdim=True).clamp(min=1)

    def forward(self, features: torch.Tensor, points: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if use_dense(self, exact_in_training=False):
            return self.forward_dense(features, points, mask.bool())
        mask, feats, points = left_align(mask.bool(), features, points)
        b, p = mask.shape
        rows = mask.reshape(-1).nonzero().squeeze(1)  # flat (b * p + i) index of every real particle
        packed_of = torch.full((b * p,), -1, dtype=torch.long, device=mask.device)
        packed_of[rows] = torch.arange(rows.numel(), device=mask.device)

        h = self.input_bn(feats.reshape(b * p, -1)[rows])
        coords = points.to(h.dtype)
        outputs = []
        for i, block in enumerate(self.blocks):
            if i > 0:  # dynamic graph: neighbours in the current feature space
                coords = h.detach().new_zeros(b * p, h.size(1)).index_copy_(0, rows, h.detach()).view(b, p, -1)
            nbr, weight = self._graph(coords, mask, rows, packed_of)
            h = block(h, nbr, weight)
            outputs.append(h)
        if self.fusion is not None:
            h = self.fusion(torch.cat(outputs, dim=1))

        jet = rows // p
        counts = mask.sum(1).clamp(min=1).to(h.dtype)[:, None]
        pooled = h.new_zeros(b, h.size(1)).index_add_(0, jet, h) / counts
        return self.head(self.fc(pooled))

    def forward_dense(self, feats: torch.Tensor, points: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The sync-free path on the padded tensors (B, P, F), (B, P, 2), (B, P): logits (B, num_classes)."""
        if tracing():  # P is a constant to Python while tracing: make sure topk always has k candidates
            feats, points = (torch.nn.functional.pad(t, (0, 0, 0, self.k)) for t in (feats, points))
            mask = torch.nn.functional.pad(mask, (0, self.k))
        b, p = mask.shape
        offsets = (torch.arange(b, device=mask.device) * p)[:, None, None]
        self_idx = torch.arange(b * p, device=mask.device).view(b, p, 1)
        h = self.input_bn(feats.reshape(b * p, -1))
        coords = points.to(h.dtype)
        outputs = []
        for i, block in enumerate(self.blocks):
            if i > 0:
                coords = h.detach().view(b, p, -1)
            idx, valid = knn(coords, mask, self.k)
            nbr = torch.where(valid, idx + offsets, self_idx).view(b * p, -1)
            weight = valid.to(h.dtype).view(b * p, -1)
            h = block(h, nbr, weight / weight.sum(1, keepdim=True).clamp(min=1))
            outputs.append(h)
        if self.fusion is not None:
            h = self.fusion(torch.cat(outputs, dim=1))
        real = mask.to(h.dtype)[..., None]
        pooled = (h.view(b, p, -1) * real).sum(1) / real.sum(1).clamp(min=1)
        return self.head(self.fc(pooled))


class ParticleNet(JetTagger):
    """`particlenet`: ParticleNet, dynamic-graph EdgeConv on the particle cloud (Qu & Gouskos), the paper's size."""

    recipe = "particlenet"  # its training recipe (jetzoo/training/recipes/particlenet.yaml)

    backbone_class = ParticleNetBackbone
    cpu_variant = "particlenet-lite"  # the registry name the CPU tests and benchmarks use


class ParticleNetLite(ParticleNet):
    """`particlenet-lite`: ParticleNet in its CPU configuration, `particlenet` with `config="lite"`
    (k = 7, EdgeConv blocks (32,32,32) and (64,64,64), dense 128); every argument of `particlenet` applies."""

    backbone_defaults = {"config": "lite"}
    cpu_variant = None
