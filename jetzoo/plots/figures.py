"""Plots a physicist expects, in HEP style (mplhep), saved as PNG and PDF.

- `plot_rocs`: background rejection 1/eps_B on a log axis against the signal efficiency eps_S,
  one curve per model (the median over its seeds) with the band between the lowest and the
  highest seed, and the random tagger (1/eps_S) for scale.
- `plot_scores`: per model, the distribution of the tagger's score p_s / (p_s + sum_b p_b) for
  signal and background test jets (of its median seed), normalised to unit area.
- `roc_points`: the ROC of the headline comparison (jetzoo.metrics.tagging.headline_rejection) from
  logits, in float64, as jetzoo.metrics builds it; `write_roc_csv` writes it.

matplotlib (Agg) and mplhep are imported only when a plot is made.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

EPS_GRID = np.linspace(0.01, 1.0, 397)


def headline_scores(logits, labels, class_names, background_classes):
    """(signal name, background names, log-odds scores, is_signal) of the headline comparison."""
    from jetzoo.metrics.tagging import as_float64, headline_rejection, plan_for

    logits, labels = as_float64(logits, labels, class_names)
    background = [c for c in background_classes if c in class_names]
    signal, convention = headline_rejection(list(class_names), background)
    plan = plan_for(class_names, labels, background)
    for comparison in plan.comparisons:
        if class_names[comparison.signal] == signal and comparison.convention == convention:
            _, score, is_signal = comparison.select(logits, labels)
            return signal, [class_names[b] for b in comparison.background], score, is_signal
    raise ValueError(f"no jets of both {signal} and its background in the test data: no ROC")


def roc_points(logits, labels, class_names, background_classes):
    """(signal, background, eps_S, eps_B, thresholds): sklearn's roc_curve points (tied jets one point)."""
    from jetzoo.metrics.roc import resampled_roc

    signal, background, score, is_signal = headline_scores(logits, labels, class_names, background_classes)
    roc = resampled_roc(score, is_signal)
    thresholds = np.r_[np.inf, np.unique(score)[::-1]]
    return signal, background, roc.tpr[0], roc.fpr[0], thresholds


def write_roc_csv(path: Path, eps_s, eps_b, thresholds) -> None:
    from jetzoo.io.files import atomic_write

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["eps_s", "eps_b", "rejection", "threshold_log_odds"])
            for s, b, t in zip(eps_s, eps_b, thresholds):
                w.writerow([repr(float(s)), repr(float(b)), repr(float(1.0 / b)) if b > 0 else "inf", repr(float(t))])

    atomic_write(Path(path), write)


def rejection_on_grid(eps_s, eps_b, grid=EPS_GRID) -> np.ndarray:
    """1/eps_B at each grid eps_S, interpolated linearly in eps_B as jetzoo.metrics does (inf where eps_B = 0)."""
    eb = np.interp(grid, eps_s, eps_b)
    with np.errstate(divide="ignore"):
        return np.where(eb > 0, 1.0 / np.maximum(eb, 1e-300), np.inf)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(mplhep.style.CMS)
    return plt, mplhep


def _label(mplhep, ax, text: str) -> None:
    mplhep.label.exp_label(exp="jetzoo", llabel="Simulation", rlabel=text, ax=ax, fontsize=15, data=True)


def _save(fig, stem: Path, formats=("png", "pdf")) -> list[Path]:
    from jetzoo.io.files import atomic_write

    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in formats:
        path = stem.with_suffix(f".{ext}")
        atomic_write(path, lambda tmp, ext=ext: fig.savefig(tmp, format=ext, dpi=110 if ext == "png" else None))
        paths.append(path)
    return paths


def line_styles(plt, n: int) -> list[tuple[str, str]]:
    """n distinct (colour, line style) pairs: the style's colour cycle, then the cycle again dashed-dotted,
    then dotted (a leaderboard has more models than mplhep's cycle has colours)."""
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ("-", "-.", ":")
    return [(colors[i % len(colors)], styles[(i // len(colors)) % len(styles)]) for i in range(n)]


def plot_rocs(curves: dict[str, list[tuple[np.ndarray, np.ndarray]]], stem: Path, signal: str, background: list[str],
              title: str = "", formats=("png", "pdf")) -> list[Path]:
    """`curves[model]` = the (eps_S, eps_B) ROC of each seed; one line (median) and band (min-max) per model."""
    plt, mplhep = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 8))
    styles = line_styles(plt, len(curves))
    top = 1.0
    for (model, seeds), (color, linestyle) in zip(curves.items(), styles):
        grid = np.stack([rejection_on_grid(s, b) for s, b in seeds])
        finite = np.isfinite(grid).all(0)
        median = np.median(grid, axis=0)
        label = f"{model} ({len(seeds)} seed{'s' if len(seeds) > 1 else ''})" if len(curves) > 1 or len(seeds) > 1 else model
        ax.plot(EPS_GRID[finite], median[finite], color=color, ls=linestyle, lw=2, label=label)
        if len(seeds) > 1:
            ax.fill_between(EPS_GRID[finite], grid.min(0)[finite], grid.max(0)[finite], color=color, alpha=0.25, lw=0)
        if finite.any():
            top = max(top, float(np.nanmax(grid[:, finite])))
    ax.plot(EPS_GRID, 1.0 / EPS_GRID, color="grey", ls="--", lw=1.5, label="random (1/$\\varepsilon_S$)")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_ylim(1, top * 3)
    ax.set_xlabel(f"Signal efficiency $\\varepsilon_S$ ({signal})")
    ax.set_ylabel(f"Background rejection $1/\\varepsilon_B$ ({', '.join(background)})")
    ax.legend(loc="upper right", fontsize=14, title="band: min-max over seeds" if any(len(s) > 1 for s in curves.values()) else None,
              title_fontsize=12)
    _label(mplhep, ax, title)
    fig.tight_layout()
    paths = _save(fig, stem, formats)
    plt.close(fig)
    return paths


def seed_lines(plt, ax, curves: dict[str, list[list[dict]]], x, y, best_by=None) -> None:
    """One colour per model, one line per seed of (x(point), y(point)), a dot at each seed's lowest y, or at
    its lowest best_by(point) when given (the epoch tested, chosen by another quantity)."""
    for (model, seeds), (color, linestyle) in zip(curves.items(), line_styles(plt, len(curves))):
        for k, curve in enumerate(seeds):
            xs, ys = [x(p) for p in curve], [y(p) for p in curve]
            ax.plot(xs, ys, color=color, ls=linestyle, lw=1.5, label=model if k == 0 else None)
            if ys:
                best = int(np.argmin([best_by(p) for p in curve] if best_by else ys))
                ax.plot(xs[best], ys[best], marker="o", color=color, ms=6)


def plot_validation_curves(curves: dict[str, list[list[dict]]], stem: Path, title: str = "",
                           formats=("png", "pdf")) -> list[Path]:
    """`curves[model]` = each seed's validation curve ([{"epoch", "val_loss", ...}]): validation loss against
    epoch, one colour per model, one line per seed, the best epoch of each marked (issue 23 §1)."""
    plt, mplhep = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 8))
    seed_lines(plt, ax, curves, lambda p: p["epoch"], lambda p: p["val_loss"])
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Validation loss")
    ax.legend(loc="upper right", fontsize=13, title="one line per seed; dot: best epoch (tested)", title_fontsize=11)
    _label(mplhep, ax, title)
    fig.tight_layout()
    paths = _save(fig, stem, formats)
    plt.close(fig)
    return paths


def plot_scores(scores: dict[str, tuple[np.ndarray, np.ndarray]], stem: Path, signal: str, background: list[str],
                title: str = "") -> list[Path]:
    """`scores[model]` = (log-odds score, is_signal) of its median seed; one panel per model."""
    plt, mplhep = _pyplot()
    n = len(scores)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 5.2 * rows), squeeze=False)
    bins = np.linspace(0, 1, 41)
    for ax, (model, (score, is_signal)) in zip(axes.ravel(), scores.items()):
        prob = 1.0 / (1.0 + np.exp(-np.clip(score, -700, 700)))
        for mask, name, color in ((~is_signal, ", ".join(background), "tab:blue"), (is_signal, signal, "tab:red")):
            h, _ = np.histogram(prob[mask], bins=bins)
            mplhep.histplot(h, bins, density=True, ax=ax, label=f"{name} ({int(mask.sum())} jets)", color=color, lw=2)
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 30)  # headroom for the legend
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"score $p_{{{signal}}}/(p_{{{signal}}}+p_{{bkg}})$", fontsize=15)
        ax.set_ylabel("Normalised jets", fontsize=15)
        ax.tick_params(labelsize=13)
        ax.set_title(model, fontsize=16)
        ax.legend(fontsize=12, loc="upper center")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(f"jetzoo simulation: {title}", fontsize=16)
    fig.tight_layout()
    paths = _save(fig, stem)
    plt.close(fig)
    return paths


def bench_plots(runs: dict[str, list[dict]], out_dir: Path, title: str = "") -> list[Path]:
    """roc.{png,pdf} and scores.{png,pdf} of a bench: `runs[model]` = its seeds' predictions (store.read_predictions)."""
    curves, scores, signal, background = {}, {}, None, None
    for model, items in runs.items():
        curves[model] = []
        for item in items:
            signal, background, eps_s, eps_b, _ = roc_points(item["logits"], item["labels"], item["class_names"],
                                                             item["background_classes"])
            curves[model].append((eps_s, eps_b))
        # the median seed by AUC-like ordering of its ROC: its area
        areas = [np.trapezoid(b, s) for s, b in curves[model]]
        median = items[int(np.argsort(areas)[(len(areas) - 1) // 2])]
        _, _, score, is_signal = headline_scores(median["logits"], median["labels"], median["class_names"],
                                                 median["background_classes"])
        scores[model] = (score, is_signal)
    out_dir = Path(out_dir)
    return [*plot_rocs(curves, out_dir / "roc", signal, background, title),
            *plot_scores(scores, out_dir / "scores", signal, background, title)]


def checkpoint_roc(logits, labels, class_names, background_classes, out_dir: Path, title: str = "") -> list[Path]:
    """roc.csv and roc.png of one tested model in `out_dir` (jetzoo.training.roc_callback)."""
    signal, background, eps_s, eps_b, thresholds = roc_points(logits, labels, class_names, background_classes)
    out_dir = Path(out_dir)
    write_roc_csv(out_dir / "roc.csv", eps_s, eps_b, thresholds)
    plot = plot_rocs({title or "tested checkpoint": [(eps_s, eps_b)]}, out_dir / "roc", signal, background,
                     f"{len(labels)} test jets", formats=("png",))
    return [out_dir / "roc.csv", *plot]
