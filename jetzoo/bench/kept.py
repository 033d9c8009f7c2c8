"""A finished run keeps the weights it tested, so its predictions can be re-made rather than re-trained.

A bench's predictions (OUT/predictions/, every test jet's logits, scores or generated jets) are large and not
committed; its records are. Without them a fresh clone, or the same checkout on a new machine, could rebuild no
significance test, ROC curve or distribution plot, and the bench re-trained every run to get them back (the
leaderboard-v2 board is ~40 CPU-hours). So each finished run also writes the weights it tested,
OUT/models/<label>-seed<k>.pt (its best epoch; kilobytes to a few MB, committed with the record), and a re-run
bench that finds a run's record and weights but not its predictions re-makes them: the same model, the same test
jets, the same seed. The re-made metrics must equal the recorded ones (they are the same computation on the same
numbers); if they do not, the bench says so and trains the run again.

Which runs qualify is one rule (`kept_record`): the record is "ok" with the spec's run key, its weights exist,
and it is not stale (made by other code) unless the spec keeps stale runs (`--rerun_stale false`, the default,
under which a stale run is kept and shown as such, so its predictions are re-made too).
"""

from __future__ import annotations

import math
from pathlib import Path

from jetzoo.bench import code_version, store
from jetzoo.bench.console import say
from jetzoo.bench.spec import BenchSpec, ModelSpec


def kept_record(spec: BenchSpec, model: ModelSpec, seed: int, key: str) -> dict | None:
    """The record of a finished run whose predictions can be re-made from its kept weights, else None."""
    out, label = Path(spec.out), spec.label(model)
    record = store.read_record(store.record_path(out, label, seed))
    if not record or record.get("key") != key or record.get("status") != "ok":
        return None
    if not store.model_path(out, label, seed).is_file():
        return None
    if spec.rerun_stale and code_version.stale_reason(record):
        return None
    return record


def remade_outputs(spec: BenchSpec, model_spec: ModelSpec, seed: int, data, prefix: str, record: dict) -> dict | None:
    """The run's outputs (as its training gave them) from its kept weights, or None (said why) when they cannot be
    re-made or their metrics are not the recorded ones."""
    from jetzoo.bench.runs import build_run
    from jetzoo.bench.tasks import task_functions
    from jetzoo.registry import describe, get_model

    path = store.model_path(Path(spec.out), spec.label(model_spec), seed)
    _, outputs_of = task_functions(get_model(model_spec.name).task)
    try:
        kept = store.read_model(path)
        if kept.get("jetzoo_bench", {}).get("key") != record["key"]:
            raise ValueError(f"{path}: its weights are of another run key")
        _, datamodule, model = build_run(spec, model_spec, seed, data)
        model.load_state_dict(kept["state_dict"])
        as_fitted(datamodule, model)
        outputs = outputs_of(spec, model, datamodule, data, seed)
    except Exception as err:  # noqa: BLE001 - the run is trained again instead
        say(f"{prefix}: its predictions could not be re-made from {path} ({describe(err)}): training it again")
        return None
    differs = metrics_differ(outputs["metrics"], record.get("metrics", {}))
    if differs:
        say(f"{prefix}: predictions re-made from {path} do not give the recorded {differs}: training it again")
        return None
    say(f"{prefix}: finished before; predictions re-made from its kept weights ({path.name}), metrics as recorded")
    return outputs


def as_fitted(datamodule, model) -> None:
    """Set `datamodule` up as the run's fit did: with the model attached, whose attributes decide the splits (an
    anomaly detector's `train_classes` keep only background jets in training, and the standardisation is fitted on
    them). Lightning attaches its trainer during fit; here the model is all that `setup` reads of it."""
    import types

    previous = datamodule.trainer
    datamodule.trainer = types.SimpleNamespace(lightning_module=model)
    try:
        datamodule.setup("fit")
    finally:
        datamodule.trainer = previous


def metrics_differ(made: dict, recorded: dict, rel: float = 1e-9) -> str | None:
    """The first metric (name, made vs recorded) that differs beyond rounding, or None when all are the same."""
    for name in sorted(set(made) | set(recorded)):
        a, b = made.get(name), recorded.get(name)
        if isinstance(a, dict) or isinstance(b, dict):
            inner = metrics_differ(a or {}, b or {}, rel)
            if inner:
                return f"{name}.{inner}"
            continue
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            a, b = float(a), float(b)
            if (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=1e-12):
                continue
        elif a == b:
            continue
        return f"{name} ({a} vs {b})"
    return None
