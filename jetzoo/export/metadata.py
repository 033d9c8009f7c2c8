"""What an exported model says about itself, so it can be used without jetzoo.

`export_metadata(model, checkpoint, ...)` returns a JSON-able dict: the model (registry name,
class, hyperparameters), the task and the meaning of the output, the class names, the input
feature names and order of each input tensor, and the standardisation the inputs need
(`(raw - mean) / std`, then zero where padded), read from `checkpoint["jetzoo"]["standardisation"]`.

Feature names come, in this order, from the `feature_names` argument, from
`checkpoint["jetzoo"]["feature_names"]` when the checkpoint records them, from the run's
`config.yaml` beside the checkpoint (`--data.particle_features`), else jetzoo's defaults when their
count matches the model's; `feature_names_source` says which.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FORMAT_VERSION = 1
FIXED_NAMES = {"points": ["deta", "dphi"], "p4": ["px", "py", "pz", "energy"]}
OUTPUT_MEANING = {
    "tagging": "logits (B, num_classes); softmax gives the class probabilities in the order of class_names",
    "anomaly": "anomaly score (B,); higher is more anomalous",
}


def _plain(value: Any) -> Any:
    """Hyperparameters as JSON-able values (tuples to lists, other objects to strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not str(k).startswith("_instantiator")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def run_config_particle_features(ckpt_path: str | Path | None) -> list[str] | None | bool:
    """`data.init_args.particle_features` of the LightningCLI `config.yaml` of the run that wrote the
    checkpoint (searched in the checkpoint's folder and its two parents): a list, None (the defaults),
    or False when no such config is found."""
    if ckpt_path is None:
        return False
    for folder in list(Path(ckpt_path).resolve().parents)[:3]:
        config = folder / "config.yaml"
        if config.is_file():
            data = (yaml.safe_load(config.read_text()) or {}).get("data") or {}
            args = data.get("init_args", data) if isinstance(data, dict) else {}
            return args.get("particle_features") if isinstance(args, dict) else None
    return False


def feature_names(model, checkpoint: dict | None, ckpt_path=None,
                  given: dict[str, list[str]] | None = None) -> tuple[dict[str, Any], str]:
    """({input name: feature names}, where they came from) for the model's input view."""
    from jetzoo.datamodules.views import DEFAULT_PARTICLE_FEATURES
    from jetzoo.physics.features import HL_FEATURE_NAMES

    hp = dict(getattr(model, "hparams", {}))
    view = model.input_view
    names: dict[str, Any] = dict(FIXED_NAMES) if view == "particles" else {}
    if view == "image":
        size = hp.get("image_size", 32)
        names["image"] = f"per-pixel pT fraction of the jet, (1, {size}, {size}) in (Δη, Δφ)"
    key, count = ("hl", hp.get("num_hl_features")) if view == "hl" else ("features", hp.get("num_particle_features"))
    if view not in ("hl", "particles"):
        return names, "fixed by the input view"
    recorded = ((checkpoint or {}).get("jetzoo") or {}).get("feature_names") or {}
    if given and key in given:
        found, source = list(given[key]), "given on the command line"
    elif key in recorded:
        found, source = list(recorded[key]), "recorded in the checkpoint"
    else:
        configured = run_config_particle_features(ckpt_path) if view == "particles" else False
        if configured is not False:
            found = list(configured or DEFAULT_PARTICLE_FEATURES)
            source = "the run's config.yaml (data.particle_features)"
        else:
            found = list(DEFAULT_PARTICLE_FEATURES if view == "particles" else HL_FEATURE_NAMES)
            source = "jetzoo's defaults (not recorded in the checkpoint; pass --feature_names if the data had others)"
    if count is not None and len(found) != count:
        raise ValueError(f"{len(found)} {key} feature names ({source}) but the model takes {count}; "
                         "pass --feature_names with the training data's names")
    names[key] = found
    return names, source


def standardisation(checkpoint: dict | None) -> dict[str, dict[str, list[float]]]:
    """{input name: {"mean": [...], "std": [...]}} from the checkpoint's record (empty if none)."""
    record = ((checkpoint or {}).get("jetzoo") or {}).get("standardisation") or {}
    return {k: {"mean": list(map(float, m)), "std": list(map(float, sd))} for k, (m, sd) in record.items()}


def export_metadata(model, inputs: list[dict[str, Any]], output: dict[str, Any], checkpoint: dict | None = None,
                    ckpt_path=None, given_names: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The self-description of an exported `model` (see the module docstring).

    `inputs`: [{"name", "shape", "dtype"}] in the exported file's order; `output` likewise."""
    from jetzoo import __version__
    from jetzoo.training.checkpoints import class_path_of
    from jetzoo.registry import short_name_of

    names, source = feature_names(model, checkpoint, ckpt_path, given_names)
    record = (checkpoint or {}).get("jetzoo") or {}
    return {
        "format_version": FORMAT_VERSION,
        "model_name": record.get("model_name") or short_name_of(type(model)) or "",
        "model_class": class_path_of(model),
        "jetzoo_version": __version__,
        "task": model.task,
        "input_view": model.input_view,
        "inputs": inputs,
        "output": {**output, "meaning": OUTPUT_MEANING.get(model.task, "")},
        "class_names": list(getattr(model, "class_names", [])),
        "feature_names": names,
        "feature_names_source": source,
        "standardisation": standardisation(checkpoint),
        "standardisation_rule": "x = (raw - mean) / std per feature, then x = 0 where mask is False",
        "hyper_parameters": _plain(dict(getattr(model, "hparams", {}))),
    }
