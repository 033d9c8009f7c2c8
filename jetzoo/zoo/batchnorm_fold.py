"""batch norm -> linear -> batch norm on inputs that need no gradient, as one affine map (issue 21).

ParT embeds the 4 pairwise features of every particle pair (133k pairs in a batch of 64 jets of 64
particles) with BatchNorm1d(4), Linear(4, 32) and BatchNorm1d(32) before its first GELU. Run as modules,
these are two batch-norm passes forward and back over (N, 4) and (N, 32) tensors and a (32, N) @ (N, 4)
weight-gradient product, about a fifth of a part-lite training step. But the first linear sees only 4
inputs, so the statistics both batch norms need follow from the inputs' mean (4) and covariance (4 x 4):
with s_in = gamma_in / sqrt(var_u + eps) and A = W diag(s_in), the linear's outputs have the batch mean
W beta_in + b and the batch variance diag(A cov_u A^T), so that

    bn_out(linear(bn_in(u))) = u @ M^T + c,   M = diag(s_out) A,   c = beta_out - M mu_u,

with s_out = gamma_out / sqrt(var_y + eps). One (N, 4) pass for the moments and one (N, 4) @ (4, 32)
product replace the three modules; the gradients of gamma_in, W, b, gamma_out and beta_out flow through the
4 x 4 and 32 x 4 algebra. The running statistics are updated as `nn.BatchNorm1d` updates them (momentum or
cumulative average, unbiased variance). In eval mode the same map is built from the running statistics.
The function is the modules' function exactly; the results differ by float rounding only (tested against
the modules in float64).
"""

from __future__ import annotations

import torch
from torch import nn

from jetzoo.zoo import onednn


def _factor(bn: nn.BatchNorm1d) -> float:
    """The running-average factor `nn.BatchNorm1d.forward` uses this step (after counting the batch)."""
    bn.num_batches_tracked.add_(1)
    return bn.momentum if bn.momentum is not None else 1.0 / float(bn.num_batches_tracked)


def _update(bn: nn.BatchNorm1d, mean: torch.Tensor, var: torch.Tensor, n: int) -> None:
    with torch.no_grad():
        f = _factor(bn)
        bn.running_mean.lerp_(mean.detach().to(bn.running_mean.dtype), f)
        bn.running_var.lerp_((var.detach() * (n / (n - 1))).to(bn.running_var.dtype), f)


def foldable(bn_in: nn.Module, linear: nn.Module, bn_out: nn.Module, u: torch.Tensor) -> bool:
    """Whether `bn_linear_bn` applies: plain affine, tracking BatchNorm1d / Linear / BatchNorm1d in the same
    mode, a 2-d input without gradient, and more than one row in training."""
    norms = (bn_in, bn_out)
    return (all(type(bn) is nn.BatchNorm1d and bn.affine and bn.track_running_stats for bn in norms)
            and bn_in.training == bn_out.training and type(linear) is nn.Linear and u.dim() == 2
            and not u.requires_grad and (not bn_in.training or u.size(0) > 1))


def bn_linear_bn(bn_in: nn.BatchNorm1d, linear: nn.Linear, bn_out: nn.BatchNorm1d, u: torch.Tensor) -> torch.Tensor:
    """`bn_out(linear(bn_in(u)))` for u (N, K) without gradient (see the module docstring); check `foldable`."""
    w, b = linear.weight, linear.bias
    u32 = u.to(torch.promote_types(u.dtype, torch.float32))
    if bn_in.training:
        n = u.size(0)
        mu = u32.mean(0)
        centred = u32 - mu
        cov = (centred.t() @ centred) / n
        var_in = cov.diagonal()
        s_in = bn_in.weight / torch.sqrt(var_in + bn_in.eps)
        a = w * s_in[None, :]
        var_y = ((a @ cov) * a).sum(1)
        mean_y = w @ bn_in.bias + (b if b is not None else 0.0)
        s_out = bn_out.weight / torch.sqrt(var_y + bn_out.eps)
        _update(bn_in, mu, var_in, n)
        _update(bn_out, mean_y, var_y, n)
    else:  # eval: the running statistics; u @ M^T + s_out (W shift_in + b - running_mean_out) + beta_out
        s_in = bn_in.weight / torch.sqrt(bn_in.running_var + bn_in.eps)
        shift_in = bn_in.bias - bn_in.running_mean * s_in
        s_out = bn_out.weight / torch.sqrt(bn_out.running_var + bn_out.eps)
        m = s_out[:, None] * (w * s_in[None, :])
        shift_y = w @ shift_in + (b if b is not None else 0.0) - bn_out.running_mean
        return onednn.linear(u32, m, bn_out.bias + s_out * shift_y).to(u.dtype)
    m = s_out[:, None] * a
    # beta_in cancels (bn_out removes the mean): kept in the graph at zero weight so that it gets a zero
    # gradient, as through the modules, and not None, which optimisers would skip (no weight decay)
    shift = bn_out.bias - m @ mu + 0.0 * bn_in.bias.sum()
    return onednn.linear(u32, m, shift).to(u.dtype)
