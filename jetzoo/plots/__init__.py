"""Figures in HEP style (mplhep), saved as PNG and PDF: ROC curves and score distributions, for a
test run (`jetzoo.training.roc_callback`) and for the leaderboard (`jetzoo.bench`).

May import: `jetzoo.metrics`, `jetzoo.io`. matplotlib and mplhep are imported only when a figure
is made.
"""

from jetzoo.plots.figures import (  # noqa: F401 - the plotting functions
    EPS_GRID,
    bench_plots,
    checkpoint_roc,
    headline_scores,
    line_styles,
    plot_rocs,
    plot_scores,
    plot_validation_curves,
    rejection_on_grid,
    roc_points,
    write_roc_csv,
)
