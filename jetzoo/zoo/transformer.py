"""`part` (and `part-lite`): Particle Transformer (ParT), self-attention with pairwise-interaction bias.

Registry names: `part` (`config="full"`), `part-lite` (`config="lite"`); `transformer`, the name before
jetzoo 0.2, still resolves to `part` with a deprecation warning (jetzoo.registry.DEPRECATED_NAMES).

Paper: H. Qu, C. Li and S. Qian, "Particle Transformer for Jet Tagging", arXiv:2202.03772.

Input view `particles`: `features` (B, P, F) standardised, `p4` (B, P, 4) = (px, py, pz, E),
`mask` (B, P) bool (padded entries are zero). Output: logits (B, num_classes).

Architecture, as in the paper (and weaver-core's `ParticleTransformer`, version 1): per-particle
embedding (input batch norm, then layer norm / linear / GELU per width); pairwise features
(ln Δ, ln kT, ln z, ln m^2, `jetzoo.zoo.pairwise`) of every pair of real particles, embedded by
1x1 layers (linear, batch norm, GELU; no activation after the last) into one bias per head;
particle-attention blocks (NormFormer style: pre/post attention layer norm, per-head scaling,
pre/post FFN layer norm, residual scaling) whose attention logits get that bias; class-attention
blocks (CaiT; the query is the class token, keys and values the layer-normed [class, particles])
with a learned class token; final layer norm and a linear head. Initialisation as the reference.
`config="full"`: embedding (128, 512, 128), pair embedding (64, 64, 64), 8 heads, 8 blocks, 2
class blocks, FFN ratio 4, dropout 0.1. `config="lite"`: embedding (64, 64), pair embedding (32,
32), 4 heads, 3 blocks, 1 class block. Every entry can be overridden.

Padding: P is cut to the largest real multiplicity in the batch; embeddings and pair features
are computed on real particles (and on the i <= j real pairs only, the bias being symmetric),
so padding never enters batch-norm statistics; padded keys are masked with -inf in the single
float `attn_mask` (pair bias + key mask, built once per batch) that
`torch.nn.functional.scaled_dot_product_attention` receives in every block.

Speed (benchmarks/weaver_comparison.md): dropout masks come from `rand` rather than Bernoulli
sampling (the same distribution, about half the CPU time; dropout is a large share of a CPU
training step), and in training, where attention dropout rules out the fused SDPA kernels anyway,
attention is computed explicitly with that dropout; inference always uses SDPA. Against
weaver-core at identical configuration on the same real jets (P = 64, 1 CPU thread), training /
inference throughput: 1.26x / 1.07x (lite, B = 64), 1.20x / 1.14x (full, B = 32); the same logits
given the same weights, and test AUC within the seed spread.

Dense path (`jetzoo.zoo.dense`: export, `torch.compile`, `dense_path = True`; eval mode only, since
training-mode batch norm would see padded particles and pairs): the same network on the full
padded (B, P) tensors, no `nonzero()` and no cut of P; the pair features of all (i, j) pairs are
embedded and zeroed where either end is padded, padded keys masked as in the packed path, so the
logits equal the packed path's.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo import onednn
from jetzoo.zoo.base import JetTagger
from jetzoo.zoo.batchnorm_fold import bn_linear_bn, foldable
from jetzoo.zoo.dense import use_dense
from jetzoo.zoo.dropout import Dropout, dropout
from jetzoo.zoo.pairwise import PAIR_FEATURE_NAMES, pairwise_features
from jetzoo.zoo.particlenet import left_align

CONFIGS = {
    "full": {"embed_dims": [128, 512, 128], "pair_embed_dims": [64, 64, 64], "num_heads": 8, "num_blocks": 8,
             "num_class_blocks": 2},
    "lite": {"embed_dims": [64, 64], "pair_embed_dims": [32, 32], "num_heads": 4, "num_blocks": 3,
             "num_class_blocks": 1},
}


class Attention(nn.Module):
    """Multi-head attention (SDPA, or written out in training with dropout); the projected output is
    scaled per head-sized channel group (`c_attn` of the reference implementation)."""

    def __init__(self, dim: int, num_heads: int, dropout: float):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embedding width {dim} is not divisible by num_heads={num_heads}")
        self.num_heads, self.dropout = num_heads, dropout
        self.in_proj = nn.Linear(dim, 3 * dim)
        self.head_scale = nn.Parameter(torch.ones(num_heads))
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, query: torch.Tensor, kv: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        b, t, d = query.shape
        w, bias = self.in_proj.weight, self.in_proj.bias
        if query is kv:
            q, k, v = onednn.linear(query, w, bias).chunk(3, dim=-1)
        else:
            q = onednn.linear(query, w[:d], bias[:d])
            k, v = onednn.linear(kv, w[d:], bias[d:]).chunk(2, dim=-1)
        q, k, v = (z.unflatten(-1, (self.num_heads, -1)).transpose(1, 2) for z in (q, k, v))
        if self.training and self.dropout > 0:  # what SDPA's math path does, with the faster dropout
            q = q * q.size(-1) ** -0.5  # scaled before the product: (B, H, T, D) is smaller than the scores
            scores = onednn.matmul(q, k.transpose(-1, -2).contiguous())
            scores = scores + attn_mask if attn_mask.is_floating_point() else scores.masked_fill(~attn_mask, float("-inf"))
            out = onednn.matmul(dropout(torch.softmax(scores, dim=-1), self.dropout, True), v.contiguous())
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask)
        out = onednn.linear(out.transpose(1, 2).reshape(b, t, d), self.out_proj.weight, self.out_proj.bias)
        return (out.unflatten(-1, (self.num_heads, -1)) * self.head_scale[:, None]).flatten(-2)


class Block(nn.Module):
    """Particle-attention block (x_cls=None) or class-attention block (x_cls = (B, 1, D))."""

    def __init__(self, dim: int, num_heads: int, ffn_ratio: int, dropout: float):
        super().__init__()
        self.pre_attn_norm = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads, dropout)
        self.post_attn_norm = nn.LayerNorm(dim)
        self.pre_fc_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn_ratio * dim)
        self.post_fc_norm = nn.LayerNorm(ffn_ratio * dim)
        self.fc2 = nn.Linear(ffn_ratio * dim, dim)
        self.resid_scale = nn.Parameter(torch.ones(dim))
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor, x_cls: torch.Tensor | None = None) -> torch.Tensor:
        if x_cls is None:
            residual = x
            u = self.pre_attn_norm(x)
            x = self.attn(u, u, attn_mask)
        else:
            residual = x_cls
            u = self.pre_attn_norm(torch.cat((x_cls, x), dim=1))
            x = self.attn(x_cls, u, attn_mask)  # query: the raw class token, as in the reference code
        x = self.drop(self.post_attn_norm(x)) + residual
        residual = x
        x = self.drop(F.gelu(onednn.linear(self.pre_fc_norm(x), self.fc1.weight, self.fc1.bias)))
        x = self.drop(onednn.linear(self.post_fc_norm(x), self.fc2.weight, self.fc2.bias))
        return x + self.resid_scale * residual

PAIR_BLOCK = 8192  # rows of pairs per block in eval mode (ParticleTransformerBackbone.embed_pairs)


def _pointwise_stack(in_dim: int, dims: list[int], norm_first: nn.Module, final_act: bool) -> nn.Sequential:
    layers: list[nn.Module] = [norm_first]
    for dim in dims:
        layers += [nn.Linear(in_dim, dim, bias=False), nn.BatchNorm1d(dim), nn.GELU()]
        in_dim = dim
    return nn.Sequential(*(layers if final_act else layers[:-1]))


class ParticleTransformerBackbone(nn.Module):
    """Particle Transformer (ParT), attention with pairwise-interaction bias (see the module docstring
    for the paper and shapes); `part-lite` is its CPU configuration.

    Args:
        num_classes: number of classes (set from the data).
        num_particle_features: features per particle (set from the data).
        config: `full` (the paper's) or `lite`; the five arguments below override it.
        embed_dims: widths of the per-particle embedding (the last is the attention width).
        pair_embed_dims: widths of the pairwise-feature embedding (one bias per head follows).
        num_heads: attention heads (must divide the attention width).
        num_blocks: particle-attention blocks.
        num_class_blocks: class-attention blocks.
        ffn_ratio: feed-forward width as a multiple of the attention width.
        dropout: dropout probability in the particle-attention blocks.
    """

    inputs = ("features", "p4", "mask")
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
        embed_dims: list[int] | None = None,
        pair_embed_dims: list[int] | None = None,
        num_heads: int | None = None,
        num_blocks: int | None = None,
        num_class_blocks: int | None = None,
        ffn_ratio: int = 4,
        dropout: float = 0.1,
    ):
        super().__init__()
        if config not in CONFIGS:
            raise ValueError(f"unknown ParticleTransformer config '{config}' ({', '.join(CONFIGS)})")
        given = {"embed_dims": embed_dims, "pair_embed_dims": pair_embed_dims, "num_heads": num_heads,
                 "num_blocks": num_blocks, "num_class_blocks": num_class_blocks}
        cfg = {key: (value if value is not None else CONFIGS[config][key]) for key, value in given.items()}
        if not cfg["embed_dims"]:
            raise ValueError("ParticleTransformer needs at least one embedding width")
        dim, heads = cfg["embed_dims"][-1], cfg["num_heads"]
        self.config = config
        self.num_heads = heads

        self.input_bn = nn.BatchNorm1d(num_particle_features)
        embed: list[nn.Module] = []
        in_dim = num_particle_features
        for width in cfg["embed_dims"]:
            embed += [nn.LayerNorm(in_dim), nn.Linear(in_dim, width), nn.GELU()]
            in_dim = width
        self.embed = nn.Sequential(*embed)
        n_pair = len(PAIR_FEATURE_NAMES)
        self.pair_embed = _pointwise_stack(n_pair, [*cfg["pair_embed_dims"], heads], nn.BatchNorm1d(n_pair), False)
        self.blocks = nn.ModuleList(Block(dim, heads, ffn_ratio, dropout) for _ in range(cfg["num_blocks"]))
        self.class_blocks = nn.ModuleList(Block(dim, heads, ffn_ratio, 0.0) for _ in range(cfg["num_class_blocks"]))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        self._init_weights()

    def _init_weights(self):
        """MoCo-v3 / ParT initialisation: Xavier-uniform linears (q, k, v separately; the pair embedding
        keeps PyTorch's default, like the reference 1x1 convolutions), zero biases, the
        residual-branch outputs of block l scaled by 1/sqrt(2 l)."""
        for name, module in self.named_modules():
            if isinstance(module, nn.Linear) and not name.startswith("pair_embed"):
                if name.endswith("in_proj"):
                    val = math.sqrt(6.0 / (module.weight.shape[0] // 3 + module.weight.shape[1]))
                    nn.init.uniform_(module.weight, -val, val)
                else:
                    nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        with torch.no_grad():
            for layer, block in enumerate(self.blocks, start=1):
                block.attn.out_proj.weight.div_(math.sqrt(2.0 * layer))
                block.fc2.weight.div_(math.sqrt(2.0 * layer))
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def pair_inputs(self, p4_a: torch.Tensor, p4_b: torch.Tensor) -> torch.Tensor:
        """The pairwise features of (a, b), computed in float32 whatever the model's precision, then given the
        pair embedding's dtype. In bfloat16 (8 mantissa bits) E - pz and E^2 - p^2 cancel to garbage: a bf16-mixed
        fit of part-lite gave NaN at its first step (issue 21)."""
        u = pairwise_features(p4_a.float(), p4_b.float())
        return u.to(self.pair_embed[0].weight.dtype)

    def embed_pairs(self, u: torch.Tensor) -> torch.Tensor:
        """The pair embedding of pairwise features u (N, 4): its leading batch norm, linear and batch norm as one
        affine map (`jetzoo.zoo.batchnorm_fold`, the same function) where they fold, its linears in oneDNN. In
        eval mode every layer acts row by row, so the rows go through in blocks of PAIR_BLOCK that keep the
        (rows, 32) intermediates in cache: half the time of whole-tensor passes (30.7 -> 14.3 ms, 118k pairs)."""
        layers = list(self.pair_embed)
        fold = len(layers) >= 3 and foldable(*layers[:3], u)

        def run(rows: torch.Tensor) -> torch.Tensor:
            return onednn.run(layers[3:], bn_linear_bn(*layers[:3], rows)) if fold else onednn.run(layers, rows)

        if any(layer.training for layer in layers) or u.size(0) <= PAIR_BLOCK:
            return run(u)
        return torch.cat([run(rows) for rows in u.split(PAIR_BLOCK)])

    def pair_bias(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Embedded pairwise features as an attention bias (B, H, P, P); zero where either is padded."""
        b, p = mask.shape
        ti, tj = torch.triu_indices(p, p, device=mask.device)
        jet, t = (mask[:, ti] & mask[:, tj]).nonzero(as_tuple=True)
        i, j = ti[t], tj[t]
        with torch.no_grad():
            u = self.pair_inputs(p4[jet, i], p4[jet, j])
        e = self.embed_pairs(u)
        bias = e.new_zeros(b, p, p, self.num_heads).index_put((jet, i, j), e).index_put((jet, j, i), e)
        return bias.permute(0, 3, 1, 2)

    def forward(self, features: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if use_dense(self, exact_in_training=False):
            return self.forward_dense(features, p4, mask.bool())
        mask, feats, p4 = left_align(mask.bool(), features, p4)
        b, p = mask.shape
        real = mask.nonzero(as_tuple=True)
        h = onednn.run(self.embed, self.input_bn(feats[real]))
        x = h.new_zeros(b, p, h.size(1)).index_put(real, h)
        return self.attend(x, self.pair_bias(p4, mask), mask)

    def forward_dense(self, feats: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The sync-free path on the padded tensors (B, P, F), (B, P, 4), (B, P): logits (B, num_classes)."""
        b, p = mask.shape
        h = self.embed(self.input_bn(feats.reshape(b * p, -1))).view(b, p, -1)
        x = h * mask[..., None].to(h.dtype)
        with torch.no_grad():
            u = self.pair_inputs(p4[:, :, None, :], p4[:, None, :, :])
        e = self.pair_embed(u.reshape(b * p * p, -1)).view(b, p, p, -1)
        # where, not a product: padded pairs may hold NaN (onnxruntime's atan2 of (0, 0)), never to propagate
        pairs = (mask[:, :, None] & mask[:, None, :])[..., None]
        return self.attend(x, torch.where(pairs, e, torch.zeros_like(e)).permute(0, 3, 1, 2), mask)

    def attend(self, x: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Particle blocks, class blocks and head on embedded particles x (B, P, D) (zero where padded),
        the pair bias (B, H, P, P) and the mask (B, P)."""
        b = mask.size(0)
        # an empty jet attends to its first (zero) slot instead of giving NaN
        first = torch.arange(mask.size(1), device=mask.device) == 0
        keys = mask | (first[None, :] & ~mask.any(1, keepdim=True))
        attn_mask = bias.masked_fill(~keys[:, None, None, :], float("-inf"))
        for block in self.blocks:
            x = block(x, attn_mask)

        cls_keys = torch.cat((keys.new_ones(b, 1), keys), dim=1)[:, None, None, :]
        x_cls = self.cls_token.expand(b, -1, -1)
        for block in self.class_blocks:
            x_cls = block(x, cls_keys, x_cls=x_cls)
        return onednn.linear(self.norm(x_cls.squeeze(1)), self.head.weight, self.head.bias)


class ParticleTransformer(JetTagger):
    """`part`: Particle Transformer (ParT), attention with pairwise-interaction bias (Qu, Li, Qian), the paper's size."""

    recipe = "part"  # its training recipe (jetzoo/training/recipes/part.yaml)

    backbone_class = ParticleTransformerBackbone
    cpu_variant = "part-lite"  # the registry name the CPU tests and benchmarks use


class ParticleTransformerLite(ParticleTransformer):
    """`part-lite`: ParT in its CPU configuration, `part` with `config="lite"` (embedding (64, 64), pair
    embedding (32, 32), 4 heads, 3 blocks, 1 class block); every argument of `part` applies."""

    backbone_defaults = {"config": "lite"}
    cpu_variant = None
