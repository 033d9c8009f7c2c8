"""ONNX export parity of every registered model: onnxruntime against PyTorch on real jets.

For each model of the registry (CPU variants for the heavy ones, as the registry-wide tests), the
weights are those of a short fit on the data (so the outputs are a trained model's, not an
initialisation's), the model is exported once with `jetzoo.export.export_onnx` (traced on 8 jets
x 24 particle slots) and run by onnxruntime on the whole test split in batches of 256 at the
data's full particle count, and on 13 jets x 20 slots (the dynamic axes). Reported: max |ONNX -
PyTorch| over all test jets and logits, whether every jet gets the same class, the file's size,
and jets/s of onnxruntime and of PyTorch (eval, no grad) on one batch of 256 after warm-up, both
on one thread. A model that cannot be exported is listed with its one-line reason.

    python benchmarks/export_parity.py --data .cache/top-landscape-v2-seed1-n4000.h5 --out benchmarks/export_parity.md
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from jetzoo import registry
from jetzoo.export import export_blocker, export_onnx, onnx_outputs
from jetzoo.export.onnx import onnx_feeds, onnx_session
from jetzoo.registry import create_datamodule
from jetzoo.training import model_kwargs_from_data, quiet_trainer

PARTICLE_KEYS = ("features", "points", "p4", "mask")


def sliced(batch, n_jets: int, n_particles: int | None = None):
    return {k: (v[:n_jets, :n_particles] if k in PARTICLE_KEYS and n_particles else v[:n_jets]) for k, v in batch.items()}


def rate(fn, jets: int, seconds: float = 1.0) -> float:
    for _ in range(3):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n * jets / (time.perf_counter() - start)


def parity_row(name: str, data: str, epochs: int, workdir: Path) -> dict:
    cls = registry.get_model(name)
    dm = create_datamodule("pythia", path=data, batch_size=256, num_particles=64)
    dm.view = cls.input_view
    torch.manual_seed(0)
    model = cls(**model_kwargs_from_data(cls, dm.dims))
    reason = export_blocker(model)
    row = {"model": name, "view": cls.input_view, "params": sum(p.numel() for p in model.parameters())}
    if reason:
        return {**row, "blocker": reason}
    if getattr(model, "task", "tagging") != "generation":
        quiet_trainer(max_epochs=epochs, limit_val_batches=0).fit(model, datamodule=dm)
    model.eval()
    batches = list(dm.test_dataloader())
    path = workdir / f"{name}.onnx"
    export_onnx(model, path, batch=sliced(batches[0], 8, 24))
    worst, same, jets = 0.0, 0, 0
    for batch in [*batches, sliced(batches[0], 13, 20)]:
        with torch.no_grad():
            expected = model(batch).numpy()
        got = onnx_outputs(path, batch)
        worst = max(worst, float(np.abs(got - expected).max()))
        jets += len(expected)
        if expected.ndim == 2:
            same += int((got.argmax(1) == expected.argmax(1)).sum())
    first = batches[0]
    with torch.no_grad():
        torch_rate = rate(lambda: model(first), len(first["label"]))
    session = onnx_session(path)  # timing excludes loading the file
    feeds = onnx_feeds(session, first)
    onnx_rate = rate(lambda: session.run(None, feeds), len(first["label"]))
    classify = getattr(model, "task", "tagging") == "tagging"
    return {**row, "max_abs_diff": worst, "same_class": same / jets if classify else None, "test_jets": jets,
            "size_kb": path.stat().st_size / 1024, "torch_jets_s": torch_rate, "onnx_jets_s": onnx_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=".cache/top-landscape-v2-seed1-n4000.h5")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/export_parity.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = [n for n in registry.list_models() if not getattr(registry.get_model(n), "cpu_variant", None)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            rows.append(parity_row(name, args.data, args.epochs, Path(tmp)))
            print(rows[-1], flush=True)
    lines = [
        "# ONNX export parity: onnxruntime against PyTorch",
        "",
        f"Command: `python benchmarks/export_parity.py --data {args.data} --epochs {args.epochs} --out {args.out}`  ",
        f"Environment: {platform.machine()}, 1 thread, torch {torch.__version__}, onnxruntime "
        f"{__import__('onnxruntime').__version__}, opset {__import__('jetzoo.export.onnx', fromlist=['x']).DEFAULT_OPSET}.",
        "",
        f"Each model: {args.epochs} epoch(s) of training on the file's train split, exported once (traced on 8 jets x 24 "
        "slots), then run on every test jet (batches of 256, 64 slots) and on 13 jets x 20 slots (`jets`: all of those). `max |diff|`: over all "
        "those jets and outputs (logits, or the anomaly score). jets/s: one batch of 256 after warm-up, one thread; "
        "onnxruntime times `session.run` of one loaded session; the ratio is the meaningful number on this shared 2-core machine. The registry-wide test "
        "(tests/test_model_contract.py) asserts max |diff| <= 1e-4 on one batch.",
        "",
        "| model | view | params | max abs diff | same class | jets | file kB | PyTorch jets/s | onnxruntime jets/s | ORT / PyTorch |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "blocker" in r:
            lines.append(f"| {r['model']} | {r['view']} | {r['params']:,} | not exportable: {r['blocker']} | | | | | | |")
            continue
        same = f"{r['same_class']:.4f}" if r["same_class"] is not None else "n/a (score)"
        lines.append(f"| {r['model']} | {r['view']} | {r['params']:,} | {r['max_abs_diff']:.2e} | {same} | {r['test_jets']} | "
                     f"{r['size_kb']:.0f} | {r['torch_jets_s']:,.0f} | {r['onnx_jets_s']:,.0f} | "
                     f"{r['onnx_jets_s'] / r['torch_jets_s']:.2f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
