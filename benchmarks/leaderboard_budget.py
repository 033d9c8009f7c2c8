"""Will a bench spec fit its time budget? Training and inference jets/s of every model of the spec,
measured the way `jetzoo bench` measures them (jetzoo.bench.measure: a real batch of the spec's
size, the spec's threads), turned into minutes per run and for the whole spec.

    python benchmarks/leaderboard_budget.py --config benchmarks/leaderboard.yaml \
        --sample .cache/top-landscape-v2-seed1-n4000.h5 --train-jets 125000 --test-jets 112000 \
        --budget-min 150 --out benchmarks/leaderboard_budget.md

`--sample` is any file of the same recipe (the rates depend on the shapes, not on which jets);
`--train-jets` / `--test-jets` are the spec's split sizes. Validation is off in the bench, and
data loading, the bootstrap and the plots are left out, so the estimate is a lower bound.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import yaml

from jetzoo.bench import measure
from jetzoo.registry import create_datamodule, get_model
from jetzoo.training import model_kwargs_from_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument("--train-jets", type=int, required=True)
    parser.add_argument("--test-jets", type=int, required=True)
    parser.add_argument("--budget-min", type=float, default=150)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    spec = yaml.safe_load(args.config.read_text())
    threads, epochs, seeds = spec["trainer"]["threads"], spec["epochs"], spec["seeds"]
    torch.set_num_threads(threads)
    data_args = {k: v for k, v in spec["data"]["args"].items() if k != "path"}
    modules, rows, total = {}, [], 0.0
    for entry in spec["models"]:
        cls = get_model(entry["name"])
        view = cls.input_view
        if view not in modules:
            modules[view] = create_datamodule(spec["data"]["name"], path=str(args.sample), view=view, **data_args)
            modules[view].setup("fit")
        dm = modules[view]
        model = cls(**model_kwargs_from_data(cls, dm.dims, **entry.get("args", {})))
        batch = next(iter(dm.test_dataloader()))
        train, infer = measure.training_rate(model, batch, 2.0), measure.inference_rate(model, batch, 1.0)
        minutes = (epochs * args.train_jets / train + args.test_jets / infer) / 60
        total += seeds * minutes
        rows.append((entry.get("label", entry["name"]), train, infer, minutes))
        print(rows[-1], flush=True)
    lines = [
        "# Leaderboard time budget",
        "",
        f"Command: `python {' '.join(sys.argv)}`",
        "",
        f"{epochs} epochs of {args.train_jets:,} training jets, {args.test_jets:,} test jets, {seeds} seeds, "
        f"{threads} threads, batch {data_args.get('batch_size')}. Rates from `jetzoo.bench.measure` on one real "
        "batch: a lower bound on the time (no data loading, bootstrap or plots).",
        "",
        "| model | train jets/s | inference jets/s | minutes per run | minutes, all seeds |",
        "|---|---|---|---|---|",
        *[f"| {m} | {t:,.0f} | {i:,.0f} | {mn:.1f} | {seeds * mn:.1f} |" for m, t, i, mn in rows],
        "",
        f"**Whole spec: {total:.0f} minutes** against a budget of {args.budget_min:.0f}: "
        + ("fits." if total <= args.budget_min else
           f"over by {total / args.budget_min:.1f}x; at most {args.train_jets * args.budget_min / total:,.0f} "
           f"training jets per epoch (or {max(1, int(epochs * args.budget_min / total))} epochs) would fit."),
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
