"""The anomaly-detection metrics (jetzoo.metrics.anomaly, issue 22 §4) against scikit-learn, and the
single-observable baseline on real jets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from jetzoo.metrics.anomaly import BACKGROUND_EFFICIENCY, anomaly_report, single_observable_baseline


def test_auc_and_signal_efficiency_at_fixed_background_efficiency_equal_sklearns():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [4000, 1500, 700])  # g (background), t, W
    scores = rng.normal(size=len(labels)) + np.select([labels == 1, labels == 2], [1.5, 0.7], 0.0)
    out = anomaly_report(scores, labels, ["g", "t", "W"], ["g"])
    for c, name in ((1, "t"), (2, "W")):
        sel = (labels == 0) | (labels == c)
        truth = labels[sel] == c
        assert out[f"auc_{name}"] == pytest.approx(roc_auc_score(truth, scores[sel]), abs=1e-12)
        fpr, tpr, _ = roc_curve(truth, scores[sel], drop_intermediate=False)
        assert out[f"eps_s_{name}"] == pytest.approx(np.interp(BACKGROUND_EFFICIENCY, fpr, tpr), abs=1e-12)
    assert set(out) == {"auc_t", "eps_s_t", "auc_W", "eps_s_W"}


def test_the_single_observable_baseline_picks_the_better_direction_on_real_jets(top_jets_file):
    from helpers import top_datamodule

    dm = top_datamodule(top_jets_file, view="hl")
    dm.setup("fit")
    table = dm.table
    labels, names = table.labels, list(table.class_names)
    out = single_observable_baseline(table.hl, list(table.hl_names), labels, names, ["QCD"])
    # top jets are heavier and more three-pronged than QCD jets: the baseline is the mass or -tau32, AUC > 0.8
    assert out["baseline_top"] in ("mass", "-tau32") and out["baseline_auc_top"] > 0.8
    column = {"mass": "j_mass", "-tau32": "j_tau32_b1"}[out["baseline_top"]]
    values = table.hl[:, list(table.hl_names).index(column)] * (-1 if out["baseline_top"].startswith("-") else 1)
    assert out["baseline_auc_top"] == pytest.approx(roc_auc_score(labels == names.index("top"), values), abs=1e-12)
    with pytest.raises(ValueError, match="no single-observable baseline"):
        single_observable_baseline(table.hl[:, :2], ["j_pt", "j_eta"], labels, names, ["QCD"])


def test_the_graph_autoencoders_chamfer_score_equals_scipys_on_the_real_particles():
    import torch
    from scipy.spatial.distance import cdist

    from jetzoo.zoo.graph_autoencoder import chamfer

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 30, 3)), rng.normal(size=(4, 30, 3))
    mask = np.arange(30)[None, :] < np.array([30, 12, 5, 1])[:, None]
    got = chamfer(torch.tensor(x), torch.tensor(y), torch.tensor(mask)).numpy()
    for k in range(4):
        d = cdist(x[k][mask[k]], y[k][mask[k]], "sqeuclidean")
        assert got[k] == pytest.approx(d.min(1).mean() + d.min(0).mean(), rel=1e-12)
    assert chamfer(torch.tensor(x), torch.tensor(x), torch.tensor(mask)).abs().max() == 0
