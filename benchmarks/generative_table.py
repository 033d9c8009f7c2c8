"""Benchmark of the anomaly detectors and the cloud generators on the `hls4ml-5class` recipe.

    python benchmarks/generative_table.py --n 6000 --ae-epochs 10 --gan-epochs 8 --out benchmarks/generative_table.md

Anomaly detection: `autoencoder` and `vae` trained on the background classes (g, q) only; for
each signal class (W, Z, t) the anomaly AUC and 1/eps_B at eps_S = 0.3, signal against g + q,
on the test split. Generation: class-conditional `gan` and `wgan`; every metric of
`jetzoo.metrics.generative` between the test split's real jets (one half) and as many
generated jets conditioned on their labels, beside the real-vs-real floor (other half).
Everything runs on CPU; the datamodule's split (70/10/20, seed 42) is the default.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from jetzoo.generate import ensure_generated
from jetzoo.metrics import rejection_name
from jetzoo.training import build, fit_and_test
from jetzoo.zoo.generative_base import ANOMALY_SIGNAL_EFFICIENCY

NOTES = [
    "Notes. Every model runs with its defaults except `conditional: true` for the generators:",
    "dense autoencoders on the 10 leading constituents' 7 ParticleNet features + mask (latent 8);",
    "generators with one message-passing layer, hidden 32, Adam 1e-4 (GAN betas (0.5, 0.999),",
    "WGAN-GP betas (0, 0.9), 5 critic steps per generator step, λ = 10). These are short CPU",
    "trainings: the generators are far from converged (MPGAN trains for thousands of epochs), so",
    "the table is a baseline that shows the metrics separate generators from the real-vs-real floor,",
    "not the reach of the architectures. An anomaly AUC below 0.5 would mean the signal is",
    "reconstructed better than the background.",
]

GEN_METRICS = [
    ("w1m", "W1 jet mass (m/pT)"),
    ("w1p", "W1 particle features (mean)"),
    ("w1p_eta", "W1 particle Δη"),
    ("w1p_phi", "W1 particle Δφ"),
    ("w1p_pt", "W1 particle pT fraction"),
    ("w1tau21", "W1 τ21"),
    ("w1tau32", "W1 τ32"),
    ("fd", "Fréchet distance (6 observables)"),
    ("c2st_auc", "classifier two-sample AUC (0.5 best)"),
]


def run(model: str, path: Path, epochs: int, batch_size: int, model_kwargs: dict | None = None) -> tuple[dict, float]:
    start = time.time()
    net, dm = build(model, "pythia", model_kwargs or {}, {"path": str(path), "batch_size": batch_size, "num_particles": 30})
    metrics = fit_and_test(net, dm, max_epochs=epochs, num_sanity_val_steps=0)
    return metrics, time.time() - start


def rejection_cell(results: dict, signal: str) -> str:
    """1/eps_B at eps_S = 0.3 of `signal` vs the training classes; "> X" when it is a lower bound."""
    name = "test/" + rejection_name(signal, ANOMALY_SIGNAL_EFFICIENCY, "vs_bkg")
    return ("> " if results[f"{name}_lower_bound"] else "") + f"{results[name]:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=6000, help="jets in the generated hls4ml-5class sample")
    parser.add_argument("--seed", type=int, default=0, help="generator seed of the sample")
    parser.add_argument("--ae-epochs", type=int, default=10)
    parser.add_argument("--gan-epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on busy shared cores)")
    parser.add_argument("--out", default="benchmarks/generative_table.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    path = ensure_generated("hls4ml-5class", args.n, args.seed, progress=False)
    anomaly = {m: run(m, path, args.ae_epochs, args.batch_size) for m in ("autoencoder", "vae")}
    generative = {
        m: run(m, path, args.gan_epochs, args.batch_size, {"conditional": True}) for m in ("gan", "wgan")
    }

    signals = sorted({k.split("anomaly_auc_")[1] for r, _ in anomaly.values() for k in r if "anomaly_auc_" in k})
    command = "python benchmarks/generative_table.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        "# Anomaly detection and jet generation on hls4ml-5class",
        "",
        f"Command: `{command}`",
        "",
        f"Data: `hls4ml-5class` recipe, n = {args.n} jets (seed {args.seed}; g, q, W, Z, t in equal parts), "
        f"split 70/10/20; {args.threads} CPU threads, batch size {args.batch_size}.",
        "",
        f"## Anomaly detection (trained on g + q only, {args.ae_epochs} epochs)",
        "",
        "Signal class vs g + q on the test split: anomaly AUC / 1/εB at εS = 0.3.",
        "",
        "| model | " + " | ".join(f"AUC {s} | 1/εB@0.3 {s}" for s in signals) + " | train+test time |",
        "|---" * (2 * len(signals) + 2) + "|",
    ]
    for model, (r, secs) in anomaly.items():
        cells = [f"{r[f'test/anomaly_auc_{s}']:.3f} | {rejection_cell(r, s)}" for s in signals]
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {secs:.0f} s |")
    lines += [
        "",
        f"## Generation (class-conditional, {args.gan_epochs} epochs)",
        "",
        "Test split halved: real (one half) vs generated (conditioned on the same labels), and the",
        "real-vs-real floor (real vs the other half). Lower is better; for the classifier AUC 0.5 is best.",
        "",
        "| metric | " + " | ".join(generative) + " | real vs real (floor) |",
        "|---" * (len(generative) + 2) + "|",
    ]
    for key, label in GEN_METRICS:
        cells = [f"{r[f'test/{key}']:.4g}" for r, _ in generative.values()]
        floor = next(iter(generative.values()))[0][f"test/{key}_floor"]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {floor:.4g} |")
    lines.append("| train+test time | " + " | ".join(f"{secs:.0f} s" for _, secs in generative.values()) + " | |")
    lines += ["", *NOTES, ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
