"""A bench run killed mid-training resumes from its own checkpoint (jetzoo.bench.resume): the re-run bench ends with
the same predictions, curve and best epoch as an uninterrupted bench; a checkpoint of another run key is not
resumed. A finished run whose predictions are gone has them re-made from its kept weights (jetzoo.bench.kept)."""

from __future__ import annotations

import json

import numpy as np
import yaml

from jetzoo.bench import run_bench, store
from jetzoo.bench.resume import SIDECAR, checkpoint_dir, resume_point
from jetzoo.bench.runs import EpochProgress
from jetzoo.bench.spec import parse_spec


def _spec(tmp_path, name, data_path):
    spec_file = tmp_path / f"{name}.yaml"
    spec_file.write_text(yaml.safe_dump({
        "models": [{"name": "mlp"}], "data": {"name": "pythia", "args": {"path": str(data_path)}},
        "seeds": 1, "epochs": 4, "patience": 3, "recipes": False, "trainer": {"threads": 1}, "bootstrap_resamples": 10,
        "timing_seconds": 0.05, "plots": False,
        "out": str(tmp_path / name),
    }))
    return parse_spec(["--config", str(spec_file)])[0]


def test_a_run_killed_in_its_third_epoch_resumes_after_the_second_and_ends_as_the_uninterrupted_run(top_jets_file, tmp_path,
                                                                                             monkeypatch):
    whole = run_bench(_spec(tmp_path, "whole", top_jets_file))
    spec = _spec(tmp_path, "killed", top_jets_file)
    def killed_in_epoch_three(self, trainer, pl_module):  # epoch 2's validation and checkpoint are done
        if trainer.current_epoch == 2:
            raise RuntimeError("killed")

    monkeypatch.setattr(EpochProgress, "on_train_epoch_start", killed_in_epoch_three, raising=False)
    out = run_bench(spec)
    assert json.loads((out / "runs" / "mlp-seed0.json").read_text())["status"] == "failed"
    assert json.loads((checkpoint_dir(out, "mlp", 0) / SIDECAR).read_text())["epoch"] == 2
    monkeypatch.delattr(EpochProgress, "on_train_epoch_start")
    run_bench(spec)  # retries the failed run: from its checkpoint
    record, reference = (json.loads((o / "runs" / "mlp-seed0.json").read_text()) for o in (out, whole))
    assert record["status"] == "ok" and record["resumed"] and not reference["resumed"]
    assert record["curve"] == reference["curve"] and record["best_epoch"] == reference["best_epoch"]
    assert record["epochs_run"] == reference["epochs_run"] == 4 and record["train_cpu_s"] > 0
    np.testing.assert_array_equal(store.read_predictions(store.predictions_path(out, "mlp", 0))["logits"],
                                  store.read_predictions(store.predictions_path(whole, "mlp", 0))["logits"])
    assert not checkpoint_dir(out, "mlp", 0).exists()  # finished: its checkpoint is gone


def test_a_checkpoint_of_another_run_key_is_not_resumed_and_is_removed(tmp_path, capsys):
    directory = tmp_path / "checkpoints" / "mlp-seed0"
    directory.mkdir(parents=True)
    (directory / "last.ckpt").write_bytes(b"state")
    store.write_json(directory / SIDECAR, {"key": "old", "code": {}, "epoch": 3})
    assert resume_point(directory, "new", "[1/1] mlp seed 0") is None and not directory.exists()
    assert "its checkpoint is not resumed (it is of another run key)" in capsys.readouterr().err


def test_a_finished_run_without_its_predictions_re_makes_them_from_its_weights_and_retrains_if_they_disagree(
        top_jets_file, tmp_path, capsys):
    spec = _spec(tmp_path, "kept", top_jets_file)
    out = run_bench(spec)
    record_path, predictions = out / "runs" / "mlp-seed0.json", store.predictions_path(out, "mlp", 0)
    logits = store.read_predictions(predictions)["logits"]
    assert store.model_path(out, "mlp", 0).is_file()  # committed beside the record; the predictions are not
    assert json.loads(record_path.read_text())["machine"]["cores"] >= 1  # the CPU its budget and rates are of
    written = record_path.stat().st_mtime_ns
    predictions.unlink()  # a fresh clone: the records and weights, no predictions
    capsys.readouterr()
    run_bench(spec)
    assert "re-made from the weights, not re-trained: mlp seed 0" in capsys.readouterr().err
    assert record_path.stat().st_mtime_ns == written  # not trained again
    np.testing.assert_array_equal(store.read_predictions(predictions)["logits"], logits)
    record = json.loads(record_path.read_text())  # weights that do not give the recorded metrics: trained again
    record["metrics"]["auc"] = 0.5
    store.write_json(record_path, record)
    predictions.unlink()
    run_bench(spec)
    assert "do not give the recorded auc" in capsys.readouterr().err
    assert json.loads(record_path.read_text())["metrics"]["auc"] != 0.5
    np.testing.assert_array_equal(store.read_predictions(predictions)["logits"], logits)  # seeded: the same run
