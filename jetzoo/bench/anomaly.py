"""One bench run of an anomaly detector (issue 22 §4-5): trained on the background classes only, scored on every
test jet, and reported per signal class in the convention of arXiv:2212.07347 (Table 3), beside the baseline a
learned detector must beat.

- Training: the model's `train_classes` (default g and q, or QCD; the datamodule drops every other class from
  the training and validation splits), to convergence on the validation loss exactly as the taggers (`patience`,
  the best epoch's weights tested; jetzoo.bench.convergence), and within the spec's `cpu_budget_hours` when it
  sets one (the generative bench's CPU budget covers its anomaly models too).
- Test: the anomaly score of every test jet (higher: more anomalous), for every signal class against all the
  background jets: AUC and εS at εB = 10⁻² (`jetzoo.metrics.anomaly.anomaly_report`).
- Baseline: on the same test jets, the best single observable among the jet mass, τ21 and τ32, each in its better
  direction (`single_observable_baseline`), so that every record carries the number it must beat.
- Output: the scores and labels (OUT/predictions/<label>-seed<k>.h5, not committed), the tested weights
  (OUT/models/, committed: jetzoo.bench.kept) and the record.
"""

from __future__ import annotations

import time

import numpy as np

from jetzoo.bench import convergence, measure
from jetzoo.bench.runs import EpochProgress, build_run, predict_test


def hl_test_features(data) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(high-level features (N, F), their names, labels) of the test split, in the order every view's test
    split has (standardised: an affine map with positive scale, which no AUC or εS depends on)."""
    datamodule = data.for_view("hl")
    hl, labels = [], []
    for batch in datamodule.test_dataloader():
        hl.append(batch["hl"].double().numpy())
        labels.append(batch["label"].numpy())
    return np.concatenate(hl), list(datamodule.feature_names_record()["hl"]), np.concatenate(labels)


def baseline(data, labels: np.ndarray, class_names: list[str], background: list[str]) -> dict:
    """The single-observable baseline on the test jets that gave `labels` (checked to be the same jets)."""
    from jetzoo.metrics.anomaly import single_observable_baseline

    hl, names, hl_labels = hl_test_features(data)
    if not np.array_equal(hl_labels, labels):
        raise RuntimeError("the high-level view's test split is not the anomaly model's: no baseline on other jets")
    return single_observable_baseline(hl, names, labels, class_names, background)


def bench_anomaly(spec, model_spec, seed: int, data, prefix: str, key: str | None = None) -> dict:
    """Train, score and evaluate one anomaly-detector run: {"record", "scores", "labels", "class_names",
    "background_classes"}; with its run `key`, resumable (jetzoo.bench.resume)."""
    from jetzoo.bench import resume

    start, cpu_start = time.perf_counter(), convergence.cpu_seconds()
    plan, datamodule, model = build_run(spec, model_spec, seed, data)
    patience = plan.patience or 3
    best = convergence.BestEpoch()
    clock = convergence.CpuBudget(3600 * spec.cpu_budget_hours) if spec.cpu_budget_hours else convergence.RunClock()
    callbacks = [EpochProgress(prefix, plan.max_epochs), best, convergence.early_stopping(patience), clock]
    trainer, resumed = resume.fit(spec, model_spec, seed, key, prefix, model, datamodule, callbacks,
                                  max_epochs=plan.max_epochs)
    fit_seconds = time.perf_counter() - start
    train_cpu = clock.used()
    best.restore_best(model)
    outputs = anomaly_outputs(spec, model, datamodule, data, seed)
    labels, background = outputs["labels"], outputs["background_classes"]
    record = {
        "status": "ok",
        "task": "anomaly",
        "params": measure.parameter_count(model),
        "train_classes": background,
        "train_jets": int(datamodule.split_sizes["train"]),
        "test_jets": int(len(labels)),
        "metrics": outputs.pop("metrics"),
        "fit_s": fit_seconds,
        "train_cpu_s": train_cpu,
        "cpu_budget_exhausted": bool(getattr(clock, "exhausted", False)),
        "epochs_run": int(trainer.current_epoch),
        "best_epoch": best.best_epoch,
        "curve": best.curve,
        "patience": patience,
        "max_epochs": plan.max_epochs,
        "converged": convergence.converged(best.curve, best.best_epoch, patience, plan.max_epochs,
                                           budget_ended=bool(getattr(clock, "exhausted", False))),
        "precision": str(trainer.precision),
        "recipe": plan.recipe.name if plan.recipe else None,
    }
    record["wall_s"] = time.perf_counter() - start
    record["cpu_s"] = clock.before + convergence.cpu_seconds() - cpu_start  # the earlier processes' training too
    record["resumed"] = resumed
    return {**outputs, "record": record, "model": model}


def anomaly_outputs(spec, model, datamodule, data, seed: int) -> dict:
    """What a trained anomaly detector gives on the test split: {"scores", "labels", "class_names",
    "background_classes", "metrics"} (also how a kept run's predictions are re-made: jetzoo.bench.kept)."""
    from jetzoo.metrics.anomaly import anomaly_report

    scores, labels = predict_test(model, datamodule)
    scores = scores.astype(np.float64).reshape(len(labels))
    class_names, background = list(model.class_names), list(model.train_classes)
    metrics = anomaly_report(scores, labels, class_names, background)
    metrics.update(baseline(data, labels, class_names, background))
    return {"scores": scores, "labels": labels, "class_names": class_names, "background_classes": background,
            "metrics": metrics}
