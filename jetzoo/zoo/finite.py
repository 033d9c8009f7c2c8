"""A model whose numbers stop being finite ends its run with one line (issue 22: "a generator that produces NaN
stops the fit with one line that names the step; no NaN reaches a metric").

`check_finite` is called on every training loss of the generation task (the adversarial and the flow-matching
loops) and on every generated batch (`JetGenerator.sample`: validation, test, prediction, the bench and `jetzoo
sample`), so a diverged generator is stopped where it diverged instead of training on NaN until its budget ends,
and no metric is computed on NaN. The bench keeps such a run's best epoch before the divergence
(`bench/generative.py`). The taggers' evaluation step (`zoo/base.py`) takes the same decision on its logits.

Under DDP every rank must stop at the same point, or the others wait forever in a collective:
- in training the ranks run equal numbers of batches (Lightning's DistributedSampler pads), so they decide together
  at the step (`not_finite_on_any_rank`);
- in validation, test and prediction they need not (jetzoo evaluates every jet once, with
  `UnrepeatedDistributedSampler`), so a collective per batch would pair one rank's check with another rank's
  epoch-end gather. There the first non-finite batch is held, skipped, and raised by every rank together at the
  epoch's end (`raise_held`).
"""

from __future__ import annotations

from typing import Callable

import torch

from jetzoo.errors import TrainingError

HELD = "_held_non_finite"  # the message of the first non-finite batch of a DDP evaluation epoch


def not_finite_on_any_rank(module, bad: torch.Tensor) -> bool:
    """Whether any entry of the boolean `bad` is set on this rank or, under DDP, on any other (a collective)."""
    failed = bool(bad.any())
    trainer = module._trainer
    if trainer is not None and trainer.world_size > 1:
        failed = bool(trainer.strategy.reduce_boolean_decision(failed, all=False))
    return failed


def step_name(module, batch_idx: int | None = None) -> str:
    """'train batch 3 of epoch 0, after 7 optimizer steps': where in the run the module is."""
    trainer = module._trainer
    if trainer is None:
        return "outside a fit"
    stage = trainer.state.stage.value if trainer.state.stage is not None else "fit"
    batch = f"{stage} batch {batch_idx} of " if batch_idx is not None else f"{stage}, "
    return f"{batch}epoch {module.current_epoch}, after {module.global_step} optimizer steps"


def another_rank(module) -> str:
    """The message of a rank whose own values are finite when another rank's are not."""
    return (f"{type(module).__name__}: NaN or inf on another DDP rank ({step_name(module)}): the weights have "
            "diverged; lower the learning rates")


def refuse_non_finite(module, bad: torch.Tensor, message: Callable[[], str]) -> bool:
    """True when no entry of the boolean `bad` is set. Otherwise a TrainingError with `message()` at once, or, in a
    DDP evaluation stage, False: the message is held for `raise_held` and the caller skips the batch."""
    trainer = module._trainer
    if trainer is not None and trainer.world_size > 1 and not trainer.training:
        if bool(bad.any()) and getattr(module, HELD, None) is None:
            setattr(module, HELD, message())
        return not bool(bad.any())
    if not not_finite_on_any_rank(module, bad):
        return True
    raise TrainingError(message() if bool(bad.any()) else another_rank(module))


def raise_held(module) -> None:
    """At the end of an evaluation epoch, on every rank: the held message when any rank holds one (a collective
    under DDP, once an epoch, which every rank reaches)."""
    held = getattr(module, HELD, None)
    setattr(module, HELD, None)
    if module._trainer is None or module._trainer.world_size == 1:
        return  # nothing is held outside DDP: refuse_non_finite raised at the batch
    if not_finite_on_any_rank(module, torch.tensor(held is not None)):
        raise TrainingError(held or another_rank(module))


def check_finite(module, value: torch.Tensor, what: str, batch_idx: int | None = None) -> bool:
    """`refuse_non_finite` for `value`, with a message naming the model, `what`, the stage and the step."""
    bad = ~torch.isfinite(value.detach())

    def message() -> str:
        values = f"{int(bad.sum())} of {bad.numel()} values of " if bad.numel() > 1 else ""
        return (f"{type(module).__name__}: NaN or inf in {values}{what} ({step_name(module, batch_idx)}): the weights "
                "have diverged; lower the learning rates")

    return refuse_non_finite(module, bad, message)
