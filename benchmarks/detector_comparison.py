"""Does a detector change the ranking of the high-level-feature MLP and ParticleNet-lite on top jets?

The controlled comparison of issue 11 (section 5): the same `top-landscape` events (same seed, same n)
clustered from generator-level particles (`--detector none`) and from Delphes-ATLAS-like energy-flow
objects (`--detector atlas-like`); on each, the MLP on the high-level features (`hl` view) and
ParticleNet-lite (`particles` view), the same split, training size and epochs, several training seeds.

    jetzoo generate --recipe top-landscape --n 20000 --seed 11 --workers 1 --detector none \\
        --out /work/bench_data/top-none-seed11-n20000.h5
    jetzoo generate --recipe top-landscape --n 20000 --seed 11 --workers 1 --detector atlas-like \\
        --out /work/bench_data/top-atlas-like-seed11-n20000.h5
    python benchmarks/detector_comparison.py --file none=/work/bench_data/top-none-seed11-n20000.h5 \\
        --file atlas-like=/work/bench_data/top-atlas-like-seed11-n20000.h5 --seeds 0,1,2 --max-epochs 3 \\
        --out benchmarks/detector_comparison.md

Each (detector, model, seed) result is kept in `<out>.json` as soon as it is done, so a run can be
resumed or extended (one file first, the other when its generation has finished); the table is
written from all results in that file. One torch thread, so that it can share the machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from jetzoo.training import build, fit_and_test

MODELS = {"mlp": {}, "particlenet": {"config": "lite"}}
VIEW = {"mlp": "hl", "particlenet": "particles"}
DATA = dict(num_particles=50, val_fraction=0.1, test_fraction=0.25, seed=42)  # one fixed split of each file


def bench_model(model: str, data_kwargs: dict, model_kwargs: dict, max_epochs: int, seed: int) -> dict:
    """One fit + test with `jetzoo.training`: AUC and 1/eps_B(QCD) at top efficiency 0.5 on the test split."""
    net, datamodule = build(model, "pythia", model_kwargs, data_kwargs)
    datamodule.view = net.input_view
    datamodule.setup("fit")
    metrics = fit_and_test(net, datamodule, max_epochs=max_epochs, seed=seed)
    return {
        "model": model,
        "train_jets": datamodule.split_sizes["train"],
        "test_jets": datamodule.split_sizes["test"],
        "epochs": max_epochs,
        "auc": metrics["test/auc"],
        "rej50": metrics.get("test/rej50_top_vs_bkg", float("nan")),
    }


def run(files: dict[str, str], seeds: list[int], max_epochs: int, store: Path) -> dict:
    results = json.loads(store.read_text()) if store.exists() else {}
    for detector, path in files.items():
        for model, model_kwargs in MODELS.items():
            for seed in seeds:
                key = f"{detector}/{model}/{seed}"
                if key in results and results[key]["epochs"] == max_epochs and results[key]["path"] == path:
                    continue
                start, cpu = time.perf_counter(), time.process_time()
                row = bench_model(model, dict(path=path, **DATA), dict(model_kwargs), max_epochs, seed)
                row.update(path=path, seed=seed, detector=detector, wall_s=time.perf_counter() - start,
                           cpu_s=time.process_time() - cpu)  # fmt: skip
                results[key] = row
                store.write_text(json.dumps(results, indent=1, sort_keys=True))
                print(f"{key}: auc {row['auc']:.4f} rej50 {row['rej50']:.1f} ({row['wall_s']:.0f} s)", flush=True)
    return results


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def generation_command(path: str) -> str:
    import h5py

    with h5py.File(path, "r") as f:
        a = f.attrs
        return (f"jetzoo generate --recipe {a['recipe']} --n {a['n']} --seed {a['seed']} --detector {a['detector']} "
                f"--workers 1 --out {path}")  # fmt: skip


def report(results: dict, command: str) -> str:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in results.values():
        groups.setdefault((row["detector"], row["model"]), []).append(row)
    detectors = sorted({d for d, _ in groups}, key=lambda d: (d != "none", d))
    lines = [
        "| detector | model (view) | seeds | train jets | test jets | epochs | AUC | 1/εB @ εS=0.5 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for detector in detectors:
        for model in MODELS:
            rows = sorted(groups.get((detector, model), []), key=lambda r: r["seed"])
            if not rows:
                continue
            auc, rej = mean_sd([r["auc"] for r in rows]), mean_sd([r["rej50"] for r in rows])
            summary[detector, model] = (auc, rej, len(rows))
            first = rows[0]
            lines.append(
                f"| {detector} | {model} ({VIEW[model]}) | {len(rows)} | {first['train_jets']} | {first['test_jets']} "
                f"| {first['epochs']} | {auc[0]:.4f} ± {auc[1]:.4f} | {rej[0]:.1f} ± {rej[1]:.1f} |"
            )
    verdicts = []
    for detector in detectors:
        if (detector, "mlp") not in summary or (detector, "particlenet") not in summary:
            continue
        (a_mlp, r_mlp, n), (a_pn, r_pn, m) = summary[detector, "mlp"], summary[detector, "particlenet"]
        d_auc, se_auc = a_pn[0] - a_mlp[0], (a_pn[1] ** 2 / m + a_mlp[1] ** 2 / n) ** 0.5
        d_rej, se_rej = r_pn[0] - r_mlp[0], (r_pn[1] ** 2 / m + r_mlp[1] ** 2 / n) ** 0.5
        leader = "ParticleNet-lite" if d_auc > 0 else "MLP (hl)"
        verdicts.append(
            f"- **{detector}**: ParticleNet-lite − MLP = {d_auc:+.4f} AUC (± {se_auc:.4f}, standard error of the "
            f"difference of seed means: {abs(d_auc) / se_auc:.1f} σ) and {d_rej:+.1f} in 1/εB "
            f"(± {se_rej:.1f}, {abs(d_rej) / se_rej:.1f} σ); by AUC the leader is {leader}."
        )
    cpu = sum(r["cpu_s"] for r in results.values())
    return "\n".join(
        [
            "# Detector comparison: MLP on high-level features vs ParticleNet-lite, without and with a detector",
            "",
            "Data: `top-landscape` jets (hadronic top vs QCD, pT 550–650 GeV, |η| < 2, anti-kT R = 0.8), the same",
            "Pythia events (seed 11) clustered from generator-level particles (`--detector none`) and from the",
            "Delphes-ATLAS-card energy-flow objects (`--detector atlas-like`: tracking efficiency and resolution,",
            "ECAL/HCAL towers, energy flow; jetzoo/generate/detector.py). Each file split once (`seed 42`:",
            "65% train, 10% val, 25% test); 50 hardest constituents; batch 256; each model's defaults;",
            "ParticleNet in its `lite` configuration; 3 training seeds per cell, mean ± σ over seeds (the test",
            "set is the same for all seeds, so σ is the training spread, not the test-set statistical error).",
            "1/εB = 1/(QCD efficiency) at top efficiency 0.5.",
            "",
            *lines,
            "",
            "Ranking:",
            *verdicts,
            "",
            f"Training CPU time: {cpu / 60:.1f} min on 1 torch thread ({platform.processor() or platform.machine()}, "
            f"torch {torch.__version__}, Python {platform.python_version()}); the machine's 2 cores were shared.",
            "",
            "Made by:",
            "",
            "```",
            *sorted({generation_command(r["path"]) for r in results.values()}, key=lambda c: "none" not in c),
            command,
            "```",
            "",
        ]
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", action="append", default=[], help="DETECTOR=PATH of a generated file")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/detector_comparison.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    files = dict(item.split("=", 1) for item in args.file)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = run(files, [int(s) for s in args.seeds.split(",")], args.max_epochs, out.with_suffix(".json"))
    command = "python benchmarks/detector_comparison.py " + " ".join(sys.argv[1:] if argv is None else argv)
    out.write_text(report(results, command))
    print(out.read_text())


if __name__ == "__main__":
    main()
