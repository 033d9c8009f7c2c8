"""Option values the parser accepts by type but that cannot work, refused in one line before anything is
built, generated or read: the learning rates, the model's widths and dropout, an accelerator this machine
does not have, a fit with no end under a schedule of fixed length, and `test`/`validate`/`predict` of a model
that was never trained.

Before (issue 24): `--optimizer.lr -1`, `--model.hidden '[-3]'` and `--trainer.accelerator gpu` ended in
tracebacks, and `jetzoo test --model mlp` without `--ckpt_path` printed a random model's metrics.
The data's own options are checked by the datamodule (`jetzoo.datamodules.arguments`).
"""

from __future__ import annotations

from jetzoo.errors import OptionError

EVALUATING = ("test", "validate", "predict")


def _init_args(value) -> dict:
    """A class's init_args from the parsed config (a Namespace or a dict), as a plain dict."""
    if value is None or isinstance(value, (str, bool)):
        return {}
    args = value.get("init_args") if hasattr(value, "get") else None
    if args is None:
        return {}
    return args.as_dict() if hasattr(args, "as_dict") else dict(args)


def _positive_number(option: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0):
        raise OptionError(f"{option}: must be a positive number, got {value!r}")


def check_learning(cfg) -> None:
    """The model's and the optimiser's learning rate, weight decay, dropout and layer widths."""
    for prefix, args in (("--model", _init_args(cfg.get("model"))), ("--optimizer", _init_args(cfg.get("optimizer")))):
        _positive_number(f"{prefix}.lr", args.get("lr"))
        decay = args.get("weight_decay")
        if decay is not None and not decay >= 0:
            raise OptionError(f"{prefix}.weight_decay: must be 0 or positive, got {decay!r}")
    model = _init_args(cfg.get("model"))
    dropout = model.get("dropout")
    if isinstance(dropout, (int, float)) and not 0 <= dropout < 1:
        raise OptionError(f"--model.dropout: must be a fraction in [0, 1), got {dropout!r}")
    for name, value in model.items():
        if "hidden" in name and isinstance(value, (list, tuple)):
            bad = [w for w in value if isinstance(w, bool) or not isinstance(w, int) or w < 1]
            if bad:
                raise OptionError(f"--model.{name}: every layer width must be a positive integer, got {list(value)}")


def check_accelerator(trainer) -> None:
    """An accelerator this machine does not have: one line saying what to use instead."""
    import torch

    accelerator = str(trainer.get("accelerator") or "auto").lower()
    precision = str(trainer.get("precision") or "")
    gpu = torch.cuda.is_available()
    if accelerator in ("gpu", "cuda") and not gpu:
        raise OptionError(f"--trainer.accelerator {accelerator}: no CUDA GPU on this machine "
                          "(torch.cuda.is_available() is False); use --trainer.accelerator cpu or auto")
    if accelerator == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise OptionError("--trainer.accelerator mps: no Apple GPU on this machine; use --trainer.accelerator cpu or auto")
    if accelerator == "tpu":
        raise OptionError("--trainer.accelerator tpu: jetzoo does not run on TPUs; use --trainer.accelerator cpu, gpu or auto")
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not gpu)
    if on_cpu and precision.startswith("16"):
        raise OptionError(f"--trainer.precision {precision}: float16 mixed precision needs a GPU; on a CPU use "
                          "--trainer.precision bf16-mixed (or 32)")
    if on_cpu and precision.startswith("bf16"):
        from jetzoo.training.precision import cpu_bf16_problem

        problem = cpu_bf16_problem()
        if problem:
            raise OptionError(f"--trainer.precision {precision}: {problem}; use --trainer.precision 32")


def check_fit_length(subcommand: str, cfg) -> None:
    """A fit of no length (`--trainer.max_epochs 0` or `max_steps 0`), or of no end (`--trainer.max_epochs -1`, no
    `max_steps`) under a schedule spread over the whole fit (the models' default cosine): refused here, in one
    line, not after an untrained model's test or at the first optimizer step."""
    from jetzoo.zoo.optimizers import FIXED_LENGTH_SCHEDULES

    trainer = cfg.get("trainer") or {}
    if subcommand == "fit" and not trainer.get("fast_dev_run"):
        for option in ("max_epochs", "max_steps"):
            if trainer.get(option) == 0:
                raise OptionError(f"--trainer.{option} 0: the fit would train nothing and then test an untrained model; "
                                  "give at least 1 (to evaluate a trained model: jetzoo test --ckpt_path ...)")
    endless = trainer.get("max_epochs") == -1 and trainer.get("max_steps") in (None, -1)
    scheduler = _init_args(cfg.get("model")).get("scheduler")
    if subcommand == "fit" and endless and scheduler in FIXED_LENGTH_SCHEDULES:
        raise OptionError(f"--trainer.max_epochs -1: the fit has no end, but --model.scheduler {scheduler} spreads "
                          "over the whole fit; give --trainer.max_epochs N or --trainer.max_steps N, or a schedule "
                          "of no fixed length (--model.scheduler plateau or none)")


def check_trained(subcommand: str, cfg) -> None:
    """`test`/`validate`/`predict` need the weights of a trained model, unless asked for explicitly."""
    if subcommand in EVALUATING and not cfg.get("ckpt_path") and not cfg.get("allow_untrained"):
        raise OptionError(
            f"{subcommand} without --ckpt_path would {subcommand} a model that was never trained, whose numbers "
            "mean nothing: pass --ckpt_path CKPT (or last), or --allow_untrained true"
        )
