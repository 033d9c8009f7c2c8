"""A generator whose numbers stop being finite ends its fit with one line (issue 22: "a generator that produces NaN
stops the fit with one line that names the step; no NaN reaches a metric").

`check_finite` is called on every training loss of the generation task (the adversarial and the flow-matching
loops) and on every generated batch (`JetGenerator.sample`: validation, test, the bench and `jetzoo sample`), so
a diverged generator is stopped where it diverged instead of training on NaN until its budget ends, and no
metric is computed on NaN. The bench keeps such a run's best epoch before the divergence (`bench/generative.py`).
"""

from __future__ import annotations

import torch

from jetzoo.errors import TrainingError


def check_finite(module, value: torch.Tensor, what: str, batch_idx: int | None = None) -> None:
    """TrainingError naming the model, `what`, the stage and the step when any entry of `value` is NaN or inf.

    Under DDP every rank takes the same decision (one rank's non-finite value stops all ranks), so no rank is
    left waiting in a collective."""
    bad = ~torch.isfinite(value.detach())
    failed = bool(bad.any())
    trainer = module._trainer
    if trainer is not None and trainer.world_size > 1:
        failed = bool(trainer.strategy.reduce_boolean_decision(failed, all=False))
    if not failed:
        return
    if trainer is None:
        where = "outside a fit"
    else:
        stage = trainer.state.stage.value if trainer.state.stage is not None else "fit"
        batch = f"{stage} batch {batch_idx} of " if batch_idx is not None else f"{stage}, "
        where = f"{batch}epoch {module.current_epoch}, after {module.global_step} optimizer steps"
    values = f"{int(bad.sum())} of {bad.numel()} values of " if bad.numel() > 1 else ""
    raise TrainingError(f"{type(module).__name__}: NaN or inf in {values}{what} ({where}): the weights have diverged; "
                        "lower the learning rates")
