"""The classifier two-sample test on jet clouds (issue 22 §2): the one metric that works for any dataset and any
particle count. A fixed, permutation-invariant network, a Particle Flow Network (deep sets; Komiske, Metodiev,
Thaler, arXiv:1810.05165), learns to tell the two samples apart on half of each and is scored by its AUC on the
other half: 0.5 when it cannot (a perfect generator), 1 when it always can.

The network and its budget are fixed, so that numbers compare across generators and papers' samples:
per particle (eta_rel, phi_rel, log pT_rel) standardised on the training half, Phi = 3 -> 64 -> 64 -> 64 (ReLU),
a masked sum, F = 64 -> 64 -> 1; Adam, lr 1e-3, batches of 256, `epochs` = 10 passes over the training half,
the seed fixed. Both samples are cut to the smaller size first.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torchmetrics.functional.classification import binary_auroc

EPOCHS = 10
BATCH = 256


class _PFN(nn.Module):
    def __init__(self, width: int = 64):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, width), nn.ReLU())
        self.f = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.f((self.phi(x) * mask.unsqueeze(-1)).sum(1)).squeeze(-1)


def _inputs(cloud: np.ndarray, mask: np.ndarray) -> np.ndarray:
    logpt = np.log(np.where(mask, np.clip(cloud[..., 2], 1e-8, None), 1.0))
    return np.stack([cloud[..., 0], cloud[..., 1], logpt], -1) * mask[..., None]


def cloud_two_sample_auc(a, b, seed: int = 0, epochs: int = EPOCHS) -> float:
    """AUC on held-out halves of the fixed PFN trained to separate clouds a = (cloud, mask) from b."""
    rng = np.random.default_rng(seed)
    n = min(len(a[0]), len(b[0]))
    ia, ib = rng.permutation(len(a[0]))[:n], rng.permutation(len(b[0]))[:n]
    x = np.concatenate([_inputs(a[0][ia], a[1][ia]), _inputs(b[0][ib], b[1][ib])]).astype(np.float32)
    m = np.concatenate([a[1][ia], b[1][ib]]).astype(np.float32)
    y = np.concatenate([np.zeros(n), np.ones(n)]).astype(np.float32)
    half = np.zeros(2 * n, bool)
    half[np.concatenate([np.arange(n // 2), n + np.arange(n // 2)])] = True
    real = m[half].astype(bool)
    mu, sd = x[half][real].mean(0), x[half][real].std(0) + 1e-8
    x = (x - mu) / sd * m[..., None]
    xt, mt, yt = (torch.as_tensor(v) for v in (x, m, y))
    # may run inside Lightning's test loop (inference mode): train with gradients explicitly on
    with torch.random.fork_rng(devices=[]), torch.inference_mode(False), torch.enable_grad():
        torch.manual_seed(seed)
        net = _PFN()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        train = np.flatnonzero(half)
        for _ in range(epochs):
            for rows in np.array_split(rng.permutation(train), max(1, len(train) // BATCH)):
                opt.zero_grad()
                nn.functional.binary_cross_entropy_with_logits(net(xt[rows], mt[rows]), yt[rows]).backward()
                opt.step()
        with torch.no_grad():
            test = torch.as_tensor(np.flatnonzero(~half))
            scores = net(xt[test], mt[test])
    return float(binary_auroc(scores, yt[test].long()))
