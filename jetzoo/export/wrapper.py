"""The module that is exported: tensors in, the model's output out, through its dense path.

A jetzoo model's `forward` takes a batch dict. `ExportWrapper(model)` takes the tensors of the
model's input view as positional arguments, in the order of `INPUTS[view]`, builds that dict and
calls the model with `dense_path = True` (`jetzoo.zoo.dense`), in eval mode:

- `hl`: hl (B, F) standardised high-level features;
- `image`: image (B, 1, S, S) jet images;
- `particles`: features (B, P, F) standardised (zero where padded), points (B, P, 2) = (Δη, Δφ),
  p4 (B, P, 4) = (px, py, pz, E), mask (B, P) bool.

A model that cannot be exported says so through `exportable = False` and a one-line
`export_blocker` (class attribute or property); `export_blocker(model)` returns that line.
"""

from __future__ import annotations

import torch
from torch import nn

INPUTS = {
    "hl": ("hl",),
    "image": ("image",),
    "particles": ("features", "points", "p4", "mask"),
}
# axes that vary between calls of the exported file, per input
DYNAMIC_AXES = {"hl": {0: "batch"}, "image": {0: "batch"}, "features": {0: "batch", 1: "particles"},
                "points": {0: "batch", 1: "particles"}, "p4": {0: "batch", 1: "particles"},
                "mask": {0: "batch", 1: "particles"}}


class ExportError(ValueError):
    """A model or checkpoint that cannot be exported. One line."""


def export_blocker(model: nn.Module) -> str | None:
    """Why `model` cannot be exported (one line), or None when it can."""
    view = getattr(model, "input_view", None)
    reason = getattr(model, "export_blocker", None)
    if reason:
        return str(reason)
    if getattr(model, "exportable", True) is False:
        return "declares exportable = False"
    if view not in INPUTS:
        return f"input view '{view}' has no export inputs (exportable views: {', '.join(INPUTS)})"
    return None


class ExportWrapper(nn.Module):
    """`model` as a function of the tensors of its input view (see the module docstring)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        reason = export_blocker(model)
        if reason:
            raise ExportError(f"{type(model).__name__} cannot be exported: {reason}")
        self.model = model.eval()
        self.model.dense_path = True
        self.input_names = INPUTS[model.input_view]

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        batch = dict(zip(self.input_names, tensors))
        if "mask" in batch:
            batch["mask"] = batch["mask"].bool()
        return self.model(batch)


def example_inputs(model: nn.Module, batch: dict[str, torch.Tensor] | None = None,
                   num_particles: int = 16) -> tuple[torch.Tensor, ...]:
    """Inputs to trace with: the tensors of `batch` when given, else synthetic ones of the right shapes
    (tracing records operations, not values; the dense paths have no value-dependent branches)."""
    names = INPUTS[model.input_view]
    if batch is not None:
        return tuple(batch[n] if n != "mask" else batch[n].bool() for n in names)
    hp = getattr(model, "hparams", {})
    gen = torch.Generator().manual_seed(0)
    b, p = 2, num_particles
    if model.input_view == "hl":
        return (torch.randn(b, hp.get("num_hl_features", 12), generator=gen),)
    if model.input_view == "image":
        s = hp.get("image_size", 32)
        return (torch.rand(b, 1, s, s, generator=gen),)
    mask = torch.arange(p)[None, :] < torch.tensor([[p], [p // 2]])
    real = mask[..., None].float()
    features = torch.randn(b, p, hp.get("num_particle_features", 7), generator=gen) * real
    points = 0.3 * torch.randn(b, p, 2, generator=gen) * real
    pt = 10 + 100 * torch.rand(b, p, generator=gen)
    p3 = torch.stack([pt * points[..., 1].cos(), pt * points[..., 1].sin(), pt * points[..., 0].sinh()], -1)
    p4 = torch.cat([p3, p3.norm(dim=-1, keepdim=True)], -1) * real
    return features, points, p4, mask
