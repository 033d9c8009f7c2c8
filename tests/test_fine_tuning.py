"""`jetzoo fit --init_from CKPT` (fine-tuning) and checkpoints of an earlier jetzoo still loading."""

import json
import sys
from pathlib import Path

import pytest
import torch
from helpers import jetzoo_in_process

from jetzoo.training.checkpoints import CheckpointError, load_checkpoint_file
from jetzoo.cli import main
from jetzoo.training.fine_tuning import init_from_checkpoint
from jetzoo.physics.features import HL_FEATURE_NAMES
from jetzoo.registry import create_model, load_checkpoint

FIXTURES = Path(__file__).parent / "fixtures"
OLD_CHECKPOINT = FIXTURES / "mlp-jetzoo-0.1.0-top-landscape.ckpt"  # see fixtures/README.md


def quiet(*args):
    return [*args, "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def test_fine_tuning_from_two_classes_to_five_resets_the_head_and_keeps_frozen_weights(mlp_run, hls4ml_file, tmp_path,
                                                                                        capfd, monkeypatch):
    _, pretrained, _ = mlp_run  # MLP trained on top-landscape (QCD, top)
    code, out, err = jetzoo_in_process(capfd, monkeypatch, *quiet(
        "fit", "--model", "mlp", "--data.path", hls4ml_file, "--init_from", pretrained, "--freeze", "body.0.*",
        "--trainer.max_epochs", "2", "--test_after_fit", "false"), cwd=tmp_path)
    assert code == 0, err[-3000:]
    assert "reset 2 of another shape (backbone.head.weight, backbone.head.bias)" in out
    before = load_checkpoint_file(pretrained)["state_dict"]
    after = load_checkpoint_file(tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt")["state_dict"]
    assert after["backbone.head.weight"].shape == (5, 32) and before["backbone.head.weight"].shape == (2, 32)
    parameters = {n for n, _ in create_model("mlp", num_classes=5, num_hl_features=len(HL_FEATURE_NAMES)).named_parameters()}
    frozen = sorted(n for n in parameters if n.startswith("backbone.body.0."))  # `body.0.*` names them too
    trained = sorted(n for n in parameters if n.startswith("backbone.body.") and n not in frozen)
    assert frozen and trained
    for name in frozen:
        assert torch.equal(after[name], before[name]), name  # frozen: exactly as loaded
    assert not any(torch.equal(after[name], before[name]) for name in trained)  # loaded, then trained on


def test_init_from_refuses_what_cannot_be_meant(mlp_run):
    _, pretrained, _ = mlp_run
    model = create_model("mlp", num_classes=2, num_hl_features=len(HL_FEATURE_NAMES))
    with pytest.raises(CheckpointError, match="matches no parameter"):
        init_from_checkpoint(model, pretrained, freeze=["encoder.*"])
    with pytest.raises(CheckpointError, match="not loaded from it"):
        init_from_checkpoint(model, pretrained, exclude=["body.0.*"], freeze=["body.0.*"])
    with pytest.raises(CheckpointError, match="other features"):
        names = {"hl": [f"x{i}" for i in range(len(HL_FEATURE_NAMES))]}
        init_from_checkpoint(model, pretrained, feature_names=names)
    with pytest.raises(CheckpointError, match="none of its"):
        init_from_checkpoint(create_model("perceptron", num_classes=3, num_hl_features=5), pretrained)
    report = init_from_checkpoint(model, pretrained, include=["body.*"])
    assert report.loaded and all(k.startswith("backbone.body.") for k in report.loaded) and not report.reset


def test_freeze_without_init_from_is_a_one_line_error_before_any_data_is_made(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["jetzoo"])  # the command line is run in this process
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JETZOO_CACHE", str(tmp_path / "cache"))  # nothing may be generated into it
    assert main(["fit", "--model", "mlp", "--freeze", "body.*"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "jetzoo fit: error: --freeze needs --init_from CKPT: only loaded weights can be frozen"
    assert not (tmp_path / "cache").exists()


def test_a_checkpoint_of_jetzoo_0_1_0_still_loads_tests_and_gives_the_same_outputs(top_jets_file, tmp_path, capfd,
                                                                                    monkeypatch):
    expected = json.loads(OLD_CHECKPOINT.with_suffix(".expected.json").read_text())
    model = load_checkpoint("mlp", str(OLD_CHECKPOINT)).eval()
    inputs = torch.linspace(-2, 2, 4 * model.hparams.num_hl_features).reshape(4, -1)
    with torch.no_grad():
        torch.testing.assert_close(model({"hl": inputs}), torch.tensor(expected["logits"]), rtol=0, atol=1e-6)
    code, out, err = jetzoo_in_process(capfd, monkeypatch, *quiet(
        "test", "--model", "mlp", "--data.path", top_jets_file, "--ckpt_path", OLD_CHECKPOINT), cwd=tmp_path)
    assert code == 0, err[-3000:]
    assert "test/auc" in out
