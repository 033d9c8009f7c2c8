"""When a model takes its dense, sync-free forward path instead of its packed one.

Several particle models (`particlenet`, `transformer`, `rnn`, ...) run fastest on CPU by packing
the real particles with data-dependent shapes (`nonzero()`, `int(counts.max())`, packed
sequences). Those host syncs cannot be traced into an ONNX or `torch.compile` graph, so each such
model also has a dense path on the full padded (B, P) tensors that gives the same outputs in eval
mode (and in training mode too where the model has no batch norm over particles). The dense path
is taken when the model's `dense_path` attribute is True (the exporter sets it), while tracing or
exporting to ONNX, and while `torch.compile` traces the model.
"""

from __future__ import annotations

import torch


def tracing() -> bool:
    """True while the forward is recorded into a static graph (ONNX export, TorchScript tracing).

    Python ints read from shapes then become constants, so dense paths avoid shape-dependent
    Python branches and pad to fixed minimum sizes instead."""
    return torch.onnx.is_in_onnx_export() or torch.jit.is_tracing()


def use_dense(module: torch.nn.Module, exact_in_training: bool = True) -> bool:
    """Whether this call takes the dense path: requested (`module.dense_path`), exporting, or compiling.

    A model whose dense path differs in training mode (batch-norm statistics over padded rows)
    passes `exact_in_training=False`: in training mode it then keeps the packed path, whose
    data-dependent ops become graph breaks under `torch.compile`."""
    if not exact_in_training and module.training:
        return False
    return bool(getattr(module, "dense_path", False)) or tracing() or torch.compiler.is_compiling()
