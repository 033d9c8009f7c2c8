"""Registry-wide model contract (timm style): every registered model, built-in or plugin, is
tested the same way on a fixed batch of real generated jets, with no per-model code here."""

from __future__ import annotations

import pytest
import torch

from jetzoo import registry
from jetzoo.training import model_kwargs_from_data, quiet_trainer

MODELS = registry.list_models()
# heavy defaults get their CPU configuration here; every other argument stays at its default
CPU_CONFIG = {"particlenet": {"config": "lite"}, "transformer": {"config": "lite"}}


def build_for_data(name, top_datamodules):
    cls = registry.get_model(name)
    dm = top_datamodules(cls.input_view)
    torch.manual_seed(0)
    model = cls(**model_kwargs_from_data(cls, dm.dims, **CPU_CONFIG.get(name, {})))
    batch = next(iter(dm.train_dataloader()))
    return model, dm, batch


def loss_at_fixed_seed(model, batch) -> float:
    torch.manual_seed(123)
    return float(model.loss(batch))


@pytest.mark.parametrize("name", MODELS)
def test_builds_with_defaults(name):
    model = registry.create_model(name)
    assert sum(p.numel() for p in model.parameters()) > 0
    assert getattr(type(model), "input_view", None) in ("hl", "image", "particles", "cloud")
    assert getattr(type(model), "task", None) in ("tagging", "anomaly", "generation")


@pytest.mark.parametrize("name", MODELS)
def test_forward_output_shape(name, top_datamodules):
    model, dm, batch = build_for_data(name, top_datamodules)
    model.eval()
    with torch.no_grad():
        out = model(batch)
    assert out.shape[0] == len(batch["label"])
    assert torch.isfinite(out).all()
    if model.task == "tagging":
        assert out.shape == (len(batch["label"]), dm.dims["num_classes"])


@pytest.mark.parametrize("name", MODELS)
def test_optimizer_steps_lower_the_loss(name, top_datamodules):
    model, _, batch = build_for_data(name, top_datamodules)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = loss_at_fixed_seed(model, batch)
    for _ in range(15):
        optimizer.zero_grad()
        torch.manual_seed(123)
        model.loss(batch).backward()
        optimizer.step()
    after = loss_at_fixed_seed(model, batch)
    assert after < before, f"{name}: loss {before:.4f} -> {after:.4f}"


@pytest.mark.parametrize("name", MODELS)
def test_checkpoint_is_plain_data_and_reloads_by_short_name_with_identical_outputs(name, top_datamodules, tmp_path):
    model, dm, batch = build_for_data(name, top_datamodules)
    trainer = quiet_trainer(max_steps=2, limit_val_batches=1, default_root_dir=tmp_path)
    trainer.fit(model, datamodule=dm)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    # everything jetzoo writes (random states, provenance, ...) loads weights-only, no add_safe_globals
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["jetzoo"]["model_name"] == name
    reloaded = registry.load_checkpoint(name, str(path))
    model.eval()
    reloaded.eval()
    with torch.no_grad():
        assert torch.equal(model(batch), reloaded(batch))
