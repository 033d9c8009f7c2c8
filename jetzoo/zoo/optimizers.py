"""The optimisers and learning-rate schedules a tagger trains with, named by its `optimizer` and
`scheduler` options, so that a paper's recipe (jetzoo/recipes/) is a handful of plain values.

Optimisers:
- `adamw` (default): torch.optim.AdamW.
- `adam`: torch.optim.Adam; `weight_decay` then is the L2 term of the loss (Keras' and torch's Adam).
- `ranger`: weaver-core's Ranger, the optimiser of the ParticleNet and ParT authors' scripts
  (particle_transformer's train_TopLandscape.sh): RAdam(betas=(0.95, 0.999), eps=1e-5) with decoupled
  weight decay inside Lookahead(k=6, alpha=0.5) (weaver/utils/nn/optimizer/ranger.py L5-11). RAdam is
  torch's (`decoupled_weight_decay=True` is weaver's radam.py L96-103); Lookahead is below.
With a weight decay, as weaver-core's train.py (L574-622) does it: biases and 1-D parameters (norm
layers), and names a backbone lists in `no_weight_decay()`, get none.

Schedules (stepped per batch unless said otherwise):
- `cosine` (default): cosine decay to 0 over the fit.
- `onecycle`: torch's OneCycleLR with max_lr = lr.
- `flat-decay`: weaver-core's `flat+decay` (train.py L664-684), per epoch: flat for the first 70% of
  the epochs, then multiplied by 0.01**(1/d) at each of the last d = max(1, int(0.3 * epochs)) epochs,
  ending at 1% of lr.
- `plateau`: ReduceLROnPlateau on the validation loss, factor 0.5, patience 10, cooldown 2, min_lr 1e-7
  (the hls4ml paper's Keras training, arXiv:1804.06913; keras-training train.py).
- `cosine-warmup`: EPiC-FM's: the cosine, times a linear warm-up over the first tenth of the fit.
- `none`: constant.
"cosine" and "cosine-warmup" span the whole fit: its steps, or, when a callback ends the fit on a CPU budget
(the generative and anomaly benches' `cpu_budget_hours`), that budget (`fit_fraction`); `onecycle` and
`flat-decay` under a budget are one line.
"""

from __future__ import annotations

import math

from collections import defaultdict
from typing import Callable, Literal

import torch

Optimizer = Literal["adamw", "adam", "ranger"]
Scheduler = Literal["none", "cosine", "cosine-warmup", "onecycle", "flat-decay", "plateau"]


class Lookahead(torch.optim.Optimizer):
    """Lookahead (Zhang et al., arXiv:1907.08610) around an inner optimiser: every `k` inner steps the slow
    weights move `alpha` of the way to the fast ones, and the fast weights restart from them. As weaver-core's
    (weaver/utils/nn/optimizer/lookahead.py, lonePatient's lookahead_pytorch: the slow weights start as the
    weights when the optimiser is made), with Ranger's k=6, alpha=0.5; tests/test_recipes.py compares the two
    step by step when weaver-core is installed."""

    def __init__(self, inner: torch.optim.Optimizer, k: int = 6, alpha: float = 0.5):
        if k < 1 or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Lookahead needs k >= 1 and 0 <= alpha <= 1, got k={k}, alpha={alpha}")
        self.inner, self.k, self.alpha = inner, k, alpha
        self.param_groups = inner.param_groups  # shared: schedulers set the inner optimiser's lr
        self.defaults = inner.defaults
        self.state = defaultdict(dict)  # the slow weights, from the weights at the start
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["slow"] = p.detach().clone()
        self.steps = 0

    @torch.no_grad()
    def step(self, closure=None):
        loss = self.inner.step(closure)
        self.steps += 1
        if self.steps % self.k == 0:
            for group in self.param_groups:
                for p in group["params"]:
                    slow = self.state[p]["slow"]
                    slow.add_(p - slow, alpha=self.alpha)
                    p.copy_(slow)
        return loss

    def zero_grad(self, set_to_none: bool = True):
        self.inner.zero_grad(set_to_none=set_to_none)

    def state_dict(self):
        params = [p for g in self.param_groups for p in g["params"]]
        return {"inner": self.inner.state_dict(), "steps": self.steps,
                "slow": {i: self.state[p]["slow"] for i, p in enumerate(params) if "slow" in self.state[p]}}

    def load_state_dict(self, state):
        self.inner.load_state_dict(state["inner"])
        self.steps = state["steps"]
        params = [p for g in self.param_groups for p in g["params"]]
        for i, slow in state["slow"].items():
            self.state[params[int(i)]]["slow"] = slow.clone()


def parameter_groups(module: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed weights, and biases, 1-D parameters and `no_weight_decay()` names without decay."""
    if not weight_decay:
        return [{"params": [p for p in module.parameters() if p.requires_grad], "weight_decay": 0.0}]
    skip = set()
    for owner in (module, getattr(module, "backbone", None)):
        if owner is not None and hasattr(owner, "no_weight_decay"):
            prefix = "backbone." if owner is not module else ""
            skip |= {prefix + name for name in owner.no_weight_decay()}
    decay, no_decay = [], []
    for name, p in module.named_parameters():
        if not p.requires_grad:
            continue
        bare = name.split(".")[-1]
        (no_decay if p.ndim <= 1 or name.endswith(".bias") or name in skip or bare in skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(module: torch.nn.Module, name: str, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "adamw":
        return torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "ranger":
        inner = torch.optim.RAdam(parameter_groups(module, weight_decay), lr=lr, betas=(0.95, 0.999), eps=1e-5,
                                  decoupled_weight_decay=True)
        return Lookahead(inner, k=6, alpha=0.5)
    raise ValueError(f"unknown optimizer '{name}' (adamw, adam, ranger)")


def flat_decay_lambda(epochs: int):
    """weaver-core's flat+decay as a LambdaLR factor of the epoch: 1 for the first epochs, then gamma**k."""
    decay_epochs = max(1, int(0.3 * epochs))
    gamma = 0.01 ** (1.0 / decay_epochs)
    first = epochs - decay_epochs
    return lambda epoch: gamma ** max(0, min(epoch, epochs - 1) - first + 1) if epoch >= first else 1.0


def cosine_warmup_lambda(fraction: Callable[[int], float], warmup_fraction: float = 0.1):
    """EPiC-FM's CosineWarmupScheduler (github.com/uhh-pd-ml/EPiC-FM, 1000 warm-up of 10000 epochs): the factor
    0.5 (1 + cos(pi f)), times f / 0.1 during the first tenth, f = `fraction(step + 1)` of the fit done after the
    step (`fit_fraction`: of its steps, or of its CPU budget)."""

    def factor(step: int) -> float:
        f = min(1.0, fraction(step + 1))
        return 0.5 * (1 + math.cos(math.pi * fraction(step))) * min(1.0, f / warmup_fraction)
    return factor


def cosine_lambda(fraction: Callable[[int], float]):
    """CosineAnnealingLR's factor 0.5 (1 + cos(pi f)), f the fraction of the fit done (`fit_fraction`)."""
    return lambda step: 0.5 * (1 + math.cos(math.pi * min(1.0, fraction(step))))


def budget_callback(trainer):
    """The trainer's callback that ends the fit on a budget of its own (it has `fit_fraction()`), or None."""
    return next((c for c in getattr(trainer, "callbacks", ()) if callable(getattr(c, "fit_fraction", None))), None)


def fit_fraction(trainer, scheduler: str) -> Callable[[int], float]:
    """step -> the fraction of the fit done, for a schedule spread over the whole fit: step / the fit's steps; or,
    when a callback of the trainer ends the fit on a budget of its own (the generative and anomaly benches' CPU
    budget, `jetzoo.bench.convergence.CpuBudget`; a generator's fit runs `max_epochs` 100000), its `fit_fraction()`,
    so the schedule spans the budget the run gets instead of a length it never reaches (issue 22: before, epic-fm's
    warm-up alone spanned 10% of 100000 epochs, and its learning rate never rose above 2% of the recipe's)."""
    budget = budget_callback(trainer)
    if budget is not None:
        return lambda step: budget.fit_fraction()
    total = _fit_steps(trainer, scheduler)
    return lambda step: min(step, total) / total


FIXED_LENGTH_SCHEDULES = ("cosine", "cosine-warmup", "onecycle", "flat-decay")  # spread over the whole fit


def configure(module, name: str, lr: float, weight_decay: float, scheduler: str) -> dict | torch.optim.Optimizer:
    """What `configure_optimizers` returns for these options (the trainer gives the fit's length)."""
    optimizer = build_optimizer(module, name, lr, weight_decay)
    if scheduler == "none":
        return optimizer
    trainer = module.trainer
    budgeted = budget_callback(trainer) is not None
    if scheduler == "cosine" and not budgeted:
        total = _fit_steps(trainer, scheduler)
        return _per_step(optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total))
    if scheduler == "cosine":  # the same shape over the CPU budget
        return _per_step(optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_lambda(fit_fraction(trainer, scheduler))))
    if scheduler == "cosine-warmup":
        fraction = fit_fraction(trainer, scheduler)
        return _per_step(optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_warmup_lambda(fraction)))
    if scheduler in ("onecycle", "flat-decay") and budgeted:
        from jetzoo.errors import OptionError

        raise OptionError(f"--model.scheduler {scheduler} is laid out over the fit's steps or epochs, which a CPU "
                          "budget does not fix: use cosine or cosine-warmup (spread over the budget), plateau or none")
    if scheduler == "onecycle":
        total = _fit_steps(trainer, scheduler)
        return _per_step(optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total))
    if scheduler == "flat-decay":
        if (trainer.max_epochs or 0) < 1:
            _endless(scheduler, "--trainer.max_epochs N")
        sched = torch.optim.lr_scheduler.LambdaLR(optimizer, flat_decay_lambda(max(1, int(trainer.max_epochs or 1))))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
    if scheduler == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=10,
                                                           cooldown=2, min_lr=1e-7)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "epoch", "monitor": "val/loss"}}
    raise ValueError(f"unknown scheduler '{scheduler}' (none, cosine, cosine-warmup, onecycle, flat-decay, plateau)")


def _fit_steps(trainer, scheduler: str) -> int:
    """The fit's optimizer steps, which a schedule of fixed length spreads itself over."""
    steps = trainer.estimated_stepping_batches
    if not math.isfinite(steps):
        _endless(scheduler, "--trainer.max_epochs N or --trainer.max_steps N")
    return max(1, int(steps))


def _endless(scheduler: str, give: str):
    from jetzoo.errors import OptionError

    raise OptionError(f"--model.scheduler {scheduler} spreads over the whole fit, but the fit has no end "
                      f"(--trainer.max_epochs -1): give {give}, or a schedule of no fixed length "
                      "(--model.scheduler plateau or none)")


def _per_step(optimizer, sched) -> dict:
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
