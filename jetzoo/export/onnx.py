"""ONNX export: dynamic batch size and particle count, self-description in `metadata_props`.

`export_onnx(model, out, ...)` traces `ExportWrapper(model)` (the model's dense path) with
PyTorch's TorchScript-based exporter (`torch.onnx.export(..., dynamo=False)`), marks the batch
axis of every input and output and the particle axis of the particle inputs as dynamic, stores
`export_metadata(...)` in the file's `metadata_props` (one entry per top-level key; values that
are not strings are JSON) and writes the same dict as JSON to `<out>.json`.

Inputs the traced graph does not use (e.g. `points` for the transformer) are dropped by the
exporter; the metadata's `inputs` lists the file's actual inputs, in order.
`onnx_outputs(path, tensors)` runs a file with onnxruntime, feeding the inputs it has.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from jetzoo.export.metadata import export_metadata
from jetzoo.export.wrapper import DYNAMIC_AXES, ExportWrapper, example_inputs

DEFAULT_OPSET = 17
ONNX_DTYPES = {1: "float32", 7: "int64", 9: "bool", 10: "float16", 11: "float64"}


def _value_info(value) -> dict[str, Any]:
    dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
    return {"name": value.name, "shape": dims, "dtype": ONNX_DTYPES.get(value.type.tensor_type.elem_type, "?")}


def export_onnx(model: torch.nn.Module, out: str | Path, checkpoint: dict | None = None, ckpt_path=None,
                batch: dict[str, torch.Tensor] | None = None, feature_names: dict[str, list[str]] | None = None,
                opset: int = DEFAULT_OPSET) -> dict[str, Any]:
    """Write `model` to `out` (ONNX) and `<out>.json`; returns the metadata written.

    `batch`: a real batch to trace with (default: synthetic inputs of the right shapes);
    `checkpoint`: the loaded checkpoint dict the model came from (standardisation, names)."""
    import onnx

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = ExportWrapper(model)
    was_training, was_dense = model.training, getattr(model, "dense_path", False)
    names = list(wrapper.input_names)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation notice and tracer chatter
            torch.onnx.export(
                wrapper, example_inputs(model, batch), str(out), dynamo=False, opset_version=opset,
                input_names=names, output_names=["output"],
                dynamic_axes={**{n: DYNAMIC_AXES[n] for n in names}, "output": {0: "batch"}},
            )
    finally:
        model.train(was_training)
        model.dense_path = was_dense
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    metadata = export_metadata(model, [_value_info(v) for v in proto.graph.input], _value_info(proto.graph.output[0]),
                               checkpoint, ckpt_path, feature_names)
    metadata["onnx_opset"] = opset
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.save(proto, str(out))
    Path(f"{out}.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def onnx_session(path: str | Path):
    """An onnxruntime session of the file at `path`, on one CPU thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_feeds(session, tensors: dict[str, torch.Tensor]) -> dict:
    """The numpy inputs of `session` taken from `tensors` (its inputs only; the mask as bool, the rest float32)."""
    return {value.name: (tensors[value.name].bool() if value.name == "mask" else tensors[value.name].float()).numpy()
            for value in session.get_inputs()}


def onnx_outputs(path: str | Path, tensors: dict[str, torch.Tensor]):
    """The output (numpy) of the ONNX file at `path` run by onnxruntime on `tensors` (its inputs only)."""
    session = onnx_session(path)
    return session.run(None, onnx_feeds(session, tensors))[0]
