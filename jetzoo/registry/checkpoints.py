"""A registered model, reloaded from its checkpoint: the checkpoint must hold the model asked for.

- `load_model_checkpoint(cls, path)`: `cls` restored weights-only (`jetzoo.io.checkpoints`), after
  checking that the checkpoint holds that same network (`jetzoo.registry.load_checkpoint` by name).
- `check_model_class`: a checkpoint of another model than `--model` is a one-line error naming both
  by their registry names.
- `check_shapes_fit`: weights that do not fit the model built for this data are a one-line error.
"""

from __future__ import annotations

import os

from jetzoo.io.checkpoints import CheckpointError, load_local_checkpoint, checkpoint_model_class, class_path_of, local_checkpoint_path
from jetzoo.registry.entries import model_entries
from jetzoo.zoo.backbone_task import upgrade_state_dict_keys


def load_model_checkpoint(model_cls: type, path: str | os.PathLike, allow_remote: bool = False, **kwargs):
    """`model_cls` restored from a checkpoint of that same model, weights-only."""
    local = local_checkpoint_path(path, allow_remote)
    check_model_class(load_local_checkpoint(local, "cpu", label=str(path)), str(path), class_path_of(model_cls))
    return model_cls.load_from_checkpoint(local, map_location="cpu", weights_only=True, **kwargs)


def check_model_class(checkpoint: dict, label: str, expected_class_path: str) -> None:
    """A one-line error when the checkpoint holds another model than the one asked for."""
    found = checkpoint_model_class(checkpoint)
    if found is None or found == expected_class_path:
        return
    found_name = checkpoint.get("jetzoo", {}).get("model_name") or found
    expected_name = registry_name(expected_class_path) or expected_class_path
    raise CheckpointError(
        f"{label}: checkpoint of model '{found_name}' ({found}), but the model asked for is "
        f"'{expected_name}' ({expected_class_path}); use --model {found_name}, or start a fit of "
        "another model from its weights with --init_from"
    )


def check_shapes_fit(checkpoint: dict, model, label: str) -> None:
    """A one-line error when the checkpoint's weights do not fit the model built for this data."""
    own = model.state_dict()
    state_dict = upgrade_state_dict_keys(model, dict(checkpoint["state_dict"]))  # names of before the backbones
    for key, tensor in state_dict.items():
        if key in own and tuple(own[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{label}: its weights do not fit this data: '{key}' is {tuple(tensor.shape)} in the checkpoint "
                f"but {tuple(own[key].shape)} for the model built for this data (other classes or features?)"
            )
    missing = sorted(set(own) - set(state_dict))
    if missing:
        raise CheckpointError(f"{label}: the checkpoint lacks weights the model has: {', '.join(missing[:3])}")


def registry_name(class_path: str) -> str | None:
    target = ":".join(class_path.rsplit(".", 1))
    return next((name for name, e in model_entries().items() if e.target == target), None)
