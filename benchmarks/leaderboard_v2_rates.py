"""Sizing a leaderboard run to convergence: each model's training and inference rate at its recipe's
settings (batch size, constituents, optimiser), measured as `jetzoo bench` measures them (one real batch,
the spec's threads), turned into CPU-hours per epoch and at the recipe's maximum epochs.

    python benchmarks/leaderboard_v2_rates.py --config benchmarks/leaderboard-v2/spec.yaml \
        --sample .cache/top-landscape-v2-seed1-n4000.h5 --train-jets 100000 --val-jets 20000 \
        --test-jets 150000 --repeats 3 --out benchmarks/leaderboard-v2/rates.md

`--sample` is any generated file (the rates depend on the shapes, not on which jets). Each model is
timed `--repeats` times, alternating models, and the median and spread of the training rate are shown.
The estimate leaves out data loading, the bootstrap and the plots: a lower bound per epoch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

from jetzoo.bench import measure
from jetzoo.bench.spec import parse_spec
from jetzoo.registry import create_datamodule, get_model
from jetzoo.training import model_kwargs_from_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument("--train-jets", type=int, required=True)
    parser.add_argument("--val-jets", type=int, required=True)
    parser.add_argument("--test-jets", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    spec, _ = parse_spec(["--config", str(args.config)])
    torch.set_num_threads(spec.trainer.threads or 1)
    data_args = {k: v for k, v in spec.data.args.items() if k not in ("path", "test_fraction", "val_fraction")}
    setups = []
    for model_spec in spec.models:
        plan = spec.training_plan(model_spec)
        cls = get_model(model_spec.name)
        dm = create_datamodule(spec.data.name, path=str(args.sample), view=cls.input_view, **{**data_args, **plan.data_args})
        dm.setup("fit")
        model = cls(**model_kwargs_from_data(cls, dm.dims, **plan.model_args))
        batch = next(iter(dm.train_dataloader()))
        setups.append((spec.label(model_spec), plan, model, batch))
    rates = {label: ([], []) for label, *_ in setups}
    for _ in range(args.repeats):  # models alternate, so a change of load hits all of them
        for label, plan, model, batch in setups:
            rates[label][0].append(measure.training_rate(model, batch, args.seconds))
            rates[label][1].append(measure.inference_rate(model, batch, args.seconds / 2))
            print(label, rates[label][0][-1], rates[label][1][-1], file=sys.stderr, flush=True)
    rows, total_max = [], 0.0
    for label, plan, model, batch in setups:
        train, infer = statistics.median(rates[label][0]), statistics.median(rates[label][1])
        spread = (min(rates[label][0]), max(rates[label][0]))
        epoch_h = (args.train_jets / train + args.val_jets / infer) / 3600
        test_h = args.test_jets / infer / 3600
        at_max = plan.max_epochs * epoch_h + test_h
        total_max += len(spec.seeds_of(next(m for m in spec.models if spec.label(m) == label))) * at_max
        rows.append(f"| {label} | {plan.recipe.name if plan.recipe else '-'} | {len(batch['label'])} | "
                    f"{train:,.0f} ({spread[0]:,.0f}-{spread[1]:,.0f}) | {infer:,.0f} | {epoch_h * 60:.1f} | "
                    f"{plan.max_epochs} | {plan.patience} | {at_max:.2f} |")
    lines = [
        "# Leaderboard v2: rates at each recipe's settings, and what the spec costs",
        "",
        f"Command: `python {' '.join(sys.argv)}`",
        "",
        f"{spec.trainer.threads} thread(s) per run; {args.train_jets:,} training, {args.val_jets:,} validation and "
        f"{args.test_jets:,} test jets; rates from `jetzoo.bench.measure` on one batch of the recipe's size, "
        f"median of {args.repeats} alternating repeats (training range in brackets). CPU-minutes per epoch = "
        "training + one validation pass; at max epochs: the recipe's most epochs (capped by the spec) and the "
        "test pass, the cost of a run that never stops early.",
        "",
        "| model | recipe | batch | train jets/s | infer jets/s | CPU-min/epoch | max epochs | patience | CPU-h at max epochs |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"**Upper bound, every run to its maximum: {total_max:.1f} CPU-hours** (all seeds). Runs stop earlier when "
        "their validation loss stops falling; the training-size curve's smaller sets cost proportionally less.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
