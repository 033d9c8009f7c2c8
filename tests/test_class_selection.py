"""The classes present in the data, or those `--data.classes` selects, define the task; a class
with no jets never enters an average. Real generated top/QCD jets written as JetClass ROOT files
(label_QCD and label_Tbqq set, the 8 other declared labels empty), as the published files are."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from format_writers import JETCLASS_CLASSES, write_jetclass_file
from helpers import jetzoo_in_process, model_for
from jetzoo.datamodules.readers import read_hls4ml
from jetzoo.errors import JetDataError
from jetzoo.registry import create_datamodule
from jetzoo.training import fit_and_test, quiet_trainer


@pytest.fixture(scope="module")
def jetclass_files(top_jets_file, tmp_path_factory):
    """One file of QCD and top jets, and one of QCD jets alone, in the JetClass layout."""
    root = tmp_path_factory.mktemp("jetclass")
    jets = read_hls4ml(str(top_jets_file)).subset(np.arange(2000))
    jets.labels = np.where(jets.labels == 1, JETCLASS_CLASSES.index("Tbqq"), JETCLASS_CLASSES.index("QCD"))
    write_jetclass_file(root / "qcd_top.root", jets=jets)
    write_jetclass_file(root / "qcd_only.root", jets=jets.subset(np.flatnonzero(jets.labels == 0)))
    return root / "qcd_top.root", root / "qcd_only.root"


def jetclass(path, **kwargs):
    return create_datamodule("jetclass", path=str(path), batch_size=128, num_particles=32, **kwargs)


def test_the_classes_with_jets_define_the_task_not_the_declared_labels(jetclass_files):
    dm = jetclass(jetclass_files[0])
    assert dm.dims["num_classes"] == 2 and dm.dims["class_names"] == ["QCD", "Tbqq"]
    results = fit_and_test(model_for("mlp", dm), dm, max_epochs=2)
    assert results["test/auc"] > 0.8  # was 0.16-0.18 averaged with 8 empty classes


def test_selected_classes_keep_their_order_and_an_empty_one_is_not_averaged(jetclass_files, capsys):
    dm = jetclass(jetclass_files[0], classes=["Tbqq", "Hbb", "QCD"])
    assert dm.dims["class_names"] == ["Tbqq", "Hbb", "QCD"]
    model = model_for("mlp", dm)
    fit_and_test(model, dm, max_epochs=1)
    trainer = quiet_trainer()
    predictions = trainer.predict(model, datamodule=dm)
    probs = torch.cat([p["probs"] for p in predictions]).numpy()
    labels = torch.cat([p["label"] for p in predictions]).numpy()
    assert set(np.unique(labels)) == {0, 2}
    results = trainer.test(model, datamodule=dm, verbose=False)[0]
    assert not [k for k in results if "Hbb" in k]  # auc_Hbb, rej50_Hbb_vs_bkg, rej50_Hbb_vs_rest, ...
    expected = np.mean([roc_auc_score(labels == c, probs[:, c]) for c in (0, 2)])  # one-vs-rest, present classes
    assert results["test/auc"] == pytest.approx(expected, abs=1e-4)
    assert "n/a for Hbb" in capsys.readouterr().out


def test_unknown_class_is_a_one_line_error(jetclass_files):
    with pytest.raises(JetDataError, match=r"qcd_top\.root: no class 'top' in the data"):
        jetclass(jetclass_files[0], classes=["QCD", "top"]).dims


def test_a_single_class_file_reads_but_a_tagger_refuses_to_fit_it(jetclass_files):
    dm = jetclass(jetclass_files[1])
    assert dm.dims["class_names"] == ["QCD"]
    with pytest.raises(JetDataError, match=r"qcd_only\.root: 1 class \(QCD\).*at least 2 to fit"):
        fit_and_test(model_for("mlp", dm), dm, max_epochs=1)
    # as the model's classes (what `test`/`predict` from a checkpoint select), it is a QCD-only test set
    dm = jetclass(jetclass_files[1], classes=["QCD", "Tbqq"])
    assert dm.dims["num_classes"] == 2 and set(np.unique(dm.table.labels)) == {0}


def test_a_one_class_file_is_tested_with_the_checkpoint_classes(jetclass_files, tmp_path, capfd, monkeypatch):
    both, qcd_only = jetclass_files
    quiet = ("--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false")
    code, _, err = jetzoo_in_process(
        capfd, monkeypatch, "fit", "--model", "mlp", "--data", "jetclass", "--data.path", both,
        "--trainer.max_epochs", "1", "--test_after_fit", "false", *quiet, cwd=tmp_path,
    )
    assert code == 0, err[-3000:]
    code, out, err = jetzoo_in_process(
        capfd, monkeypatch, "test", "--model", "mlp", "--data", "jetclass", "--data.path", qcd_only,
        "--ckpt_path", "last", *quiet, cwd=tmp_path,
    )
    assert code == 0, err[-3000:]
    assert "n/a for Tbqq" in out and "test/acc" in out and "test/auc" not in out
