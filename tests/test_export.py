"""`jetzoo export`: the ONNX file of a real `jetzoo fit` checkpoint runs in onnxruntime like the
checkpoint in PyTorch, and describes itself (inputs, feature names, standardisation, class names)
in its metadata and in the JSON beside it. Per-model ONNX parity is in test_model_contract.py."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from jetzoo import registry
from jetzoo.cli import main
from jetzoo.export import ExportError, ExportWrapper, export_blocker
from jetzoo.export.metadata import feature_names
from jetzoo.export.onnx import onnx_outputs
from jetzoo.zoo.gan import JetGAN
from jetzoo.zoo.deepsets import ParticleFlowNetwork


def test_cli_exports_a_real_checkpoint_with_its_metadata(mlp_run, top_datamodules, tmp_path, capsys):
    _, ckpt, _ = mlp_run
    out = tmp_path / "mlp.onnx"
    assert main(["export", "--model", "mlp", "--ckpt_path", str(ckpt), "--format", "onnx", "--out", str(out)]) == 0
    assert "max |diff|" in capsys.readouterr().out

    checkpoint = torch.load(ckpt, weights_only=True)
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    written = json.loads((tmp_path / "mlp.onnx.json").read_text())
    assert set(props) == set(written)
    assert json.loads(props["class_names"]) == written["class_names"] == checkpoint["hyper_parameters"]["class_names"]
    mean, std = checkpoint["jetzoo"]["standardisation"]["hl"]
    assert written["standardisation"]["hl"] == {"mean": mean, "std": std}
    assert [i["name"] for i in written["inputs"]] == ["hl"]
    assert len(written["feature_names"]["hl"]) == checkpoint["hyper_parameters"]["num_hl_features"]
    assert written["model_name"] == "mlp" and written["task"] == "tagging"

    # real (already standardised) jets, two batch sizes through the one file
    model = registry.load_checkpoint("mlp", str(ckpt)).eval()
    batch = next(iter(top_datamodules("hl").val_dataloader()))
    for n in (64, 5):
        with torch.no_grad():
            expected = model({"hl": batch["hl"][:n]}).numpy()
        assert np.abs(onnx_outputs(out, {"hl": batch["hl"][:n]}) - expected).max() <= 1e-4


def test_cli_refuses_another_models_checkpoint_in_one_line(mlp_run, tmp_path, capsys):
    _, ckpt, _ = mlp_run
    assert main(["export", "--model", "pfn", "--ckpt_path", str(ckpt), "--out", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'mlp'" in err
    assert not (tmp_path / "x.onnx").exists()


def test_a_generator_says_why_it_cannot_be_exported():
    model = JetGAN()
    reason = export_blocker(model)
    assert reason and "\n" not in reason
    with pytest.raises(ExportError, match="cannot be exported"):
        ExportWrapper(model)


def test_feature_names_come_from_the_runs_config(tmp_path):
    run = tmp_path / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("data:\n  init_args:\n    particle_features: [deta, dphi, log_pt]\n")
    ckpt = run / "checkpoints" / "last.ckpt"
    names, source = feature_names(ParticleFlowNetwork(num_particle_features=3), None, ckpt)
    assert names["features"] == ["deta", "dphi", "log_pt"] and "config.yaml" in source
    assert names["p4"] == ["px", "py", "pz", "energy"]
    with pytest.raises(ValueError, match="the model takes 7"):
        feature_names(ParticleFlowNetwork(num_particle_features=7), None, ckpt)
    given, source = feature_names(ParticleFlowNetwork(num_particle_features=2), None, ckpt, {"features": ["a", "b"]})
    assert given["features"] == ["a", "b"] and source == "given on the command line"


# --- hls4ml -------------------------------------------------------------------------------------------
# ap_fixed<16,6> keeps 10 fractional bits: each of the F inputs and weights is truncated by < 2^-10, so a
# logit of a perceptron on F = 16 standardised features moves by at most ~ F * 2^-10 * (|w| + |x|) ~ 0.05.
HLS4ML_LOGIT_TOLERANCE = 0.05


def test_hls4ml_c_simulation_of_the_perceptron_agrees_with_pytorch(top_datamodules, tmp_path):
    pytest.importorskip("hls4ml")
    from jetzoo.export.hls4ml import csim_parity, export_hls4ml

    dm = top_datamodules("hl")
    model = registry.create_model("perceptron", num_classes=2, num_hl_features=dm.dims["num_hl_features"]).eval()
    with torch.no_grad():
        model.backbone.linear.weight.uniform_(-0.5, 0.5)  # trained-like weights, reproducibly
        model.backbone.linear.bias.uniform_(-0.5, 0.5)
    hls_model, metadata = export_hls4ml(model, tmp_path / "hls", precision="ap_fixed<16,6>")
    assert (tmp_path / "hls" / "firmware" / "jetzoo_tagger.cpp").is_file()
    assert json.loads((tmp_path / "hls" / "jetzoo.json").read_text())["resources"]["multiplications"] == 2 * model.hparams.num_hl_features
    synthetic = csim_parity(model, hls_model)
    assert synthetic["max_abs_diff"] <= HLS4ML_LOGIT_TOLERANCE and synthetic["same_class"] >= 0.98, synthetic
    hl = next(iter(dm.val_dataloader()))["hl"]  # real standardised jets
    with torch.no_grad():
        expected = model({"hl": hl}).numpy()
    got = np.asarray(hls_model.predict(np.ascontiguousarray(hl.numpy()))).reshape(expected.shape)
    assert np.abs(got - expected).max() <= HLS4ML_LOGIT_TOLERANCE
    # and it is not trivially close: a fixed point of 4 fractional bits is visibly off
    coarse, _ = export_hls4ml(model, tmp_path / "coarse", precision="ap_fixed<8,4>")
    assert csim_parity(model, coarse)["max_abs_diff"] > HLS4ML_LOGIT_TOLERANCE


def test_cli_writes_the_hls4ml_project_of_a_real_mlp_checkpoint(mlp_run, tmp_path, capsys):
    pytest.importorskip("hls4ml")
    _, ckpt, _ = mlp_run
    out = tmp_path / "mlp-hls"
    assert main(["export", "--model", "mlp", "--ckpt_path", str(ckpt), "--format", "hls4ml", "--out", str(out),
                 "--check", "false"]) == 0
    assert "multiplications per jet" in capsys.readouterr().out
    written = json.loads((out / "jetzoo.json").read_text())
    checkpoint = torch.load(ckpt, weights_only=True)
    assert written["class_names"] == checkpoint["hyper_parameters"]["class_names"] and written["precision"] == "ap_fixed<16,6>"
    assert written["standardisation"]["hl"]["mean"] == checkpoint["jetzoo"]["standardisation"]["hl"][0]
    assert (out / "firmware" / "jetzoo_tagger.cpp").is_file()


def test_models_hls4ml_cannot_take_say_so_in_one_line():
    from jetzoo.export.hls4ml import hls4ml_blocker

    reason = hls4ml_blocker(ParticleFlowNetwork())
    assert reason and "\n" not in reason and "ParticleFlowNetwork" in reason
