"""hls4ml export: a small tagger as an hls4ml project (FPGA firmware in C++), with its C simulation.

`export_hls4ml(model, out_dir, ...)` converts the model's tensor-in network (`hls4ml_network()`:
a `torch.nn.Sequential` of Linear / BatchNorm1d / activation layers, declared by the perceptron and
the MLP) with the `hls4ml` package's PyTorch front end, writes the project to `out_dir`, and compiles
its C simulation with g++ (no FPGA tools needed). Inputs are the standardised features, as for ONNX;
the constants, feature and class names are written to `out_dir/jetzoo.json` (`export_metadata`).

Numbers are fixed point: `precision` (default `ap_fixed<16,6>`: 6 integer bits including the sign,
10 fractional bits, the hls4ml jet-tagging default) for weights, biases, activations and results,
with `reuse_factor` multiplications per multiplier. `csim_parity(...)` compares the C simulation
with PyTorch (float) on standardised inputs.

Resources (LUT, FF, DSP, BRAM) are reported by hls4ml only after HLS synthesis
(`hls_model.build(synth=True)` with Vivado/Vitis HLS installed); `multiplier_estimate` gives the
multiplications per inference and the multipliers the reuse factor implies, from the layer sizes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jetzoo.export.metadata import export_metadata

DEFAULT_PRECISION = "ap_fixed<16,6>"
DEFAULT_BACKEND = "Vitis"


def _network_holder(model):
    """The module that declares `hls4ml_network()`: the tagger's backbone, or the model itself."""
    return getattr(model, "backbone", model)


def hls4ml_blocker(model) -> str | None:
    """Why `model` cannot be converted with hls4ml (one line), or None when it can."""
    if getattr(model, "input_view", None) != "hl" or not hasattr(_network_holder(model), "hls4ml_network"):
        return ("hls4ml export covers the dense taggers on high-level features (perceptron, mlp); "
                f"{type(model).__name__} declares no hls4ml_network()")
    return None


def multiplier_estimate(network: torch.nn.Sequential, reuse_factor: int) -> dict[str, int]:
    """Multiplications per inference of the Linear layers, and the multipliers (DSPs at most) they need."""
    mults = sum(m.in_features * m.out_features for m in network.modules() if isinstance(m, torch.nn.Linear))
    return {"multiplications": int(mults), "multipliers": int(-(-mults // reuse_factor)), "reuse_factor": int(reuse_factor)}


def export_hls4ml(model, out_dir, checkpoint: dict | None = None, ckpt_path=None, precision: str = DEFAULT_PRECISION,
                  reuse_factor: int = 1, backend: str = DEFAULT_BACKEND, compile_csim: bool = True):
    """Write the hls4ml project of `model` to `out_dir` (and compile its C simulation); returns
    (the hls4ml ModelGraph, the metadata written to out_dir/jetzoo.json)."""
    try:
        import hls4ml
    except ImportError as err:
        raise ValueError("--format hls4ml needs the hls4ml package: pip install 'jetzoo[hls4ml]'") from err
    reason = hls4ml_blocker(model)
    if reason:
        raise ValueError(reason)
    out_dir = Path(out_dir)
    network = _network_holder(model).hls4ml_network().eval()
    features = int(model.hparams.num_hl_features)
    config = hls4ml.utils.config_from_pytorch_model(
        network, input_shape=(features,), granularity="name", backend=backend,
        default_precision=precision, default_reuse_factor=reuse_factor,
    )
    hls_model = hls4ml.converters.convert_from_pytorch_model(
        network, output_dir=str(out_dir), project_name="jetzoo_tagger", backend=backend,
        hls_config=config, io_type="io_parallel",
    )
    if compile_csim:
        hls_model.compile()  # writes the project and builds the C simulation with g++
    else:
        hls_model.write()
    inputs = [{"name": "hl", "shape": ["batch", features], "dtype": precision}]
    output = {"name": "output", "shape": ["batch", int(model.hparams.num_classes)], "dtype": precision}
    metadata = export_metadata(model, inputs, output, checkpoint, ckpt_path)
    metadata.update(hls4ml_version=hls4ml.__version__, hls4ml_backend=backend, precision=precision,
                    resources=multiplier_estimate(network, reuse_factor))
    (out_dir / "jetzoo.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return hls_model, metadata


def csim_parity(model, hls_model, n: int = 1000, seed: int = 0) -> dict[str, Any]:
    """C simulation against PyTorch on `n` standard-normal (standardised) inputs: max |logit difference|,
    and the fraction of jets given the same class."""
    features = int(model.hparams.num_hl_features)
    x = torch.randn(n, features, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = _network_holder(model).hls4ml_network().eval()(x).numpy()
    got = np.asarray(hls_model.predict(np.ascontiguousarray(x.numpy()))).reshape(expected.shape)
    return {"max_abs_diff": float(np.abs(got - expected).max()),
            "same_class": float((got.argmax(1) == expected.argmax(1)).mean()), "n": n}
