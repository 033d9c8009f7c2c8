"""Cost of a model, measured on one fixed batch: parameters, FLOPs per jet, training and inference jets/s.

The batch is the first `batch_size` jets of the test split (the same jets for every model and
seed). Throughputs run after 3 warm-up iterations, for at least `seconds` and 3 iterations, on
a copy of the trained model (training: forward, backward and an AdamW step), so no data loader,
validation or logging is counted. FLOPs are torch.utils.flop_counter's count of one forward pass
(matrix products and convolutions; elementwise operations are not counted) divided by the jets.
"""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F

WARMUP = 3


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def flops_per_jet(model, batch: dict) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    # with autograd on: the counter's module tracker hooks every tensor input that requires grad, and a
    # view of a parameter made under no_grad (ParT's expanded class token) requires grad with no
    # gradient function, which it cannot hook. The graph of this one forward pass is discarded.
    with FlopCounterMode(display=False) as counter:
        model(batch)
    return counter.get_total_flops() / len(batch["label"])


def _rate(step, jets: int, seconds: float) -> float:
    for _ in range(WARMUP):
        step()
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < seconds:
        step()
        n += 1
    return n * jets / (time.perf_counter() - start)


def inference_rate(model, batch: dict, seconds: float = 0.5) -> float:
    model.eval()

    def step():
        with torch.no_grad():
            model(batch)

    return _rate(step, len(batch["label"]), seconds)


def training_rate(model, batch: dict, seconds: float = 0.5) -> float:
    model = copy.deepcopy(model)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(batch), batch["label"]).backward()
        optimizer.step()

    return _rate(step, len(batch["label"]), seconds)


def machine() -> dict:
    """The CPU a run trained on: its model name, cores and native bf16. A run's CPU budget buys as many steps as
    the CPU makes, and its rates are the CPU's, so a record names it (2026-12-07: the boards moved from an AMD EPYC
    with AVX512-BF16 to an Intel Xeon without it)."""
    import os
    import platform

    from jetzoo.training.precision import cpu_bf16

    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next((line.partition(":")[2].strip() for line in f if line.startswith("model name")), name)
    except OSError:
        pass
    return {"cpu": name, "cores": os.cpu_count(), "bf16_native": cpu_bf16()}
