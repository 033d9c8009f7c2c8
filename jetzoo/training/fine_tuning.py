"""`jetzoo fit --init_from CKPT`: start a new fit from another run's weights (fine-tuning).

The checkpoint is loaded weights-only (`jetzoo.training.checkpoints`); only its `state_dict` is used, never its
optimizer, schedule or loop state (that is `--ckpt_path`, which resumes a fit). Parameter names are
matched with shell-style patterns (`fnmatch`) on the model's `state_dict` keys, e.g. `backbone.body.*`; a
backbone tagger's names may be given without the `backbone.` prefix (`body.*`), and a checkpoint written
before the backbones (names without it) is read with the prefix added:

- `--init_include` (default `*`) and `--init_exclude` choose which of the checkpoint's tensors are
  taken;
- a chosen tensor whose shape differs from the model's keeps the model's fresh initialisation and is
  reported as reset: the classification head when the number of classes differs (pretrain on
  hls4ml-5class, fine-tune on top-landscape);
- `--freeze` patterns set `requires_grad = False` on loaded parameters, which then stay exactly as
  loaded (AdamW skips parameters without gradients). Buffers such as BatchNorm running statistics
  are not parameters and keep updating in training mode.

The inputs must mean the same: when the checkpoint records its input feature names
(`checkpoint["jetzoo"]["feature_names"]`) and they differ from this data's, it is an error.
"""

from __future__ import annotations

import dataclasses
from fnmatch import fnmatchcase

import torch

from jetzoo.training.checkpoints import CheckpointError, load_checkpoint_file


@dataclasses.dataclass
class InitReport:
    loaded: list[str]
    reset: list[str]  # chosen, but another shape in this model
    unused: list[str]  # chosen, but not in this model
    frozen: list[str]

    def summary(self, label: str) -> str:
        parts = [f"loaded {len(self.loaded)} tensors"]
        if self.reset:
            parts.append(f"reset {len(self.reset)} of another shape ({', '.join(self.reset[:4])})")
        if self.unused:
            parts.append(f"{len(self.unused)} not in this model ({', '.join(self.unused[:4])})")
        if self.frozen:
            parts.append(f"froze {len(self.frozen)} parameters")
        return f"jetzoo: --init_from {label}: " + "; ".join(parts)


def _matches(name: str, patterns) -> bool:
    short = name[len("backbone."):] if name.startswith("backbone.") else name
    return any(fnmatchcase(name, p) or fnmatchcase(short, p) for p in patterns)


def init_from_checkpoint(model: torch.nn.Module, path, include=("*",), exclude=(), freeze=(),
                         feature_names: dict | None = None, allow_remote: bool = False) -> InitReport:
    """Load the chosen weights of the checkpoint at `path` into `model` and freeze those `freeze` names.

    `feature_names`: this data's input names by view key (`hl`, `features`), checked against the
    checkpoint's record. Raises `CheckpointError` (one line, naming the file) when nothing fits."""
    label = str(path)
    checkpoint = load_checkpoint_file(path, allow_remote=allow_remote)
    recorded = (checkpoint.get("jetzoo") or {}).get("feature_names") or {}
    view_key = "hl" if getattr(model, "input_view", None) == "hl" else "features"
    if feature_names and recorded.get(view_key) and feature_names.get(view_key) \
            and list(recorded[view_key]) != list(feature_names[view_key]):
        raise CheckpointError(
            f"{label}: its inputs are other features ({', '.join(recorded[view_key][:4])}, ...) than this data's "
            f"({', '.join(feature_names[view_key][:4])}, ...); fine-tuning needs the same inputs"
        )
    from jetzoo.zoo.backbone_task import upgrade_state_dict_keys

    source, own = upgrade_state_dict_keys(model, dict(checkpoint["state_dict"])), model.state_dict()
    chosen = [k for k in source if _matches(k, include or ("*",)) and not _matches(k, exclude or ())]
    loaded = [k for k in chosen if k in own and tuple(own[k].shape) == tuple(source[k].shape)]
    reset = [k for k in chosen if k in own and k not in loaded]
    unused = [k for k in chosen if k not in own]
    if not loaded:
        raise CheckpointError(f"{label}: none of its {len(chosen)} chosen tensors fit this model "
                              f"(patterns include {list(include)}, exclude {list(exclude)})")
    model.load_state_dict({k: source[k] for k in loaded}, strict=False)
    frozen = []
    for pattern in freeze or ():
        named = [(n, p) for n, p in model.named_parameters() if _matches(n, [pattern])]
        if not named:
            raise CheckpointError(f"{label}: --freeze {pattern!r} matches no parameter of {type(model).__name__}")
        not_loaded = [n for n, _ in named if n not in loaded]
        if not_loaded:
            raise CheckpointError(f"{label}: --freeze {pattern!r} would freeze weights not loaded from it "
                                  f"({', '.join(not_loaded[:3])}): they would stay at their random start")
        for name, parameter in named:
            parameter.requires_grad_(False)
            frozen.append(name)
    return InitReport(loaded, reset, unused, sorted(set(frozen)))
