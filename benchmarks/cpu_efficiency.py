"""The roofline table (issue 21, item 3): how much of this CPU core each model's training uses.

    python benchmarks/cpu_efficiency.py            # writes benchmarks/cpu_efficiency.md (1 thread)

For each registered tagger, on real generated jets (the batches of benchmarks/weaver_comparison.py:
top-landscape, at most 64 particles, the test split):

* FLOPs per jet, forward: torch.utils.flop_counter over each of 64 jets alone, cut to its own particles, so
  that padding is never counted (matrix products and convolutions; elementwise work is not counted);
* FLOPs per jet, training: the forward count times the ratio (forward + backward) / forward that the counter
  gives on the whole batch;
* training jets/s (forward, cross-entropy, backward, AdamW step) and inference jets/s, as `jetzoo bench`
  measures them (jetzoo.bench.measure), in fp32 and under bf16 autocast;
* achieved GFLOP/s = training FLOPs per jet x training jets/s, and its fraction of the peak.

The peak of a dtype is the best matrix product measured in the same run on the same core: for fp32 the
better of MKL (PyTorch's default) and oneDNN (the kernel jetzoo routes to, jetzoo.zoo.onednn), for bf16
oneDNN's; the median of repeats on large shapes.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_profile import batches, build  # noqa: E402  (the same real jets, the model sized as the CLI does)

from jetzoo.bench.measure import inference_rate, training_rate  # noqa: E402
from jetzoo.zoo import onednn  # noqa: E402

PEAK_SHAPES = [(8192, 128, 512), (2048, 512, 512), (1024, 1024, 1024)]
BATCH = {"part-lite": 64, "part": 32, "particlenet": 32}


def matmul_gflops(dtype: torch.dtype, route: bool, repeats: int = 7) -> float:
    best = 0.0
    for m, k, n in PEAK_SHAPES:
        a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
        with onednn.routed() if route else contextlib.nullcontext():
            for _ in range(2):
                a @ b
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                a @ b
                times.append(time.perf_counter() - start)
        best = max(best, 2 * m * k * n / statistics.median(times) / 1e9)
    return best


def cut(batch: dict, j: int) -> dict:
    n = max(int(batch["mask"][j].sum()), 1) if "mask" in batch else None
    return {key: (value[j:j + 1, :n] if n is not None and value.dim() >= 2 and value.size(1) == batch["mask"].size(1)
                  else value[j:j + 1]) for key, value in batch.items()}


def count(fn) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return float(counter.get_total_flops())


def model_row(name: str, data: list[dict], peaks: dict, seconds: float) -> list[dict]:
    batch = data[0]
    torch.manual_seed(0)
    model = build(name)
    if model.input_view != "particles":
        return []
    model.eval()
    per_jet = [count(lambda: model(cut(batch, j))) for j in range(min(64, len(batch["label"])))]
    fwd = statistics.fmean(per_jet)
    train_model = copy.deepcopy(model).train()
    whole_fwd = count(lambda: train_model(batch))
    whole_train = count(lambda: F.cross_entropy(train_model(batch), batch["label"]).backward())
    train = fwd * whole_train / whole_fwd
    rows = []
    for precision in ("fp32", "bf16"):
        autocast = torch.autocast("cpu", torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
        with autocast:
            train_rate = statistics.median(training_rate(model, batch, seconds) for _ in range(3))
            infer_rate = statistics.median(inference_rate(model, batch, seconds) for _ in range(3))
        achieved = train * train_rate / 1e9
        rows.append({"model": name, "precision": precision, "batch": len(batch["label"]), "fwd": fwd, "train": train,
                     "train_rate": train_rate, "infer_rate": infer_rate, "gflops": achieved,
                     "fraction": achieved / peaks[precision]})
        print(rows[-1], flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="pfn,efn,rnn,interaction-net,particlenet-lite,part-lite")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per throughput measurement")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "cpu_efficiency.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    command = "python benchmarks/cpu_efficiency.py " + " ".join(sys.argv[1:] if argv is None else argv)
    peaks_measured = {"fp32 MKL": matmul_gflops(torch.float32, False), "fp32 oneDNN": matmul_gflops(torch.float32, True),
                      "bf16 oneDNN": matmul_gflops(torch.bfloat16, False)}
    peaks = {"fp32": max(peaks_measured["fp32 MKL"], peaks_measured["fp32 oneDNN"]), "bf16": peaks_measured["bf16 oneDNN"]}
    print(peaks_measured, flush=True)
    rows = []
    for name in args.models.split(","):
        data = batches(BATCH.get(name, 128), 64, n=1)
        rows += model_row(name, data, peaks, args.seconds)
    lines = [
        "# CPU efficiency: the roofline table", "",
        f"Command: `{command}`  ", f"{args.threads} thread(s), torch {torch.__version__}; jetzoo's oneDNN routing "
        f"{'on' if onednn.stays_fp32() else 'off'} (jetzoo.zoo.onednn).", "",
        "Peak (best matrix product on this core, this run, GFLOP/s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in peaks_measured.items())
        + f". Fractions use fp32 {peaks['fp32']:.0f} and bf16 {peaks['bf16']:.0f}.", "",
        "FLOPs per jet on the real particles only (each jet counted alone at its own multiplicity); training "
        "FLOPs = forward x the batch's (forward + backward) / forward. Matrix products and convolutions only.", "",
        "| model | precision | batch | MFLOP/jet forward | MFLOP/jet training | train jets/s | inference jets/s | "
        "achieved GFLOP/s (training) | fraction of peak |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['precision']} | {r['batch']} | {r['fwd'] / 1e6:.2f} | {r['train'] / 1e6:.2f} | "
                     f"{r['train_rate']:,.0f} | {r['infer_rate']:,.0f} | {r['gflops']:.1f} | {r['fraction']:.1%} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
