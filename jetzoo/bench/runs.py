"""One (model, seed) run: train on the data's train split, predict its test split, measure the cost."""

from __future__ import annotations

import time
from collections import OrderedDict

import lightning as L
import numpy as np
import torch

from jetzoo.bench import convergence, measure
from jetzoo.bench.console import quiet_bench_output, say  # noqa: F401 - re-exported: the bench's modules say through it
from jetzoo.bench.spec import BenchSpec, DataSpec, ModelSpec
from jetzoo.metrics import bootstrap_intervals, evaluate
from jetzoo.registry import create_datamodule, get_model
from jetzoo.training import model_kwargs_from_data


class DataCache:
    """The jets of one data spec, read once, and the views of them the latest runs asked for.

    A view's arrays are the large part in memory (275k jets at 128 constituents hold ~2 GB per view), so
    only the `max_views` most recently used views are kept: a bench that goes from model to model holds
    the jets and one view, not every view it has made. A view asked for again is rebuilt from the kept jets
    (seconds, against a run's minutes to hours)."""

    def __init__(self, spec: DataSpec, max_views: int = 1):
        if max_views < 1:
            raise ValueError(f"max_views must be at least 1, got {max_views}")
        self.spec = spec
        self.max_views = max_views
        self._jets: L.LightningDataModule | None = None
        self.by_view: OrderedDict[tuple, dict] = OrderedDict()  # (view, options) -> {batch size: datamodule}

    def first(self):
        """The datamodule that read the jets (no view set up): the data's dims and provenance."""
        if self._jets is None:
            self._jets = create_datamodule(self.spec.name, **self.spec.args)
        return self._jets

    def for_view(self, view: str, overrides: dict | None = None):
        """The datamodule of `view`, with a recipe's or a model's own data options (batch size, particles).

        Options other than the batch size make their own view arrays; a batch size alone does not: in memory,
        a copy of the datamodule shares them."""
        import copy
        import json

        overrides = dict(overrides or {})
        batch_size = overrides.pop("batch_size", None)
        key = (view, json.dumps(overrides, sort_keys=True, default=str))
        if key not in self.by_view:
            while len(self.by_view) >= self.max_views:
                self.by_view.popitem(last=False)  # the least recently used view, with its batch sizes
            dm = create_datamodule(self.spec.name, **{**self.spec.args, **overrides})
            if hasattr(dm, "reuse_jets_of"):
                dm.reuse_jets_of(self.first())  # same spec, same jets: read once
            dm.view = view
            dm.setup("fit")
            self.by_view[key] = {None: dm}
        self.by_view.move_to_end(key)
        sizes = self.by_view[key]
        base = sizes[None]
        if batch_size is None or batch_size == getattr(base, "batch_size", None):
            return base
        if batch_size not in sizes:
            if getattr(base, "is_streaming", True):  # a stream is cut into batches when it is set up
                dm = create_datamodule(self.spec.name, **{**self.spec.args, **overrides, "batch_size": batch_size})
                dm.view = view
                dm.setup("fit")
            else:
                dm = copy.copy(base)  # the same arrays, another batch size
                dm.batch_size = batch_size
            sizes[batch_size] = dm
        return sizes[batch_size]

    def manifest_sha256(self) -> str | None:
        dm = self.first()
        try:
            return dm.data_provenance()["manifest_sha256"]
        except Exception:  # noqa: BLE001 - a datamodule without provenance: its name and arguments only
            return None


class EpochProgress(L.Callback):
    """One stderr line per finished epoch: which run, which epoch of how many, the training loss."""

    def __init__(self, prefix: str, epochs: int):
        self.prefix, self.epochs = prefix, epochs

    def on_train_epoch_end(self, trainer, pl_module):
        loss = trainer.callback_metrics.get("train/loss")
        shown = f", train loss {float(loss):.4f}" if loss is not None else ""
        say(f"{self.prefix}: epoch {trainer.current_epoch + 1}/{self.epochs}{shown}")


def predict_test(model, datamodule) -> tuple[np.ndarray, np.ndarray]:
    """(logits float32 (N, C), labels (N,)) of the test split, in its fixed order."""
    model.eval()
    logits, labels = [], []
    with torch.no_grad():
        for batch in datamodule.test_dataloader():
            logits.append(model(batch).float())
            labels.append(batch["label"])
    return torch.cat(logits).numpy(), torch.cat(labels).numpy()


def measured(function, *args, prefix: str) -> float:
    """A cost measurement, or NaN with a one-line warning: a trained run's metrics are never lost to it."""
    try:
        return function(*args)
    except Exception as err:  # noqa: BLE001 - the run's predictions and metrics stand without the cost column
        from jetzoo.registry import describe

        say(f"{prefix}: {function.__name__} not measured: {describe(err)}")
        return float("nan")


def first_test_batch(datamodule) -> dict:
    return next(iter(datamodule.test_dataloader()))


def build_run(spec: BenchSpec, model_spec: ModelSpec, seed: int, data: DataCache):
    """(training plan, datamodule of the model's view, model seeded by `seed`) of one run: its weights, and a
    generator's noise (`noise_seed`, unless its plan sets one), depend on the seed."""
    plan = spec.training_plan(model_spec)
    model_cls = get_model(model_spec.name)
    datamodule = data.for_view(model_cls.input_view, plan.data_args)
    L.seed_everything(seed, workers=True, verbose=False)
    defaults = {"noise_seed": seed} if model_cls.task == "generation" else {}
    model = model_cls(**model_kwargs_from_data(model_cls, datamodule.dims, **{**defaults, **plan.model_args}))
    return plan, datamodule, model


def bench_model(spec: BenchSpec, model_spec: ModelSpec, seed: int, data: DataCache, prefix: str,
                key: str | None = None) -> dict:
    """Train, predict and measure one run: {"logits", "labels", "class_names", "background_classes", "record"};
    with its run `key`, resumable (jetzoo.bench.resume)."""
    from jetzoo.bench import resume

    start, cpu_start = time.perf_counter(), convergence.cpu_seconds()
    plan, datamodule, model = build_run(spec, model_spec, seed, data)
    clock = convergence.RunClock()
    callbacks: list = [EpochProgress(prefix, plan.max_epochs), clock]
    best = None
    if plan.patience is None:  # the fixed-epochs protocol (the particle-level board): no validation
        validation = {"limit_val_batches": 0}
    else:  # to convergence: validation every epoch, early stopping, the best epoch tested
        best = convergence.BestEpoch()
        callbacks += [best, convergence.early_stopping(plan.patience)]
        validation = {}
    trainer, resumed = resume.fit(spec, model_spec, seed, key, prefix, model, datamodule, callbacks,
                                  max_epochs=plan.max_epochs, **validation)
    fit_seconds = time.perf_counter() - start
    train_cpu = clock.used()
    if best is not None:
        best.restore_best(model)
    outputs = tagger_outputs(spec, model, datamodule, data, seed)
    logits, labels, result = outputs["logits"], outputs["labels"], outputs.pop("result")
    class_names, background, efficiencies = (outputs[k] for k in ("class_names", "background_classes", "signal_efficiencies"))
    intervals = bootstrap_intervals(logits, labels, class_names, background, efficiencies, n_resamples=spec.bootstrap_resamples)
    batch = first_test_batch(datamodule)
    record = {
        "status": "ok",
        "params": measure.parameter_count(model),
        "flops_per_jet": measured(measure.flops_per_jet, model, batch, prefix=prefix),
        "train_jets_per_s": measured(measure.training_rate, model, batch, spec.timing_seconds, prefix=prefix),
        "infer_jets_per_s": measured(measure.inference_rate, model, batch, spec.timing_seconds, prefix=prefix),
        "timing_batch": len(batch["label"]),
        "train_jets": int(datamodule.split_sizes["train"]),
        "test_jets": int(len(labels)),
        "fit_s": fit_seconds,
        "epochs_run": int(trainer.current_epoch),
        "precision": str(trainer.precision),
        "metrics": outputs.pop("metrics"),
        "lower_bounds": {p.name: p.lower_bound for p in result.rejections},
        "intervals": intervals,
        "rejections": [
            {"name": p.name, "signal": p.signal, "background": list(p.background), "efficiency": p.efficiency,
             "convention": p.convention}
            for p in result.rejections
        ],
    }
    if best is not None:
        record.update(best_epoch=best.best_epoch, curve=best.curve, patience=plan.patience, max_epochs=plan.max_epochs,
                      converged=convergence.converged(best.curve, best.best_epoch, plan.patience, plan.max_epochs))
    record["recipe"] = plan.recipe.name if plan.recipe else None
    record["wall_s"] = time.perf_counter() - start
    record["train_cpu_s"] = train_cpu  # every process's training of this run, when it was resumed
    record["cpu_s"] = clock.before + convergence.cpu_seconds() - cpu_start  # the earlier processes' training too
    record["resumed"] = resumed
    return {**outputs, "record": record, "model": model}


def tagger_outputs(spec: BenchSpec, model, datamodule, data: DataCache, seed: int) -> dict:
    """What a trained tagger gives on the test split: {"logits", "labels", "class_names", "background_classes",
    "signal_efficiencies", "metrics", "result"} (also how a kept run's predictions are re-made: jetzoo.bench.kept)."""
    logits, labels = predict_test(model, datamodule)
    class_names = list(model.class_names)
    background = [c for c in datamodule.dims.get("background_classes", ()) if c in class_names]
    efficiencies = list(datamodule.dims.get("signal_efficiencies", (0.5, 0.3)))
    result = evaluate(logits, labels, class_names, background, efficiencies)
    return {"logits": logits, "labels": labels, "class_names": class_names, "background_classes": background,
            "signal_efficiencies": efficiencies, "metrics": result.values(), "result": result}
