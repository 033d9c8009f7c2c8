"""The datamodule contract (timm style): every registered datamodule, built-in or plugin, builds on a
small sample and serves each view it declares (`supported_views`, default all four) in the batch layout
of docs/DESIGN.md §4, with no per-name code here.

The sample: a plugin datamodule provides a classmethod `contract_sample(directory) -> init kwargs` that
writes a small sample into `directory` (docs/plugins.md). jetzoo's built-in formats have none: its own
suite gives theirs through the `jetzoo_builtin_samples` fixture (tests/conftest.py), each written with
the format's own tooling.

Which datamodules: `jetzoo.testing.selection` (one distribution's with `--jetzoo-dist`, else all).
"""

from __future__ import annotations

import pytest
import torch

from jetzoo import registry
from jetzoo.datamodules.views import CLOUD_PARTICLES
from jetzoo.testing import selection

DATAMODULES = selection.datamodules()
ALL_VIEWS = ("hl", "image", "particles", "cloud")
BATCH_SIZE = 8

# what each view's batch holds (DESIGN.md §4) and the dims that size it
BATCH_KEYS = {
    "hl": {"hl", "label"},
    "image": {"image", "label"},
    "particles": {"features", "points", "p4", "mask", "label"},
    "cloud": {"cloud", "mask", "jet", "label"},
}
DIMS = {
    "hl": {"num_classes", "class_names", "num_hl_features"},
    "image": {"num_classes", "class_names", "image_size"},
    "particles": {"num_classes", "class_names", "num_particles", "num_particle_features"},
    "cloud": {"num_classes", "class_names"},
}


def sample_kwargs(name, cls, directory, request) -> dict:
    if hasattr(cls, "contract_sample"):
        return dict(cls.contract_sample(directory))
    builtin = request.getfixturevalue("jetzoo_builtin_samples")
    if name in builtin:
        return builtin[name](directory, request)
    pytest.fail(f"datamodule '{name}' has no contract_sample(directory) classmethod giving init kwargs for a small sample")


def expected_shapes(view: str, dims: dict, b: int) -> dict[str, tuple]:
    p, image = dims.get("num_particles"), dims.get("image_size")
    return {
        "hl": {"hl": (b, dims.get("num_hl_features"))},
        "image": {"image": (b, 1, image, image)},
        "particles": {"features": (b, p, dims.get("num_particle_features")), "points": (b, p, 2), "p4": (b, p, 4), "mask": (b, p)},
        "cloud": {"cloud": (b, CLOUD_PARTICLES, 3), "mask": (b, CLOUD_PARTICLES), "jet": (b, 4)},
    }[view]


def check_batch(where: str, batch: dict, view: str, dims: dict, batch_size: int | None) -> None:
    assert BATCH_KEYS[view] <= batch.keys(), f"{where}: batch keys {sorted(batch)}"
    labels = batch["label"]
    b = len(labels)
    assert b > 0 and (batch_size is None or b == batch_size), f"{where}: batch of {b}, batch_size {batch_size}"
    assert labels.dtype == torch.int64 and labels.shape == (b,), f"{where}: label {labels.dtype} {tuple(labels.shape)}"
    assert 0 <= labels.min() and labels.max() < dims["num_classes"], f"{where}: labels outside 0..{dims['num_classes'] - 1}"
    for key, shape in expected_shapes(view, dims, b).items():
        tensor = batch[key]
        assert tuple(tensor.shape) == shape, f"{where}: {key} has shape {tuple(tensor.shape)}, expected {shape}"
        if tensor.is_floating_point():
            assert torch.isfinite(tensor).all(), f"{where}: {key} has NaN or inf"
    if "mask" in batch:
        mask = batch["mask"]
        assert mask.dtype == torch.bool, f"{where}: mask is {mask.dtype}"
        for key in ("features", "points", "p4", "cloud"):
            if key in BATCH_KEYS[view]:
                assert not batch[key][~mask].any(), f"{where}: padded {key} entries are not zero"


@pytest.mark.parametrize("name", DATAMODULES)
def test_serves_each_supported_view(name, tmp_path, request):
    cls = registry.get_datamodule(name)
    views = tuple(getattr(cls, "supported_views", ALL_VIEWS))
    assert views and set(views) <= set(ALL_VIEWS), f"{name}: supported_views {views}"
    kwargs = sample_kwargs(name, cls, tmp_path, request)
    for view in views:
        where = f"{name} ({view})"
        datamodule = cls(**kwargs, view=view)
        dims = datamodule.dims
        assert DIMS[view] <= dims.keys(), f"{where}: dims {sorted(dims)}"
        assert len(dims["class_names"]) == dims["num_classes"], f"{where}: {dims['class_names']} vs {dims['num_classes']}"
        datamodule.setup("fit")
        batch = next(iter(datamodule.train_dataloader()))
        check_batch(where, batch, view, dims, getattr(datamodule, "batch_size", None))


