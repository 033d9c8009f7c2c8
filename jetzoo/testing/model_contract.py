"""The model contract (timm style): every registered model, built-in or plugin, tested the same way on a
fixed batch of real generated jets (the `top_datamodules` fixture), with no per-model code here.

Capabilities a model declares as class attributes are tested where declared:
`permutation_invariant = True` (outputs unchanged when each jet's particles are shuffled),
`compile_supported = True` (`torch.compile` with the aot_eager backend), and exportability
(`jetzoo.export.export_blocker`: a one-line reason, or ONNX parity with onnxruntime at atol 1e-4
through one file at two batch sizes and particle counts). A model too heavy for a CPU at its defaults
names its registered CPU variant (`cpu_variant`), on which the battery runs.

Which models: `jetzoo.testing.selection` (one distribution's with `--jetzoo-dist`, else all).
"""

from __future__ import annotations

import inspect
import typing

import lightning as L
import numpy as np
import pytest
import torch

from jetzoo import registry
from jetzoo.export import export_blocker, export_onnx, onnx_outputs
from jetzoo.training import model_kwargs_from_data, quiet_trainer

from jetzoo.testing import selection  # noqa: E402

MODELS = selection.models()


def declares(name: str, attribute: str) -> bool:
    """Whether model `name` sets a class attribute; False for a name the registry refuses (a clash):
    collecting this module must never fail, whatever is installed (tests/test_plugins.py)."""
    try:
        return bool(getattr(registry.get_model(name), attribute, False))
    except registry.RegistryError:
        return False


# A model too heavy for these CPU tests at its defaults names its CPU variant (`cpu_variant`, a registry
# name of its own, e.g. particlenet -> particlenet-lite); the full battery runs on the variant.
TESTED = [n for n in MODELS if not declares(n, "cpu_variant")]


def build_for_data(name, top_datamodules):
    cls = registry.get_model(name)
    dm = top_datamodules(cls.input_view)
    torch.manual_seed(0)
    model = cls(**model_kwargs_from_data(cls, dm.dims))
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


@pytest.mark.parametrize("name", TESTED)
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
def test_every_init_annotation_resolves_so_the_parser_validates_it(name):
    """An annotation that cannot be resolved (a postponed `Literal[...]` read in the wrong module) makes
    jsonargparse accept any value unvalidated: `--model.cell lstmx` would pass the parser."""
    init = registry.get_model(name).__init__
    resolved = typing.get_type_hints(init)  # a hand-written __init__: its own module resolves its strings
    for p in inspect.signature(init).parameters.values():
        if isinstance(p.annotation, str):
            assert p.name in resolved and not isinstance(resolved[p.name], str), f"{p.name}: {p.annotation!r}"


@pytest.mark.parametrize("name", TESTED)
def test_the_bench_counts_flops_of_every_model(name, top_datamodules):
    """`jetzoo bench`'s FLOPs column (torch's FlopCounterMode) for every model: it once failed on part-lite
    after a 30-minute training, whose predictions were then lost."""
    from jetzoo.bench import measure

    model, _, batch = build_for_data(name, top_datamodules)
    assert measure.flops_per_jet(model, batch) > 0


# models built on a backbone: a plain nn.Module of tensors (jetzoo.zoo.backbone_task)
BACKBONED = [n for n in TESTED if declares(n, "backbone_class")]


@pytest.mark.parametrize("name", BACKBONED)
def test_a_backbone_runs_without_lightning_on_tensors_and_gives_the_models_outputs(name, top_datamodules):
    model, _, batch = build_for_data(name, top_datamodules)
    cls = type(model)
    assert not isinstance(model.backbone, L.LightningModule)
    arguments = inspect.signature(cls.backbone_class).parameters
    standalone = cls.backbone_class(**{k: v for k, v in model.hparams.items() if k in arguments})
    standalone.load_state_dict(model.backbone.state_dict())
    tensors = [batch[n] for n in standalone.inputs]
    with torch.no_grad():
        torch.testing.assert_close(standalone.eval()(*tensors), model.eval()(batch), rtol=0, atol=0)
    assert list(inspect.signature(standalone.forward).parameters) == list(standalone.inputs)


@pytest.mark.parametrize("name", TESTED)
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


@pytest.mark.parametrize("name", TESTED)
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


PARTICLE_KEYS = ("features", "points", "p4", "mask")


def finite_grads(model) -> dict[str, str]:
    """{parameter name: problem} for every trainable parameter whose gradient is missing or not finite."""
    problems = {}
    for pname, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.grad is None:
            problems[pname] = "no gradient"
        elif not torch.isfinite(param.grad).all():
            problems[pname] = "non-finite gradient"
    return problems


def training_objective(model, batch) -> torch.Tensor:
    """`loss`, or the sum of `training_losses` for a model trained on several objectives (the GANs)."""
    return sum(model.training_losses(batch)) if hasattr(model, "training_losses") else model.loss(batch)


@pytest.mark.parametrize("name", TESTED)
def test_every_parameter_gets_a_finite_gradient(name, top_datamodules):
    model, _, batch = build_for_data(name, top_datamodules)
    model.train()
    torch.manual_seed(123)
    training_objective(model, batch).backward()
    assert not finite_grads(model), f"{name}: {finite_grads(model)}"


def shuffle_particles(batch, seed: int = 7):
    """Every jet's particle slots (real and padded alike) in a different random order."""
    mask = batch["mask"]
    order = torch.rand(mask.shape, generator=torch.Generator().manual_seed(seed)).argsort(1)
    out = dict(batch)
    for key in PARTICLE_KEYS:
        out[key] = batch[key].gather(1, order if batch[key].dim() == 2 else order[..., None].expand_as(batch[key]))
    return out


def exports(name: str) -> bool:
    try:
        return export_blocker(registry.create_model(name)) is None
    except registry.RegistryError:
        return False


@pytest.mark.parametrize("name", [n for n in TESTED if declares(n, "permutation_invariant")])
def test_declared_permutation_invariance(name, top_datamodules):
    model, _, batch = build_for_data(name, top_datamodules)
    model.eval()
    shuffled = shuffle_particles(batch)
    assert not torch.equal(shuffled["features"], batch["features"])
    with torch.no_grad():
        torch.testing.assert_close(model(shuffled), model(batch), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", TESTED)
def test_bf16_autocast_forward_and_backward_are_finite(name, top_datamodules):
    model, _, batch = build_for_data(name, top_datamodules)
    model.train()
    torch.manual_seed(123)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = training_objective(model, batch)
    loss.float().backward()
    assert torch.isfinite(loss), f"{name}: bf16 loss {loss}"
    assert not finite_grads(model), f"{name}: {finite_grads(model)}"


COMPILABLE = [n for n in TESTED if declares(n, "compile_supported")]


def compiled_matches_eager(name, top_datamodules, backend: str, training: bool):
    """Eval mode: the compiled forward (the dense path, where a model has one) equals the eager one.
    Training mode (`training`): the compiled loss and its gradients are finite. Graph breaks are
    allowed: dynamo does not trace nn.GRU/LSTM, nor `jetzoo.physics.kinematics`' numpy/torch dispatch."""
    torch._dynamo.reset()
    model, _, batch = build_for_data(name, top_datamodules)
    if training:
        model.train()
        torch.manual_seed(123)
        torch.compile(model.loss, backend=backend, dynamic=False)(batch).backward()
        assert not finite_grads(model), f"{name}: {finite_grads(model)}"
    model.eval()
    with torch.no_grad():
        expected = model(batch)
        got = torch.compile(model, backend=backend, dynamic=False)(batch)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", COMPILABLE)
def test_torch_compile_aot_eager(name, top_datamodules):
    # `compile_in_training = False`: training mode keeps the packed path (graph breaks), not compiled here
    training = getattr(registry.get_model(name), "compile_in_training", True)
    compiled_matches_eager(name, top_datamodules, "aot_eager", training)


def test_every_model_is_exportable_or_says_why_in_one_line():
    for name in MODELS:
        reason = export_blocker(registry.create_model(name))
        assert reason is None or (reason.strip() and "\n" not in reason), f"{name}: {reason!r}"


def sliced(batch, n_jets: int, n_particles: int):
    """The first n_jets jets and, for particle inputs, their first n_particles slots."""
    return {k: (v[:n_jets, :n_particles] if k in PARTICLE_KEYS else v[:n_jets]) for k, v in batch.items()}


@pytest.mark.parametrize("name", [n for n in TESTED if exports(n)])
def test_onnx_export_matches_pytorch(name, top_datamodules, tmp_path):
    """One file, traced at (8 jets, 24 slots), run at (64, 32) and (13, 20): dynamic batch and particle axes."""
    model, _, batch = build_for_data(name, top_datamodules)
    model.eval()
    path = tmp_path / f"{name}.onnx"
    metadata = export_onnx(model, path, batch=sliced(batch, 8, 24))
    assert [i["name"] for i in metadata["inputs"]] == [v.name for v in __import__("onnx").load(str(path)).graph.input]
    for n_jets, n_particles in ((64, 32), (13, 20)):
        part = sliced(batch, n_jets, n_particles)
        with torch.no_grad():
            expected = model(part).numpy()
        got = onnx_outputs(path, part)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-4, f"{name} at {n_jets}x{n_particles}: {np.abs(got - expected).max()}"


@pytest.mark.parametrize("name", [n for n in MODELS if declares(n, "cpu_variant")])
def test_a_heavy_model_names_a_registered_cpu_variant_of_itself(name):
    base, variant = registry.get_model(name), registry.get_model(registry.get_model(name).cpu_variant)
    assert issubclass(variant, base) and not getattr(variant, "cpu_variant", None)
    small, full = registry.create_model(base.cpu_variant), registry.create_model(name)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in full.parameters())


