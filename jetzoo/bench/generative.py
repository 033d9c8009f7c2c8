"""One bench run of a generator (issue 22 §5): train within a fixed CPU budget, keep the checkpoint of the best
validation W1M, generate N jets and report them against the test jets with the JetNet protocol and its truth
floors (`jetzoo.metrics.generated.evaluate_generated`).

- Budget: `cpu_budget_hours` (spec key, default 1.5, the same for every generator) of this process's CPU time
  from the start of the fit; training stops at the first batch past it, or at `epochs`.
- Convergence rule: the epoch of the lowest validation W1M (`val/loss` of the generation task), restored
  before testing (MPGAN's rule); the record keeps the curve of validation W1M against training CPU time.
  A W1M point samples `val_jets` validation jets (spec key; the validation batches that hold them) and the
  points take at most VALIDATION_SHARE of the budget (`convergence.CpuBudget`): a cheap generator gets a point
  every epoch, an expensive sampler (epic-fm's ODE) fewer, and one more comes when the budget ends.
- Test: the test split's jets, alternately into a real and a reference sample; N = min(`eval_jets`, the
  real sample): N jets generated with the real sample's labels (its classes), timed (µs a jet), and the
  report of them and of the reference sample against the real one at N.
- Output: the generated jets as a JetNet-layout file (OUT/predictions/<label>-seed<k>.h5), not committed, and the
  weights that made them (OUT/models/, committed: jetzoo.bench.kept re-makes the jets from them).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from jetzoo.bench import convergence, measure
from jetzoo.bench.console import say
from jetzoo.bench.runs import EpochProgress, build_run
from jetzoo.errors import TrainingError

DEFAULT_CPU_BUDGET_HOURS = 1.5
DEFAULT_EVAL_JETS = 50_000
VALIDATION_SHARE = 0.25  # of a run's CPU budget, at most, for its W1M points (sampling the validation jets)


def test_jets(datamodule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    clouds, masks, labels = [], [], []
    for batch in datamodule.test_dataloader():
        clouds.append(batch["cloud"].float().numpy())
        masks.append(batch["mask"].bool().numpy())
        labels.append(batch["label"].numpy())
    return np.concatenate(clouds), np.concatenate(masks), np.concatenate(labels)


def generated_jets(model, labels: np.ndarray, seed: int, batch_size: int = 1024):
    """(cloud, mask, CPU-µs a jet) of len(labels) jets sampled with a generator seeded by `seed`. The time is the
    process's CPU time (on the run's threads: 1 in the boards), not the wall clock, which the other runs sharing the
    machine's cores inflate."""
    generator = torch.Generator().manual_seed(seed)
    clouds, masks = [], []
    model.eval()
    start = time.process_time()
    with torch.no_grad():
        for chunk in np.array_split(labels, max(1, -(-len(labels) // batch_size))):
            cloud, mask = model.sample(torch.as_tensor(chunk, dtype=torch.long), generator)
            clouds.append(cloud.float().numpy())
            masks.append(mask.bool().numpy())
    us = 1e6 * (time.process_time() - start) / max(len(labels), 1)
    return np.concatenate(clouds), np.concatenate(masks), us


def bench_generator(spec, model_spec, seed: int, data, prefix: str, key: str | None = None) -> dict:
    """Train, generate and evaluate one generator run: {"record", "generated": (cloud, mask, labels, class_names)};
    with its run `key`, resumable (jetzoo.bench.resume)."""
    from jetzoo.bench import resume
    from jetzoo.training.recipes import build_callbacks

    start, cpu_start = time.perf_counter(), convergence.cpu_seconds()
    plan, datamodule, model = build_run(spec, model_spec, seed, data)
    budget = convergence.CpuBudget(3600 * (spec.cpu_budget_hours or DEFAULT_CPU_BUDGET_HOURS), VALIDATION_SHARE)
    best = convergence.BestEpoch()
    callbacks = [EpochProgress(prefix, plan.max_epochs), budget, best, *build_callbacks(plan.recipe)]
    recipe_args = (plan.recipe.trainer_args or {}) if plan.recipe else {}
    if spec.val_jets is not None:  # the same validation jets for every generator, whatever its batch size
        recipe_args = {**recipe_args, "limit_val_batches": -(-spec.val_jets // datamodule.batch_size)}
    trainer, ckpt_path = resume.prepared_trainer(spec, model_spec, seed, key, prefix, callbacks,
                                                 **{"max_epochs": plan.max_epochs, **recipe_args})
    diverged = None
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except TrainingError as err:  # diverged (NaN): its best epoch before that is the run's generator, MPGAN's rule
        if best.best_state is None:
            raise
        diverged = str(err)
        say(f"{prefix}: stopped, {diverged}; testing its best epoch ({best.best_epoch})")
    resumed = ckpt_path is not None
    train_cpu = budget.used()
    best.restore_best(model)
    outputs = generator_outputs(spec, model, datamodule, data, seed)
    record = {
        "status": "ok",
        "task": "generation",
        "params": measure.parameter_count(model),
        "train_jets": int(datamodule.split_sizes["train"]),
        "test_jets": outputs.pop("test_jets"),
        "n_jets": outputs.pop("n_jets"),
        "metrics": outputs.pop("metrics"),
        "gen_us_per_jet": outputs.pop("us_per_jet"),
        "train_cpu_s": train_cpu,
        "cpu_budget_exhausted": budget.exhausted,
        "diverged": diverged,
        "epochs_run": int(trainer.current_epoch),
        "best_epoch": best.best_epoch,
        "curve": budget.curve,
        "precision": str(trainer.precision),
        "recipe": plan.recipe.name if plan.recipe else None,
        "fit_s": time.perf_counter() - start,
    }
    record["wall_s"] = time.perf_counter() - start
    record["cpu_s"] = budget.before + convergence.cpu_seconds() - cpu_start  # the earlier processes' training too
    record["resumed"] = resumed
    return {**outputs, "record": record, "model": model}


def generator_outputs(spec, model, datamodule, data, seed: int) -> dict:
    """What a trained generator gives against the test split: {"generated": (cloud, mask, labels, class_names),
    "metrics", "n_jets", "test_jets", "us_per_jet"}. The test jets go alternately into a real and a reference
    sample; N = min(`eval_jets`, the real sample) jets are generated with the real sample's labels, seeded by
    `seed` (also how a kept run's jets are re-made: jetzoo.bench.kept)."""
    from jetzoo.metrics.generated import evaluate_generated

    cloud, mask, labels = test_jets(datamodule)
    real = (cloud[0::2], mask[0::2])
    reference = (cloud[1::2], mask[1::2])
    n = min(spec.eval_jets or DEFAULT_EVAL_JETS, len(real[0]), len(reference[0]))
    gen_cloud, gen_mask, us_per_jet = generated_jets(model, labels[0::2][:n], seed)
    metrics = evaluate_generated((real[0][:n], real[1][:n]), (gen_cloud, gen_mask), (reference[0][:n], reference[1][:n]),
                                 jet_radius=model.jet_radius, seed=seed, max_jets=n)
    n_jets = int(metrics.pop("n_jets"))
    return {"generated": (gen_cloud, gen_mask, labels[0::2][:n], list(model.class_names)), "metrics": metrics,
            "n_jets": n_jets, "test_jets": int(len(labels)), "us_per_jet": us_per_jet}
