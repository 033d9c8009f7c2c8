"""Peak memory of `jetzoo fit`, in memory vs streaming, at growing dataset sizes (issue 8 targets).

Real generated jets (a `jetzoo generate` file) are tiled into bigger files in the hls4ml layout
(uncompressed, constituent four-vectors only; the tiles are new files, so their jets are identified
by (sha256, row) and never count as duplicates). For each size and mode one real
`jetzoo fit` runs (ParticleNet-lite on the particles view, 2 loader workers; and the MLP on the hl
view), and the summed PSS of its whole process tree (main process, loader workers) is sampled at
10 Hz; the peak is reported.

    python benchmarks/streaming_memory.py --source .cache/top-landscape-v2-seed1-n4000.h5 \
        --sizes 100000 400000 1600000 --work /work/bench_data/streaming --out benchmarks/streaming_memory.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import psutil

JETZOO = str(Path(sys.executable).with_name("jetzoo"))
ROWS_PER_WRITE = 100_000


def tile(source: Path, n: int, out: Path) -> Path:
    """`n` jets: the source's jets repeated, in the hls4ml layout (jets, names, jetConstituentP4)."""
    if out.exists():
        return out
    with h5py.File(source, "r") as f:
        jets, names, p4 = f["jets"][:], f["jetFeatureNames"][:], f["jetConstituentP4"][:]
        class_names, radius = list(f.attrs["class_names"]), float(f.attrs["jet_radius"])
    tmp = out.with_suffix(".tmp")
    with h5py.File(tmp, "w") as f:
        dj = f.create_dataset("jets", (n, jets.shape[1]), np.float32, chunks=(2048, jets.shape[1]))
        dp = f.create_dataset("jetConstituentP4", (n, *p4.shape[1:]), np.float32, chunks=(2048, *p4.shape[1:]))
        f["jetFeatureNames"] = names
        f.attrs.update(class_names=class_names, jet_radius=radius)
        for start in range(0, n, ROWS_PER_WRITE):
            rows = np.arange(start, min(n, start + ROWS_PER_WRITE)) % len(jets)
            dj[start : start + len(rows)], dp[start : start + len(rows)] = jets[rows], p4[rows]
    tmp.rename(out)
    return out


def tree_pss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def peak_pss(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(peak summed PSS in GB, wall seconds, exit code) of `command`, sampled at 10 Hz."""
    start, peak = time.perf_counter(), 0
    with open(cwd / "log.txt", "w") as log:
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            peak = max(peak, tree_pss(watched))
            time.sleep(0.1)
    return peak / 1e9, time.perf_counter() - start, process.returncode


def fit_command(model: list[str], path: Path, streaming: bool) -> list[str]:
    return [
        JETZOO, "fit", *model, "--data.path", str(path), "--data.streaming", str(streaming).lower(),
        "--data.num_workers", "2", "--trainer.max_steps", "30", "--trainer.limit_val_batches", "2",
        "--test_after_fit", "false", "--trainer.enable_checkpointing", "false", "--trainer.logger", "false",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
    ]


MODELS = {  # name: (arguments, also run in memory)
    "ParticleNet-lite (particles)": (["--model", "particlenet", "--model.config", "lite"], True),
    "MLP (hl)": (["--model", "mlp"], False),  # the target is that streaming stays flat
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 400_000, 1_600_000])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--in-memory-max", type=int, default=1_600_000, help="largest size also run in memory")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        path = tile(args.source, n, args.work / f"tiled-{n}.h5")
        for model, (model_args, in_memory_too) in MODELS.items():
            for streaming in (False, True):
                if not streaming and (n > args.in_memory_max or not in_memory_too):
                    continue
                cwd = args.work / f"run-{n}-{model.split()[0]}-{streaming}"
                cwd.mkdir(exist_ok=True)
                done = cwd / "result.json"  # a re-run reuses finished measurements
                if not done.exists():
                    done.write_text(json.dumps(peak_pss(fit_command(model_args, path, streaming), cwd)))
                gb, seconds, code = json.loads(done.read_text())
                rows.append((model, n, "streaming" if streaming else "in memory", gb, seconds, code))
                print(rows[-1], flush=True)
    lines = [
        "# Peak memory of `jetzoo fit`: in memory vs streaming",
        "",
        f"Command: `python {' '.join(sys.argv)}` (real jets of `{args.source.name}` tiled to each size; "
        "summed PSS of the fit's process tree, main process + 2 loader workers, sampled at 10 Hz; "
        "30 training steps, 2 validation batches, no test).",
        "",
        "| model | jets | mode | peak PSS (GB) | wall (s) | exit |",
        "|---|---|---|---|---|---|",
        *[f"| {m} | {n:,} | {mode} | {gb:.2f} | {s:.0f} | {c} |" for m, n, mode, gb, s, c in rows],
    ]
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
