"""fp32 matrix products through oneDNN, where oneDNN computes them in fp32 (issue 21).

On this kind of CPU (AVX-512, no AMX) PyTorch's default fp32 `mm` goes to MKL, while oneDNN's `brg_matmul`
runs the same products 1.2-2x faster, and up to 10x on the skinny shapes of ParT's pair embedding
((32, N) @ (N, 4): 24 ms in MKL, 1 ms in oneDNN, N = 133k). PyTorch sends fp32 products to oneDNN only
when `torch.backends.mkldnn.matmul.fp32_precision` allows bf16; on a CPU without AMX oneDNN ignores that
permission and keeps its fp32 kernel (ONEDNN_VERBOSE: `brg_matmul:avx512_core`, no bf16 conversion), but on
an AMX CPU it would really compute in bf16. So jetzoo never relies on the hint: `stays_fp32()` measures, at
run time, once per process, whether products under the permission match float64 to fp32 accuracy, and only
then routes. The permission is set around jetzoo's own products (`linear`, `matmul`, forward and backward)
and restored at once, so the global setting a user or another library sees is never changed.

`linear` and `matmul` fall back to the plain ops for other dtypes, under autocast (where bf16 already
runs in oneDNN), off the CPU, when the probe fails, or with JETZOO_ONEDNN=0.
"""

from __future__ import annotations

import contextlib
import functools
import os

import torch
import torch.nn.functional as F

_FP32_TOLERANCE = 1e-5  # relative; fp32 products give ~1e-7 here, bf16 ones ~1e-3


@contextlib.contextmanager
def routed():
    """fp32 products inside go to oneDNN (the permission restored on exit)."""
    backend = torch.backends.mkldnn.matmul
    before = backend.fp32_precision
    backend.fp32_precision = "bf16"
    try:
        yield
    finally:
        backend.fp32_precision = before


@functools.cache
def stays_fp32() -> bool:
    """True when oneDNN is available and its products under the permission are fp32-accurate (measured)."""
    if os.environ.get("JETZOO_ONEDNN", "1") == "0" or not torch.backends.mkldnn.is_available():
        return False
    generator = torch.Generator().manual_seed(0)
    shapes = [((512, 64), (64, 256)), ((4096, 4), (4, 32)), ((4, 4096), (4096, 32)), ((8, 64, 64), (8, 64, 16))]
    try:
        with routed():
            for sa, sb in shapes:
                a, b = torch.randn(sa, generator=generator), torch.randn(sb, generator=generator)
                exact = torch.matmul(a.double(), b.double())
                if float((torch.matmul(a, b).double() - exact).abs().max() / exact.abs().max()) > _FP32_TOLERANCE:
                    return False
    except (RuntimeError, AttributeError):
        return False
    return True


def applies(*tensors: torch.Tensor) -> bool:
    """Whether products of these tensors are routed: fp32 on the CPU, eager (not traced, exported or
    compiled: a custom autograd function has no graph form), no autocast, and the probe passed."""
    return (all(t.dtype == torch.float32 and t.device.type == "cpu" for t in tensors)
            and not torch.is_autocast_enabled("cpu") and not torch.jit.is_tracing()
            and not torch.compiler.is_compiling() and not torch.onnx.is_in_onnx_export() and stays_fp32())


def _weight_grad(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """g^T x (out, in) for g (N, out), x (N, in): the product with the fewer left rows is the faster one."""
    return g.t() @ x if g.size(1) <= x.size(1) else (x.t() @ g).t()


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        with routed():
            return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        g2 = grad.reshape(-1, grad.size(-1))
        gx = gw = gb = None
        with routed():
            if ctx.needs_input_grad[0]:
                gx = (g2 @ weight).view(x.shape)
            if ctx.needs_input_grad[1]:
                gw = _weight_grad(g2, x.reshape(-1, x.size(-1)))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g2.sum(0)
        return gx, gw, gb


class _MatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with routed():
            return torch.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with routed():
            ga = grad @ b.mT if ctx.needs_input_grad[0] else None
            gb = a.mT @ grad if ctx.needs_input_grad[1] else None
        return ga, gb


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """`F.linear(x, weight, bias)`, its products in oneDNN where that stays fp32."""
    if not applies(x, weight):
        return F.linear(x, weight, bias)
    return _Linear.apply(x, weight, bias)


def run(layers: torch.nn.Sequential | list[torch.nn.Module], x: torch.Tensor) -> torch.Tensor:
    """The layers in order, each `nn.Linear` through `linear`."""
    for layer in layers:
        x = linear(x, layer.weight, layer.bias) if type(layer) is torch.nn.Linear else layer(x)
    return x


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b for operands of equal batch shape (no broadcasting), in oneDNN where that stays fp32."""
    if not applies(a, b) or a.shape[:-2] != b.shape[:-2]:
        return torch.matmul(a, b)
    return _MatMul.apply(a, b)
