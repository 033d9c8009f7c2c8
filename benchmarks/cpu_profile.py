"""Where a model's CPU time goes: `torch.profiler` over training (forward + cross-entropy + backward) or
inference steps of a registered tagger on real generated jets, the same batches as
benchmarks/weaver_comparison.py (top-landscape, 64 particles, the test split).

    python benchmarks/cpu_profile.py --model part-lite --batch 64            # fp32 training, 1 thread
    python benchmarks/cpu_profile.py --model particlenet-lite --batch 128 --precision bf16 --mode inference

Prints (and with --out appends to a markdown file) the operators ranked by self CPU time, with their
share of the step, the ms per step and the step's jets/s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
os.environ.setdefault("JETZOO_CACHE", str(HERE.parent / ".cache"))


def datamodule(batch_size: int, num_particles: int):
    from jetzoo.generate import ensure_generated
    from jetzoo.registry import create_datamodule

    path = str(ensure_generated(recipe="top-landscape", n=4000, seed=1))
    dm = create_datamodule("pythia", path=path, batch_size=batch_size, num_particles=num_particles, view="particles")
    dm.setup("test")
    return dm


def batches(batch_size: int, num_particles: int, n: int = 4) -> list[dict]:
    dm = datamodule(batch_size, num_particles)
    loader = torch.utils.data.DataLoader(dm.datasets["test"], batch_size=batch_size, collate_fn=dm._collate)
    return [b for _, b in zip(range(n), loader)]


def build(model_name: str, num_particles: int = 64):
    """The registry model sized by the data, as the CLI and the bench size it."""
    from jetzoo.registry import get_model
    from jetzoo.training import model_kwargs_from_data

    cls = get_model(model_name)
    return cls(**model_kwargs_from_data(cls, datamodule(64, num_particles).dims))


def step_fn(model, train: bool, precision: str):
    autocast = (lambda: torch.autocast("cpu", torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext

    def step(batch):
        if train:
            model.zero_grad(set_to_none=True)
            with autocast():
                logits = model(batch)
            F.cross_entropy(logits.float(), batch["label"]).backward()
        else:
            with torch.no_grad(), autocast():
                model(batch)
    return step


def profile(model_name: str, batch_size: int, train: bool, precision: str, steps: int, num_particles: int,
            top: int) -> str:
    data = batches(batch_size, num_particles)
    torch.manual_seed(0)
    model = build(model_name, num_particles)
    model.train(train)
    step = step_fn(model, train, precision)
    for b in data * 2:  # warm-up
        step(b)
    start = time.perf_counter()
    for i in range(steps):
        step(data[i % len(data)])
    per_step = (time.perf_counter() - start) / steps
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for i in range(steps):
            step(data[i % len(data)])
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    rows = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:top]
    mode = "train fwd+bwd" if train else "inference"
    lines = [f"### {model_name}, {mode}, batch {batch_size}, {precision}, {torch.get_num_threads()} thread(s)", "",
             f"{per_step * 1e3:.1f} ms per step unprofiled ({batch_size / per_step:.0f} jets/s), {steps} steps; "
             "self CPU time per operator under the profiler:", "",
             "| operator | calls/step | ms/step | share |", "|---|---|---|---|"]
    for e in rows:
        lines.append(f"| `{e.key}` | {e.count / steps:.0f} | {e.self_cpu_time_total / steps / 1e3:.2f} | "
                     f"{e.self_cpu_time_total / total:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="part-lite")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--mode", choices=["train", "inference"], default="train")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--num-particles", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", help="append the table to this markdown file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    text = profile(args.model, args.batch, args.mode == "train", args.precision, args.steps, args.num_particles,
                   args.top)
    text = f"Command: `python benchmarks/cpu_profile.py {' '.join(sys.argv[1:] if argv is None else argv)}`\n\n" + text
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
