"""Datamodule throughput per view, against what the MLP and a ParticleNet consume per second.

    python benchmarks/datamodule_rate.py --n 4000 --out benchmarks/datamodule_rate.md

For each view: the one-off set-up cost (reading, splitting, computing the view, fitting the
standardisation) in jets/s, and the training loader's rate in jets/s over full epochs.
Consumption: training steps (forward + backward + AdamW) per second of `mlp` on the `hl`
view and of `particlenet` (lite and full) on the `particles` view, on the same batches. A
ratio loader/consumer above 1 means the data never starves the model.
"""

from __future__ import annotations

import argparse
import time

import torch

from jetzoo.generate import ensure_generated
from jetzoo.registry import create_datamodule, get_model
from jetzoo.training import model_kwargs_from_data


def loader_rate(dm, epochs: int = 2) -> float:
    n, start = 0, time.perf_counter()
    for _ in range(epochs):
        for batch in dm.train_dataloader():
            n += len(batch["label"])
    return n / (time.perf_counter() - start)


def training_rate(model, dm, steps: int) -> float:
    batches = [b for _, b in zip(range(steps), dm.train_dataloader())]
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    model.train()
    model.loss(batches[0]).backward()  # warm-up
    n, start = 0, time.perf_counter()
    for batch in batches:
        opt.zero_grad()
        model.loss(batch).backward()
        opt.step()
        n += len(batch["label"])
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-particles", type=int, default=64)
    parser.add_argument("--out", default="benchmarks/datamodule_rate.md")
    args = parser.parse_args()
    path = ensure_generated("top-landscape", args.n, 1)
    rows, dms = [], {}
    for view in ("hl", "particles", "image", "cloud"):
        start = time.perf_counter()
        dm = create_datamodule("pythia", path=str(path), view=view, batch_size=args.batch_size, num_particles=args.num_particles)
        dm.setup("fit")
        setup = len(dm.table) / (time.perf_counter() - start)
        dms[view] = dm
        rows.append((view, setup, loader_rate(dm)))
    consumers = [("mlp", "hl", {}, 30), ("particlenet", "particles", {"config": "lite"}, 6), ("particlenet", "particles", {"config": "full"}, 2)]
    consumed = []
    for name, view, kwargs, steps in consumers:
        cls = get_model(name)
        model = cls(**model_kwargs_from_data(cls, dms[view].dims, **kwargs))
        consumed.append((f"{name} {kwargs.get('config', '')}".strip(), view, training_rate(model, dms[view], steps)))
    loader = {view: rate for view, _, rate in rows}
    lines = [
        "# Datamodule throughput vs. model consumption (CPU)",
        "",
        f"Made by: `python benchmarks/datamodule_rate.py --n {args.n} --batch-size {args.batch_size} --num-particles {args.num_particles}`",
        f"on {torch.get_num_threads()} CPU threads, top-landscape jets, P = {args.num_particles}, batch {args.batch_size}.",
        "",
        "| view | set-up jets/s (read + view + standardise) | training loader jets/s |",
        "|---|---|---|",
        *[f"| {v} | {s:,.0f} | {r:,.0f} |" for v, s, r in rows],
        "",
        "| consumer | view | training jets/s | loader / consumer |",
        "|---|---|---|---|",
        *[f"| {c} | {v} | {r:,.0f} | {loader[v] / r:,.1f} |" for c, v, r in consumed],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
