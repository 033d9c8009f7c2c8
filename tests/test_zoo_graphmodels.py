"""ParticleNet (arXiv:1902.08570) and the Particle Transformer (arXiv:2202.03772): the kNN graph
never uses padding, outputs are invariant under permutations of the real particles and under
extra padding, the ParT pairwise features match a hand computation, and both (lite) learn to
separate real top jets from QCD jets.

Unit tests run in float64 on seeded synthetic jets (massless constituents around a jet axis,
real particles first, padded entries exactly zero, as in docs/DESIGN.md §4).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jetzoo.zoo.pairwise import pairwise_features
from jetzoo.zoo.particlenet import ParticleNet, knn
from jetzoo.zoo.transformer import ParticleTransformer

TOL = 1e-5


def synthetic_batch(n_jets: int = 6, max_particles: int = 24, seed: int = 0, min_particles: int = 2):
    """A particles-view batch (float64): features are (Δη, Δφ, log pT, log E, log pT/pTjet,
    log E/Ejet, ΔR) computed from the four-vectors, not standardised (fine for these tests)."""
    rng = np.random.default_rng(seed)
    p4 = np.zeros((n_jets, max_particles, 4))
    mask = np.zeros((n_jets, max_particles), dtype=bool)
    for j in range(n_jets):
        n = int(rng.integers(min_particles, max_particles + 1))
        pt = np.sort(rng.exponential(30.0, n) + 0.5)[::-1]
        eta = rng.uniform(-1.0, 1.0) + rng.normal(0, 0.2, n)
        phi = rng.uniform(-np.pi, np.pi) + rng.normal(0, 0.2, n)
        pz = pt * np.sinh(eta)
        p4[j, :n] = np.stack([pt * np.cos(phi), pt * np.sin(phi), pz, np.sqrt(pt**2 + pz**2)], -1)
        mask[j, :n] = True
    px, py, pz, e = np.moveaxis(p4, -1, 0)
    pt = np.hypot(px, py)
    safe_pt, safe_e = np.where(mask, pt, 1.0), np.where(mask, e, 1.0)
    jet = p4.sum(1)
    jpt = np.hypot(jet[:, 0], jet[:, 1])
    deta = np.arcsinh(pz / safe_pt) - np.arcsinh(jet[:, 2] / jpt)[:, None]
    dphi = (np.arctan2(py, px) - np.arctan2(jet[:, 1], jet[:, 0])[:, None] + np.pi) % (2 * np.pi) - np.pi
    feats = np.stack([deta, dphi, np.log(safe_pt), np.log(safe_e), np.log(safe_pt / jpt[:, None]),
                      np.log(safe_e / jet[:, 3:4]), np.hypot(deta, dphi)], -1) * mask[..., None]
    return {
        "features": torch.tensor(feats),
        "points": torch.tensor(np.stack([deta, dphi], -1) * mask[..., None]),
        "p4": torch.tensor(p4),
        "mask": torch.tensor(mask),
        "label": torch.tensor(rng.integers(0, 2, n_jets)),
    }


def permute_real(batch, seed: int = 1):
    """Shuffle the real particles of every jet among themselves (padding stays at the end)."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.arange(batch["mask"].shape[1]).repeat(len(batch["mask"]), 1)
    for j, n in enumerate(batch["mask"].sum(1).tolist()):
        order[j, :n] = torch.randperm(n, generator=gen)
    return {k: (v.gather(1, order[..., None].expand_as(v)) if v.dim() == 3 else v.gather(1, order))
            if k != "label" else v for k, v in batch.items()}


def pad(batch, extra: int):
    return {k: torch.cat([v, v.new_zeros(v.shape[0], extra, *v.shape[2:])], 1) if k != "label" else v
            for k, v in batch.items()}


MODELS = {
    "particlenet": lambda: ParticleNet(num_particle_features=7, config="lite"),
    "transformer": lambda: ParticleTransformer(num_particle_features=7, config="lite"),
}


def eval_model(name: str):
    torch.manual_seed(0)
    model = MODELS[name]().double()
    # a few training-mode passes give batch norm non-trivial running statistics
    with torch.no_grad():
        for seed in range(3):
            model(synthetic_batch(16, 24, seed=100 + seed))
    return model.eval()


# --- kNN ------------------------------------------------------------------------------------------
def test_knn_never_picks_padding_or_self():
    torch.manual_seed(0)
    b, p, k = 5, 12, 4
    coords = torch.randn(b, p, 3, dtype=torch.float64)
    counts = torch.tensor([12, 7, 5, 3, 1])  # the last three have fewer than k other real particles
    mask = torch.arange(p)[None] < counts[:, None]
    coords = coords * mask[..., None]  # padded coordinates are zero: closer than most real ones
    idx, valid = knn(coords, mask, k)
    assert idx.shape == valid.shape == (b, p, k)
    for j in range(b):
        n = int(counts[j])
        assert not valid[j, n:].any(), "padded particles have no neighbours"
        for i in range(n):
            chosen = idx[j, i][valid[j, i]].tolist()
            assert all(c < n and c != i for c in chosen), "a neighbour is padded or the particle itself"
            assert len(chosen) == min(k, n - 1)
            dist = (coords[j, :n] - coords[j, i]).square().sum(-1)
            dist[i] = math.inf
            assert sorted(chosen) == sorted(dist.argsort()[: len(chosen)].tolist())


def test_knn_k_larger_than_particles():
    mask = torch.tensor([[True, True, False]])
    idx, valid = knn(torch.randn(1, 3, 2), mask, 16)
    assert idx.shape == (1, 3, 3)
    assert valid.sum(-1).tolist() == [[1, 1, 0]]


# --- symmetries -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_permutation_invariance(name):
    model, batch = eval_model(name), synthetic_batch(6, 24, seed=3)
    with torch.no_grad():
        out, out_perm = model(batch), model(permute_real(batch))
    assert out.shape == (6, 2)
    assert torch.allclose(out, out_perm, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", MODELS)
def test_padding_invariance(name):
    model, batch = eval_model(name), synthetic_batch(6, 24, seed=4)
    with torch.no_grad():
        out = model(batch)
        assert torch.allclose(out, model(pad(batch, 9)), atol=TOL, rtol=0)
        # a jet alone, and next to a much longer jet (so that it carries real padding)
        alone = {k: v[:1] for k, v in batch.items()}
        long_jet = synthetic_batch(1, 40, seed=5, min_particles=40)
        both = {k: torch.cat([pad(alone, 16)[k], long_jet[k]]) for k in batch}
        assert torch.allclose(model(alone), model(both)[:1], atol=TOL, rtol=0)


@pytest.mark.parametrize("name", MODELS)
def test_unordered_padding_and_tiny_jets(name):
    """Padding in the middle of a jet, one-particle jets and an empty jet stay finite and consistent."""
    model, batch = eval_model(name), synthetic_batch(4, 10, seed=6, min_particles=1)
    batch["mask"][2] = False
    for key in ("features", "points", "p4"):
        batch[key][2] = 0
    with torch.no_grad():
        out = model(batch)
        assert torch.isfinite(out).all()
        order = torch.arange(10).flip(0).repeat(4, 1)  # real particles at the end
        flipped = {k: (v.gather(1, order[..., None].expand_as(v)) if v.dim() == 3 else v.gather(1, order))
                   if k != "label" else v for k, v in batch.items()}
        assert torch.allclose(out, model(flipped), atol=TOL, rtol=0)


@pytest.mark.parametrize("name", MODELS)
def test_training_step_ignores_padding(name):
    """Batch-norm statistics and gradients come from real particles only: extra padding changes nothing."""
    batch = synthetic_batch(8, 16, seed=7)
    grads = []
    for b in (batch, pad(batch, 8)):
        torch.manual_seed(0)
        model = MODELS[name]().double()
        for module in model.modules():  # compare deterministic passes
            if hasattr(module, "p"):  # dropout layers
                module.p = 0.0
        if name == "transformer":
            for block in model.backbone.blocks:
                block.attn.dropout = 0.0
        model.loss(b).backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    assert torch.allclose(grads[0], grads[1], atol=1e-8)


def test_particlenet_eval_folding_matches_batch_norm():
    """In eval mode the batch norms are folded into the linear maps; compare with the unfolded path."""
    model, batch = eval_model("particlenet"), synthetic_batch(6, 24, seed=9)
    with torch.no_grad():
        folded = model(batch)
        model.train()
        for module in model.modules():  # unfolded code path, running statistics, no dropout
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.Dropout)):
                module.eval()
        assert torch.allclose(folded, model(batch), atol=1e-10, rtol=0)


def test_part_training_attention_matches_sdpa():
    """In training (attention dropout > 0) ParT computes attention itself; with a vanishing dropout
    rate it must equal torch's scaled_dot_product_attention with the same float mask."""
    from jetzoo.zoo.transformer import Attention

    torch.manual_seed(0)
    attn = Attention(16, 4, dropout=1e-12).double()
    x = torch.randn(3, 7, 16, dtype=torch.float64)
    mask = torch.randn(3, 4, 7, 7, dtype=torch.float64).masked_fill(torch.rand(3, 1, 1, 7) < 0.3, float("-inf"))
    mask[..., 0] = 0.0  # every query keeps one key
    manual = attn.train()(x, x, mask)
    reference = attn.eval()(x, x, mask)
    assert torch.allclose(manual, reference, atol=1e-10)


# --- ParT pairwise features -----------------------------------------------------------------------
def test_pairwise_features_by_hand():
    # two massless particles: pT 10 at (y, φ) = (0.1, 0.2) and pT 30 at (-0.2, 0.6)
    pt, y, phi = torch.tensor([10.0, 30.0], dtype=torch.float64), torch.tensor([0.1, -0.2]), torch.tensor([0.2, 0.6])
    y, phi = y.double(), phi.double()
    p4 = torch.stack([pt * phi.cos(), pt * phi.sin(), pt * y.sinh(), pt * y.cosh()], -1)
    feats = pairwise_features(p4[0], p4[1])
    delta = math.hypot(0.3, 0.4)
    m2 = 2 * 10 * 30 * (math.cosh(0.3) - math.cos(0.4))
    expected = [math.log(delta), math.log(10 * delta), math.log(10 / 40), math.log(m2)]
    assert torch.allclose(feats, torch.tensor(expected, dtype=torch.float64), atol=1e-10)
    # symmetric in (a, b), and Δφ wraps around ±π
    assert torch.allclose(pairwise_features(p4[1], p4[0]), feats, atol=1e-12)
    a = torch.tensor([math.cos(3.1), math.sin(3.1), 0.0, 1.0], dtype=torch.float64)
    b = torch.tensor([math.cos(-3.1), math.sin(-3.1), 0.0, 1.0], dtype=torch.float64)
    assert math.isclose(math.exp(pairwise_features(a, b)[0]), 2 * math.pi - 6.2, rel_tol=1e-9)


def test_pair_bias_symmetric_and_zero_on_padding():
    model = eval_model("transformer")
    batch = synthetic_batch(3, 8, seed=8)
    with torch.no_grad():
        bias = model.backbone.pair_bias(batch["p4"], batch["mask"])
    assert bias.shape == (3, 4, 8, 8)
    assert torch.equal(bias, bias.transpose(-1, -2))
    pair = batch["mask"][:, :, None] & batch["mask"][:, None, :]
    assert (bias.abs().sum(1)[~pair] == 0).all()


# --- configuration --------------------------------------------------------------------------------
def test_configs_and_overrides():
    assert sum(p.numel() for p in ParticleNet(config="lite").parameters()) < sum(
        p.numel() for p in ParticleNet().parameters())
    net = ParticleNet(config="lite", k=5, conv_widths=[[16, 16]], fc_widths=[32])
    assert net.backbone.k == 5 and len(net.backbone.blocks) == 1 and net.hparams.config == "lite"
    part = ParticleTransformer(config="lite", num_blocks=2, num_heads=2)
    assert len(part.backbone.blocks) == 2 and part.backbone.num_heads == 2
    with pytest.raises(ValueError, match="config"):
        ParticleNet(config="huge")
    with pytest.raises(ValueError, match="divisible"):
        ParticleTransformer(config="lite", num_heads=5)


# --- learning on real jets ------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs"), [
    ("particlenet", {"config": "lite", "lr": 3e-3}),
    ("transformer", {"config": "lite", "lr": 1e-3}),
])
def test_learns_top_tagging(top_jets_file, name, kwargs):
    from helpers import fit_and_test, model_for, top_datamodule

    dm = top_datamodule(top_jets_file, batch_size=128, num_particles=32)
    model = model_for(name, dm, **kwargs)
    metrics = fit_and_test(model, dm, max_epochs=1, limit_val_batches=0)
    assert metrics["test/auc"] > 0.85, metrics


# --- dense (export / compile) path ----------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_dense_path_matches_packed_on_real_jets(name, top_datamodules):
    """Eval mode, float32, real top/QCD jets: the sync-free dense path gives the packed path's logits,
    also with extra padding and with padding between the real particles (which the packed path moves)."""
    dm = top_datamodules("particles")
    batch = next(iter(dm.val_dataloader()))
    torch.manual_seed(0)
    model = MODELS[name]()
    with torch.no_grad():  # training-mode passes give batch norm non-trivial running statistics
        for _ in range(2):
            model(batch)
    model.eval()
    flipped = {k: (v.flip(1) if k != "label" else v) for k, v in batch.items()}  # real particles last
    with torch.no_grad():
        packed = model(batch)
        model.dense_path = True
        for variant in (batch, pad(batch, 9), flipped):
            torch.testing.assert_close(model(variant), packed, atol=TOL, rtol=0)


def test_part_trains_in_bf16_mixed_on_a_full_batch_of_real_jets(top_jets_file):
    """bf16 autocast, 3 AdamW steps on 256 real jets of 64 constituents: the loss, the weights and the batch-norm
    statistics stay finite. The pairwise features were computed in bfloat16 before (E - pz and E^2 - p^2 cancel
    in 8 mantissa bits): the first step's pair batch norm was NaN, and so was every `jetzoo fit --model
    part-lite --trainer.precision bf16-mixed` (issue 21)."""
    import lightning as L

    from helpers import model_for, top_datamodule

    dm = top_datamodule(top_jets_file, batch_size=256, num_particles=64, view="particles")
    dm.setup("fit")
    L.seed_everything(0, verbose=False)
    model = model_for("part-lite", dm).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = iter(dm.train_dataloader())
    for _ in range(3):
        batch = next(batches)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model.loss(batch)
        optimizer.zero_grad()
        loss.float().backward()
        optimizer.step()
        assert torch.isfinite(loss.float())
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(torch.isfinite(b).all() for b in model.buffers() if b.is_floating_point())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        u = model.backbone.pair_inputs(batch["p4"][:, :2], batch["p4"][:, 2:4])
    assert u.dtype == torch.float32  # computed in float32 and given the embedding's (float32) dtype
