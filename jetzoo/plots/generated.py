"""Figures of the generative leaderboard (issue 22 §5), in the style of the MPGAN paper (arXiv:2106.11535, Fig. 3):
real jets against each generator's in the jet mass, the particles' eta_rel, phi_rel and pT_rel, and the
multiplicity; and each generator's validation W1M against its training CPU time, to show whether it converged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jetzoo.metrics.generative import jet_mass
from jetzoo.plots.figures import _label, _pyplot, _save, line_styles, seed_lines

PANELS = [("mass", "Relative jet mass $m/p_T$"), ("eta", "Particle $\\eta^{rel}$"), ("phi", "Particle $\\phi^{rel}$"),
          ("pt", "Particle $p_T^{rel}$"), ("multiplicity", "Particle multiplicity")]


def _values(cloud: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    real = mask.astype(bool)
    return {"mass": jet_mass(cloud, real), "eta": cloud[..., 0][real], "phi": cloud[..., 1][real],
            "pt": cloud[..., 2][real], "multiplicity": real.sum(1).astype(float)}


def plot_generated_distributions(real, samples: dict[str, tuple[np.ndarray, np.ndarray]], stem: Path, title: str = "",
                                 formats=("png", "pdf")) -> list[Path]:
    """`real` = (cloud, mask); `samples[model]` = its generated (cloud, mask). One panel per observable."""
    plt, mplhep = _pyplot()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(6 * len(PANELS), 6))
    truth = _values(*real)
    generated = {model: _values(*sample) for model, sample in samples.items()}
    styles = line_styles(plt, len(samples))
    for ax, (key, xlabel) in zip(axes, PANELS):
        lo, hi = np.quantile(truth[key], [0.001, 0.999]) if key != "multiplicity" else (0.5, real[1].shape[1] + 0.5)
        bins = np.linspace(lo, hi, 41) if key != "multiplicity" else np.arange(0.5, real[1].shape[1] + 1.5)
        ax.hist(np.clip(truth[key], lo, hi), bins=bins, density=True, histtype="stepfilled", color="lightgrey",
                label="real")
        for (model, values), (color, linestyle) in zip(generated.items(), styles):
            ax.hist(np.clip(values[key], lo, hi), bins=bins, density=True, histtype="step", color=color, ls=linestyle,
                    lw=2, label=model)
        ax.set_xlabel(xlabel)
        ax.set_yscale("log" if key in ("pt", "eta", "phi") else "linear")
    axes[0].legend(fontsize=12)
    _label(mplhep, axes[0], title)
    fig.tight_layout()
    paths = _save(fig, stem, formats)
    plt.close(fig)
    return paths


def plot_generator_curves(curves: dict[str, list[list[dict]]], stem: Path, title: str = "",
                          formats=("png", "pdf")) -> list[Path]:
    """`curves[model]` = each seed's [{"epoch", "cpu_s", "val_w1m", "val_fpd"?}]: validation W1M against training
    CPU-hours at `stem`, and validation FPD at `stem` with `w1m` replaced by `fpd` where the curves have it."""
    plt, mplhep = _pyplot()
    stem = Path(stem)
    # the tested checkpoint is the epoch of lowest W1M; FPD points are sparse, so on the FPD panel the dot is the
    # point of lowest W1M among those that have an FPD, not necessarily the epoch tested
    panels = [("val_w1m", "Validation $W_1^M$", stem, curves, "dot: the checkpoint tested (lowest $W_1^M$)")]
    fpd = {model: [[p for p in c if p.get("val_fpd") is not None] for c in seeds] for model, seeds in curves.items()}
    fpd = {model: [c for c in seeds if c] for model, seeds in fpd.items() if any(seeds)}
    if fpd:
        panels.append(("val_fpd", "Validation FPD", stem.with_name(stem.name.replace("w1m", "fpd")), fpd,
                       "dot: of the FPD points, the lowest $W_1^M$"))
    paths = []
    for key, label, path, data, dot in panels:
        fig, ax = plt.subplots(figsize=(9, 8))
        seed_lines(plt, ax, data, lambda p: p["cpu_s"] / 3600, lambda p: p[key], best_by=lambda p: p["val_w1m"])
        ax.set_xlabel("Training CPU-hours")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.legend(loc="upper right", fontsize=13, title=f"one line per seed; {dot}", title_fontsize=11)
        _label(mplhep, ax, title)
        fig.tight_layout()
        paths += _save(fig, path, formats)
        plt.close(fig)
    return paths
