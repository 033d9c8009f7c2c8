"""`jetzoo bench` on an anomaly-detection spec (issue 22 §4-5): a real (tiny) run of the dense autoencoder trained on
the QCD jets only, its per-class AUC and εS recomputed with scikit-learn from the written scores, the single-observable
baseline and the published rows in its table, a re-run that resumes, and a spec that mixes tasks refused."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import yaml
from sklearn.metrics import roc_auc_score, roc_curve

from jetzoo.bench import run_bench, spec_task, store
from jetzoo.bench.spec import parse_spec
from jetzoo.errors import UsageError


def _spec(tmp_path, models, data_path):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump({
        "models": models, "data": {"name": "pythia", "args": {"path": str(data_path), "batch_size": 256}},
        "seeds": 1, "epochs": 2, "patience": 1, "trainer": {"threads": 1}, "out": str(tmp_path / "anomaly"),
    }))
    return parse_spec(["--config", str(spec_file)])[0]


def test_an_anomaly_bench_trains_on_background_scores_every_class_beside_its_baseline_and_resumes(top_jets_file, tmp_path):
    spec = _spec(tmp_path, [{"name": "autoencoder"}], top_jets_file)
    out = run_bench(spec)
    record = json.loads((out / "runs" / "autoencoder-seed0.json").read_text())
    assert record["status"] == "ok" and record["task"] == "anomaly", record.get("error")
    assert record["train_classes"] == ["QCD"] and record["curve"] and record["best_epoch"] >= 1
    with h5py.File(store.predictions_path(out, "autoencoder", 0)) as f:
        scores, labels = f["scores"][()], f["labels"][()]
        class_names = json.loads(f.attrs["class_names"])
    top = class_names.index("top")
    metrics = record["metrics"]
    assert len(scores) == record["test_jets"] and set(labels) == {0, 1}  # every test jet scored, both classes
    assert metrics["auc_top"] == pytest.approx(roc_auc_score(labels == top, scores), abs=1e-9)
    fpr, tpr, _ = roc_curve(labels == top, scores)
    assert metrics["eps_s_top"] == pytest.approx(np.interp(1e-2, fpr, tpr), abs=0.02)
    assert metrics["baseline_top"] in {"mass", "-mass", "tau21", "-tau21", "tau32", "-tau32"}
    assert metrics["baseline_auc_top"] >= 0.5  # the better direction of the best observable
    table = (out / "leaderboard.md").read_text()
    assert "| autoencoder | 1 |" in table and "| baseline |" in table and "AUC top" in table
    assert "published, other data" in table
    written = (out / "runs" / "autoencoder-seed0.json").stat().st_mtime_ns
    run_bench(spec)  # resumes: nothing to redo
    assert (out / "runs" / "autoencoder-seed0.json").stat().st_mtime_ns == written
    store.predictions_path(out, "autoencoder", 0).unlink()  # a clone: the record and kept weights, no scores
    run_bench(spec)  # re-made from the weights, not re-trained
    assert (out / "runs" / "autoencoder-seed0.json").stat().st_mtime_ns == written
    with h5py.File(store.predictions_path(out, "autoencoder", 0)) as f:
        np.testing.assert_array_equal(f["scores"][()], scores)


def test_a_spec_that_mixes_tasks_is_refused_before_any_training(tmp_path):
    spec = _spec(tmp_path, [{"name": "autoencoder"}, {"name": "mlp"}], tmp_path / "unused.h5")
    with pytest.raises(UsageError, match="mixes anomaly and tagging models"):
        spec_task(spec)
    assert spec_task(_spec(tmp_path, [{"name": "vae"}, {"name": "autoencoder"}], tmp_path / "unused.h5")) == "anomaly"
