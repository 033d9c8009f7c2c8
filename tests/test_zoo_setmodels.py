"""Symmetries of the constituent-based models: permutation and padding invariance, and the
infrared and collinear safety of the Energy Flow Network (arXiv:1810.05165).

Batches follow docs/DESIGN.md (particles view: features, points, p4, mask, label), built from
massless four-vectors drawn with a seeded RNG around a jet axis; real particles come first in
pT order and padded entries are exactly zero.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jetzoo.zoo.cnn import JetImageCNN
from jetzoo.zoo.deepsets import EnergyFlowNetwork, ParticleFlowNetwork
from jetzoo.zoo.interaction_net import InteractionNetwork
from jetzoo.zoo.rnn import ConstituentRNN

TOL = 1e-5


def _features(p4: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Δη, Δφ) points and the 7 default particle features of DESIGN.md §4, zero on padding."""
    px, py, pz, e = np.moveaxis(p4, -1, 0)
    pt = np.hypot(px, py)
    safe = np.where(mask, pt, 1.0)
    eta = np.where(mask, np.arcsinh(pz / safe), 0.0)
    phi = np.arctan2(py, px)
    jet = (p4 * mask[..., None]).sum(1)
    jpt = np.hypot(jet[:, 0], jet[:, 1])
    jeta = np.arcsinh(jet[:, 2] / jpt)
    jphi = np.arctan2(jet[:, 1], jet[:, 0])
    deta = eta - jeta[:, None]
    dphi = (phi - jphi[:, None] + np.pi) % (2 * np.pi) - np.pi
    es = np.where(mask, e, 1.0)
    feats = np.stack(
        [
            deta,
            dphi,
            np.log(safe),
            np.log(es),
            np.log(safe / jpt[:, None]),
            np.log(es / jet[:, 3:4]),
            np.hypot(deta, dphi),
        ],
        -1,
    )
    points = np.stack([deta, dphi], -1)
    return np.where(mask[..., None], points, 0.0), np.where(mask[..., None], feats, 0.0)


def make_batch(n_jets: int = 6, max_particles: int = 16, seed: int = 0) -> dict[str, torch.Tensor]:
    """Jets of 3..max_particles-2 massless constituents (pT ~ exponential, angles ~ N(axis, 0.2))."""
    rng = np.random.default_rng(seed)
    p4 = np.zeros((n_jets, max_particles, 4))
    mask = np.zeros((n_jets, max_particles), dtype=bool)
    for j in range(n_jets):
        n = rng.integers(3, max_particles - 1)
        pt = np.sort(rng.exponential(30.0, n) + 0.5)[::-1]
        eta = rng.uniform(-1.5, 1.5) + rng.normal(0, 0.2, n)
        phi = rng.uniform(-np.pi, np.pi) + rng.normal(0, 0.2, n)
        pz = pt * np.sinh(eta)
        p4[j, :n] = np.stack([pt * np.cos(phi), pt * np.sin(phi), pz, np.sqrt(pt**2 + pz**2)], -1)
        mask[j, :n] = True
    return batch_from_p4(p4, mask)


def batch_from_p4(p4: np.ndarray, mask: np.ndarray, points=None, feats=None) -> dict[str, torch.Tensor]:
    if points is None:
        points, feats = _features(p4, mask)
    return {
        "features": torch.tensor(feats, dtype=torch.float64),
        "points": torch.tensor(points, dtype=torch.float64),
        "p4": torch.tensor(p4 * mask[..., None], dtype=torch.float64),
        "mask": torch.tensor(mask),
        "label": torch.zeros(len(mask), dtype=torch.long),
    }


def permute_real(batch: dict[str, torch.Tensor], seed: int = 1) -> dict[str, torch.Tensor]:
    """Shuffle the real particles of each jet among themselves (padding stays last)."""
    g = torch.Generator().manual_seed(seed)
    out = {k: v.clone() for k, v in batch.items()}
    for j, m in enumerate(batch["mask"]):
        n = int(m.sum())
        perm = torch.randperm(n, generator=g)
        for key in ("features", "points", "p4", "mask"):
            out[key][j, :n] = batch[key][j, perm]
    return out


def pad_more(batch: dict[str, torch.Tensor], extra: int = 7) -> dict[str, torch.Tensor]:
    out = dict(batch)
    for key in ("features", "points", "p4", "mask"):
        t = batch[key]
        out[key] = torch.cat([t, torch.zeros(t.shape[0], extra, *t.shape[2:], dtype=t.dtype)], 1)
    return out


def _model(factory):
    torch.manual_seed(0)
    return factory().double().eval()


SET_MODELS = {
    "pfn": lambda: ParticleFlowNetwork(),
    "efn": lambda: EnergyFlowNetwork(),
    "interaction-net": lambda: InteractionNetwork(),
    "interaction-net-topk": lambda: InteractionNetwork(max_particles=8),
}
SEQUENCE_MODELS = {
    "rnn-gru": lambda: ConstituentRNN(cell="gru"),
    "rnn-lstm-bidirectional": lambda: ConstituentRNN(cell="lstm", bidirectional=True, num_layers=2),
}


@pytest.mark.parametrize("name", SET_MODELS)
def test_permutation_invariance(name):
    model, batch = _model(SET_MODELS[name]), make_batch()
    with torch.no_grad():
        ref, out = model(batch), model(permute_real(batch))
    assert ref.shape == (6, 2)
    assert torch.allclose(ref, out, atol=TOL, rtol=0), (ref - out).abs().max()
    # the check has teeth: a non-invariant function of the same batch would differ
    assert not torch.equal(batch["features"], permute_real(batch)["features"])


@pytest.mark.parametrize("name", {**SET_MODELS, **SEQUENCE_MODELS})
def test_padding_invariance(name):
    model, batch = _model({**SET_MODELS, **SEQUENCE_MODELS}[name]), make_batch(seed=3)
    with torch.no_grad():
        ref, out = model(batch), model(pad_more(batch, 9))
    assert torch.allclose(ref, out, atol=TOL, rtol=0), (ref - out).abs().max()


@pytest.mark.parametrize("name", {**SET_MODELS, **SEQUENCE_MODELS})
def test_empty_jet_gives_finite_logits(name):
    model, batch = _model({**SET_MODELS, **SEQUENCE_MODELS}[name]), make_batch(seed=4)
    for key in ("features", "points", "p4", "mask"):
        batch[key][0] = 0
    with torch.no_grad():
        assert torch.isfinite(model(batch)).all()


def interleave_padding(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Put one padded slot after every real particle (order of the real particles kept)."""
    b, p = batch["mask"].shape
    out = {k: (torch.zeros(b, 2 * p, *v.shape[2:], dtype=v.dtype) if k != "label" else v) for k, v in batch.items()}
    for key in ("features", "points", "p4", "mask"):
        out[key][:, ::2] = batch[key]
    return out


@pytest.mark.parametrize("name", {**SET_MODELS, **SEQUENCE_MODELS})
def test_padding_between_real_particles(name):
    model, batch = _model({**SET_MODELS, **SEQUENCE_MODELS}[name]), make_batch(seed=8)
    with torch.no_grad():
        assert torch.allclose(model(batch), model(interleave_padding(batch)), atol=TOL, rtol=0)


@pytest.mark.parametrize("name", {**SET_MODELS, **SEQUENCE_MODELS})
def test_training_gradients_ignore_padding(name):
    """In training mode too (dropout off), extra padding leaves the loss gradients unchanged."""
    batch = make_batch(8, 16, seed=7)
    batch["label"] = torch.tensor([0, 1] * 4)
    grads = []
    for b in (batch, pad_more(batch, 8)):
        torch.manual_seed(0)
        model = {**SET_MODELS, **SEQUENCE_MODELS}[name]().double().train()
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        model.loss(b).backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    assert grads[0].abs().sum() > 0
    assert torch.allclose(grads[0], grads[1], atol=1e-8, rtol=0)


def _insert_particle(batch, j, p4_new, point_new, feat_new):
    """Add one real particle to jet j in its first padded slot (the batch keeps padding after)."""
    out = pad_more(batch, 1)
    slot = int(batch["mask"][j].sum())
    out = {k: v.clone() for k, v in out.items()}
    out["p4"][j, slot] = p4_new
    out["points"][j, slot] = point_new
    out["features"][j, slot] = feat_new
    out["mask"][j, slot] = True
    return out


def test_efn_infrared_safe():
    model, batch = _model(SET_MODELS["efn"]), make_batch(seed=5)
    with torch.no_grad():
        ref = model(batch)
        for j in range(len(ref)):
            # a zero-pT particle at an arbitrary angle changes nothing
            soft = _insert_particle(
                batch, j, torch.zeros(4, dtype=torch.float64), torch.tensor([0.3, -0.25]), torch.ones(7)
            )
            assert torch.allclose(model(soft), ref, atol=TOL, rtol=0)
        # and the soft limit is continuous: a 1e-6 GeV particle moves the output by almost nothing
        tiny_p4 = torch.tensor([1e-6, 0.0, 0.0, 1e-6], dtype=torch.float64)
        tiny = _insert_particle(batch, 0, tiny_p4, torch.tensor([0.3, -0.25]), torch.ones(7))
        assert torch.allclose(model(tiny), ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("lam", [0.5, 0.1, 0.93])
def test_efn_collinear_safe(lam):
    model, batch = _model(SET_MODELS["efn"]), make_batch(seed=6)
    with torch.no_grad():
        ref = model(batch)
        for j in range(len(ref)):
            i = int(torch.randint(0, int(batch["mask"][j].sum()), (1,), generator=torch.Generator().manual_seed(j)))
            split = {k: v.clone() for k, v in batch.items()}
            p = batch["p4"][j, i].clone()
            split["p4"][j, i] = lam * p
            split = _insert_particle(split, j, (1 - lam) * p, batch["points"][j, i], batch["features"][j, i])
            assert torch.allclose(model(split), ref, atol=TOL, rtol=0), (model(split) - ref).abs().max()


def test_pfn_is_not_collinear_safe():
    """Sanity check of the IRC test itself: the PFN (Φ of all features, unweighted sum) is not IRC safe."""
    model, batch = _model(SET_MODELS["pfn"]), make_batch(seed=6)
    with torch.no_grad():
        p = batch["p4"][0, 0].clone()
        split = {k: v.clone() for k, v in batch.items()}
        split["p4"][0, 0] = 0.5 * p
        split = _insert_particle(split, 0, 0.5 * p, batch["points"][0, 0], batch["features"][0, 0])
        assert not torch.allclose(model(split), model(batch), atol=TOL, rtol=0)


@pytest.mark.parametrize("image_size", [16, 32, 40])
def test_cnn_shapes(image_size):
    torch.manual_seed(0)
    model = JetImageCNN(num_classes=3, image_size=image_size).eval()
    image = torch.rand(5, 1, image_size, image_size)
    with torch.no_grad():
        logits = model({"image": image / image.sum((2, 3), keepdim=True)})
    assert logits.shape == (5, 3) and torch.isfinite(logits).all()


# --- dense (export / compile) path of the rnn ------------------------------------------------------
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_rnn_dense_path_matches_packed_on_real_jets(cell, top_datamodules):
    """Real jets, float32: the dense path (no packed sequences) equals the packed one, with extra and
    interleaved padding, in eval mode and for the training loss's gradients."""
    batch = next(iter(top_datamodules("particles").val_dataloader()))
    torch.manual_seed(0)
    model = ConstituentRNN(cell=cell, num_layers=2, dropout=0.0).eval()
    with torch.no_grad():
        packed = model(batch)
        model.dense_path = True
        for variant in (batch, pad_more(batch, 9), interleave_padding(batch)):
            torch.testing.assert_close(model(variant), packed, atol=TOL, rtol=0)
    grads = []
    for dense in (False, True):
        model.zero_grad()
        model.dense_path = dense
        model.train().loss(batch).backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    torch.testing.assert_close(grads[1], grads[0], atol=TOL, rtol=1e-4)


def test_bidirectional_rnn_says_it_cannot_be_exported():
    from jetzoo.export import export_blocker

    assert export_blocker(ConstituentRNN()) is None
    assert "bidirectional" in export_blocker(ConstituentRNN(bidirectional=True))
