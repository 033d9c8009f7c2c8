"""Which functions run a bench run of each kind of model: one table, for training it and for re-making its outputs."""

from __future__ import annotations

from jetzoo.bench.anomaly import anomaly_outputs, bench_anomaly
from jetzoo.bench.generative import bench_generator, generator_outputs
from jetzoo.bench.runs import bench_model, tagger_outputs

RUNS = {"generation": (bench_generator, generator_outputs), "anomaly": (bench_anomaly, anomaly_outputs)}


def task_functions(task: str):
    """(train-and-test, outputs) of a run of a `task` model (a tagger's unless generation or anomaly): what
    `workers.run_one` trains with, and what `kept.remade_outputs` re-makes a finished run's predictions with."""
    return RUNS.get(task, (bench_model, tagger_outputs))
