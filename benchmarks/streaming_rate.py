"""Is the streaming loader fast enough? Jets/s of the streaming training loader (1 worker) against
what the smallest and a typical model consume, the in-memory loader, and a raw h5py read of the
same bytes, all in one run (issue 8's loader-speed target).

    python benchmarks/streaming_rate.py --path /work/bench_data/streaming/tiled-100000.h5 \
        --out benchmarks/streaming_rate.md

Batch 256, 1 torch thread. Loader rates are steady state (from the first batch on); the time to
the first batch is given apart. Consumption = training steps (forward, backward, AdamW) per second on
real batches of the particles view (ParticleNet-lite) and the hl view (MLP), times the batch size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import h5py
import torch

from jetzoo.registry import create_datamodule, get_model
from jetzoo.training import model_kwargs_from_data

BATCH = 256
STARTUP: dict = {}  # (view, streaming) -> seconds to the first batch


def loader_rate(path: Path, view: str, streaming: bool, workers: int) -> float:
    dm = create_datamodule("pythia", path=str(path), view=view, batch_size=BATCH, streaming=streaming,
                           num_workers=workers)
    dm.setup("fit")
    loader = dm.train_dataloader()
    begin = time.perf_counter()
    batches = iter(loader)
    next(batches)  # steady state: from the first batch on (a worker starts once per epoch)
    start, jets = time.perf_counter(), 0
    for batch in batches:
        jets += len(batch["label"])
    STARTUP[view, streaming] = start - begin
    return jets / (time.perf_counter() - start)


def raw_read_rate(path: Path, view: str) -> float:
    """The bytes the view's streaming reader reads, with h5py in the streaming block size: the jet rows,
    and for every view but hl the four-vectors as well."""
    start = time.perf_counter()
    with h5py.File(path, "r") as f:
        n = len(f["jets"])
        for s in range(0, n, 2048):
            f["jets"][s : s + 2048]
            if view != "hl":
                f["jetConstituentP4"][s : s + 2048]
    return n / (time.perf_counter() - start)


def hl_compute_rate(path: Path, jets: int = 4096) -> float:
    """Jets/s of computing the high-level features from the constituents (what the hl view does for
    files that store none: Top Tagging, JetClass, JetNet, quark-gluon), one process."""
    from jetzoo.datamodules.readers import iter_hls4ml
    from jetzoo.physics.features import high_level_features

    table = next(iter_hls4ml(path, jets))
    start = time.perf_counter()
    high_level_features(table.p4, table.mask, table.jet_radius)
    return len(table) / (time.perf_counter() - start)


def consumption(path: Path, model_name: str, view: str, steps: int = 20, **model_kwargs) -> float:
    dm = create_datamodule("pythia", path=str(path), view=view, batch_size=BATCH, streaming=False, max_jets=20_000)
    dm.setup("fit")
    cls = get_model(model_name)
    model = cls(**model_kwargs_from_data(cls, dm.dims, **model_kwargs))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = [b for _, b in zip(range(steps + 3), dm.train_dataloader())]
    for i, batch in enumerate(batches):
        if i == 3:  # warm-up done
            start = time.perf_counter()
        optimizer.zero_grad()
        model.loss(batch).backward()
        optimizer.step()
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for view, model, kwargs in (("particles", "particlenet", {"config": "lite"}), ("hl", "mlp", {})):
        raw = raw_read_rate(args.path, view)
        stream = loader_rate(args.path, view, True, 1)
        memory = loader_rate(args.path, view, False, 0)
        eats = consumption(args.path, model, view, **kwargs)
        rows.append((view, model, stream, memory, raw, eats))
        print(rows[-1], flush=True)
    lines = [
        "# Streaming loader speed",
        "",
        f"Command: `python {' '.join(sys.argv)}`; batch {BATCH}, 1 torch thread, 1 loader worker for streaming.",
        "",
        "| view | consumer | streaming jets/s | in-memory jets/s | raw h5py jets/s | consumer jets/s "
        "| streaming / consumer | streaming / in-memory | streaming / raw |",
        "|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {v} | {m} | {s:,.0f} | {mem:,.0f} | {r:,.0f} | {e:,.0f} | {s / e:.1f} | {s / mem:.2f} | {s / r:.2f} |"
            for v, m, s, mem, r, e in rows
        ],
        "",
        f"Computing the high-level features from the constituents (files that store none): "
        f"{hl_compute_rate(args.path):,.0f} jets/s in one process, against the MLP's {rows[1][5]:,.0f}.",
        "",
        "Rates are steady-state, from the first batch on. Seconds to the first batch (the worker's start, once "
        "per epoch): " + ", ".join(f"{v} {'streaming' if st else 'in-memory'} {t:.2f} s" for (v, st), t in STARTUP.items()),
    ]
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
