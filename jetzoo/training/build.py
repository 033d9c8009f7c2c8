"""Building a model for a datamodule, and one fit + test: shared by the CLI, `jetzoo bench` and the tests."""

from __future__ import annotations

import inspect
from typing import Any

import lightning as L

from jetzoo.registry import create_datamodule, get_model


def init_parameters(model_cls: type) -> set[str]:
    """The keyword arguments `model_cls(...)` takes: its `__init__`'s and, as long as an `__init__`
    forwards `**kwargs` to its base, the base's (the shared `class_names`, `lr`, ... of JetTagger)."""
    names: set[str] = set()
    for klass in model_cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def model_kwargs_from_data(model_cls: type, dims: dict[str, Any], **kwargs) -> dict[str, Any]:
    """`kwargs` plus every data-determined value (dims) the model takes an argument for."""
    params = init_parameters(model_cls)
    return {**kwargs, **{k: v for k, v in dims.items() if k in params}}


def build(model: str, data: str, model_kwargs: dict | None = None, data_kwargs: dict | None = None):
    """(model, datamodule) by registry short names, the data's dimensions flowing to the model."""
    datamodule = create_datamodule(data, **(data_kwargs or {}))
    model_cls = get_model(model)
    return model_cls(**model_kwargs_from_data(model_cls, datamodule.dims, **(model_kwargs or {}))), datamodule


def jetzoo_trainer_extras() -> dict:
    """What every jetzoo Trainer carries: safe atomic checkpoint I/O, exact-resume state, provenance,
    and the test ROC beside the run's logs (jetzoo.training.roc_callback)."""
    from jetzoo.training.checkpoints import CheckpointProvenance, SafeCheckpointIO
    from jetzoo.training.resume import ExactResume
    from jetzoo.training.roc_callback import TestRocWriter

    return {"plugins": [SafeCheckpointIO()], "callbacks": [ExactResume(), CheckpointProvenance(), TestRocWriter()]}


def quiet_trainer(**kwargs) -> L.Trainer:
    extras = jetzoo_trainer_extras()
    kwargs["callbacks"] = [*extras["callbacks"], *kwargs.get("callbacks", [])]
    kwargs.setdefault("plugins", extras["plugins"])
    defaults = dict(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    return L.Trainer(**{**defaults, **kwargs})


def fit_and_test(model, datamodule, max_epochs: int = 1, max_steps: int = -1, seed: int = 0, **trainer_kwargs) -> dict[str, float]:
    """Train, then test on the held-out split; returns the logged test metrics as floats."""
    L.seed_everything(seed, workers=True, verbose=False)
    trainer = quiet_trainer(max_epochs=max_epochs, max_steps=max_steps, **trainer_kwargs)
    trainer.fit(model, datamodule=datamodule)
    results = trainer.test(model, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in results[0].items()}
