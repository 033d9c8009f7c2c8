"""The CPU fast paths of issue 21 compute the same functions as the plain modules, to float rounding:
oneDNN-routed products, the folded pair-embedding batch norms, the 16-bit dropout mask, and ParT's fp32
path as a whole against a float64 copy of itself."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.zoo import batchnorm_fold, onednn
from jetzoo.zoo.dropout import dropout
from test_zoo_graphmodels import synthetic_batch


def _precision():
    return torch.backends.mkldnn.matmul.fp32_precision


@pytest.mark.skipif(not onednn.stays_fp32(), reason="oneDNN does not keep fp32 products in fp32 on this CPU "
                                                    "(or is unavailable): jetzoo does not route them")
def test_routed_products_are_fp32_accurate_and_leave_the_global_setting_alone():
    torch.manual_seed(0)
    before = _precision()
    x = torch.randn(300, 4, requires_grad=True)
    layer = nn.Linear(4, 32)
    a, b = torch.randn(2, 3, 9, 16, requires_grad=True), torch.randn(2, 3, 16, 9, requires_grad=True)
    outputs = [onednn.linear(x, layer.weight, layer.bias), onednn.matmul(a, b)]
    assert _precision() == before  # the permission is set around jetzoo's products only
    sum(o.square().sum() for o in outputs).backward()
    assert _precision() == before
    leaves = [x, layer.weight, layer.bias, a, b]
    routed_grads = [t.grad.clone() for t in leaves]
    exact = [t.detach().double().requires_grad_() for t in leaves]
    ref = [F.linear(*exact[:3]), exact[3] @ exact[4]]
    sum(o.square().sum() for o in ref).backward()
    for out, r in zip(outputs, ref):
        torch.testing.assert_close(out.double(), r.detach(), rtol=1e-5, atol=1e-5)
    for g, t in zip(routed_grads, exact):
        torch.testing.assert_close(g.double(), t.grad, rtol=1e-5, atol=1e-4)


def _stack(momentum):
    torch.manual_seed(1)
    layers = [nn.BatchNorm1d(4, momentum=momentum), nn.Linear(4, 32, bias=False), nn.BatchNorm1d(32, momentum=momentum)]
    with torch.no_grad():
        for bn in (layers[0], layers[2]):
            bn.weight.uniform_(0.5, 2.0)
            bn.bias.uniform_(-1.0, 1.0)
    return [m.double() for m in layers]


@pytest.mark.parametrize("momentum", [0.1, None])
def test_folded_batch_norms_are_the_modules(momentum):
    """bn -> linear -> bn as one affine map (training: batch statistics and running-statistics updates,
    two steps; then eval: running statistics), against the modules, in float64."""
    folded, modules = _stack(momentum), _stack(momentum)
    gen = torch.Generator().manual_seed(2)
    for step in range(2):
        u = torch.randn(500, 4, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 3.0, 0.5, 2.0]) + step
        weights = torch.randn(500, 32, generator=gen, dtype=torch.float64)
        for stack in (folded, modules):
            for m in stack:
                m.zero_grad(set_to_none=True)
        assert batchnorm_fold.foldable(*folded, u)
        out = batchnorm_fold.bn_linear_bn(*folded, u)
        ref = nn.Sequential(*modules)(u)
        torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
        (out * weights).sum().backward()
        (ref * weights).sum().backward()
        for p, q in zip([p for m in folded for p in m.parameters()], [p for m in modules for p in m.parameters()]):
            assert p.grad is not None  # beta_in too (zero): an optimiser would skip a None
            torch.testing.assert_close(p.grad, q.grad, rtol=0, atol=1e-9)
        for x, y in zip([b for m in folded for b in m.buffers()], [b for m in modules for b in m.buffers()]):
            torch.testing.assert_close(x, y, rtol=0, atol=1e-12)
    for m in folded + modules:
        m.eval()
    u = torch.randn(50, 4, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(batchnorm_fold.bn_linear_bn(*folded, u), nn.Sequential(*modules)(u), rtol=0, atol=1e-12)


def test_fold_declines_what_it_cannot_do():
    layers = _stack(0.1)
    assert not batchnorm_fold.foldable(*layers, torch.randn(1, 4, dtype=torch.float64))  # one row: BN raises
    assert not batchnorm_fold.foldable(*layers, torch.randn(5, 4, dtype=torch.float64, requires_grad=True))
    layers[2].eval()
    assert not batchnorm_fold.foldable(*layers, torch.randn(5, 4, dtype=torch.float64))  # mixed modes


def test_dropout_keeps_the_expectation_and_the_rate():
    torch.manual_seed(3)
    x = torch.ones(400_000)
    for p in (0.1, 0.5):
        y = dropout(x, p, True)
        kept = y != 0
        assert abs(float(kept.float().mean()) - (1 - p)) < 5 * (p * (1 - p) / x.numel()) ** 0.5
        assert abs(float(y.mean()) - 1.0) < 0.01
        assert torch.allclose(y[kept], torch.full_like(y[kept], 65536 / (65536 - round(p * 65536))))
    assert dropout(x, 0.1, False) is x and dropout(x, 0.0, True) is x
    assert not dropout(x, 1.0, True).any()
    g = torch.ones(1000, requires_grad=True)
    dropout(g, 0.3, True).sum().backward()
    scale = torch.tensor(65536 / (65536 - round(0.3 * 65536)), dtype=torch.float32).item()
    assert set(g.grad.unique().tolist()) == {0.0, scale}


@pytest.mark.parametrize("name", ["part-lite", "particlenet-lite"])
@pytest.mark.parametrize("train", [True, False])
def test_fp32_fast_path_matches_a_float64_copy(name, train):
    """The fp32 paths (oneDNN products; ParT's folded pair batch norms and eval pair blocks) against the same
    weights in float64, where none of the fast paths but the fold applies: logits and gradients agree to fp32
    accuracy; eval-mode blocks of pairs change nothing."""
    from jetzoo.registry import create_model
    from jetzoo.zoo import transformer

    batch = {k: (v.float() if v.is_floating_point() else v) for k, v in synthetic_batch(16, 40, seed=4).items()}
    torch.manual_seed(0)
    model = create_model(name, num_classes=2, num_particle_features=batch["features"].shape[-1], dropout=0.0)
    reference = copy.deepcopy(model).double()
    batch64 = {k: (v.double() if v.is_floating_point() else v) for k, v in batch.items()}
    model.train(train)
    reference.train(train)
    out, ref = model(batch), reference(batch64)
    torch.testing.assert_close(out.double(), ref, rtol=1e-4, atol=1e-4)
    if train:
        F.cross_entropy(out, batch["label"]).backward()
        F.cross_entropy(ref, batch["label"]).backward()
        scale = max(float(q.grad.abs().max()) for q in reference.parameters())
        for (name, p), q in zip(model.named_parameters(), reference.parameters()):
            torch.testing.assert_close(p.grad.double(), q.grad, rtol=1e-3, atol=1e-4 * scale, msg=name)
    elif name == "part-lite":
        block, transformer.PAIR_BLOCK = transformer.PAIR_BLOCK, 97  # many blocks of pairs
        try:
            torch.testing.assert_close(model(batch), out, rtol=1e-5, atol=1e-5)
        finally:
            transformer.PAIR_BLOCK = block
