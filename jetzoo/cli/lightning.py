"""`jetzoo fit|validate|test|predict`: Lightning's CLI with jetzoo's data flow and safety rails.

On top of `LightningCLI` (subclass mode) this adds, each in one place:
- `pythia` as the default `--data`; values the data determines flow into the model;
- checkpoints loaded weights-only (remote ones refused unless `--allow_remote_checkpoint`),
  checked to hold the `--model` asked for and shapes that fit the data, saved atomically;
- exact resume (`--ckpt_path last` or a file): random states, sampler order, logger version and
  best-model tracking come back; `last.ckpt` is always the latest epoch;
- `test`/`predict`/`validate` refuse data that holds jets of the checkpoint's training split
  (`--allow_overlap true` goes on and prints the overlap);
- `test`/`predict` log beside the checkpoint's run; `--trainer.logger false` keeps each run in
  its own `lightning_logs/version_<K>/`; `--trainer.enable_checkpointing false` and
  `--trainer.fast_dev_run` write no checkpoint;
- one-line parser errors with a "did you mean", and the registered names in `--help`.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Optional, Union

import lightning as L
from jsonargparse import ArgumentError
from lightning.pytorch.callbacks import ModelCheckpoint, ModelSummary
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

from jetzoo.training import run_dirs
from jetzoo.training.checkpoints import (
    CheckpointError,
    check_model_class,
    check_shapes_fit,
    load_checkpoint_file,
    local_checkpoint_path,
)
from jetzoo.cli.checks import check_accelerator, check_fit_length, check_learning, check_trained
from jetzoo.errors import UsageError, one_line_parser_error
from jetzoo.training.output import make_wandb_offline_without_credentials
from jetzoo.training.prediction_writer import JetPredictionWriter
from jetzoo.registry import import_class_path
from jetzoo.training.resume import LatestModelCheckpoint
from jetzoo.training import init_parameters, jetzoo_trainer_extras, model_kwargs_from_data
from jetzoo.training.summary import CountedModelSummary

DEFAULT_DATA = "jetzoo.datamodules.pythia.PythiaJetDataModule"
RUN_DIR_ENV = "JETZOO_RUN_DIR"  # a run directory chosen by the launching process, for its DDP ranks


class JetzooArgumentParser(LightningArgumentParser):
    """Raises instead of printing 70 lines of usage; `main` prints one line."""

    def __init__(self, *args, **kwargs):
        kwargs["exit_on_error"] = False
        super().__init__(*args, **kwargs)


class RunConfigCallback(SaveConfigCallback):
    """`config.yaml` for fit; `config_<stage>.yaml` for test/validate/predict, so fit's config survives."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit":
            if trainer.logger is None:
                return  # no run directory to put it in: never litter the current directory
            self.config_filename = f"config_{getattr(stage, 'value', stage)}.yaml"
        super().setup(trainer, pl_module, stage)


def _registered_names() -> tuple[list[str], list[str]]:
    """(model names, datamodule names), from entry-point metadata only: nothing is imported."""
    from jetzoo.registry import list_datamodules, list_models

    try:
        return list_models(), list_datamodules()
    except Exception:  # noqa: BLE001 - help text must never fail
        return [], []


class JetzooCLI(LightningCLI):
    def __init__(self, *args, **kwargs):
        self._loaded_checkpoint: dict | None = None
        self._asked = sys.argv[1] if len(sys.argv) > 1 else None  # the subcommand, when it comes first
        super().__init__(*args, **kwargs)

    def subcommands(self) -> dict[str, set[str]]:
        """Lightning's subcommands; only the one asked for when the command line starts with it: a run uses
        one parser, and building the other three cost ~0.03 s each (`fit --print_config` in-process, min of
        5: 0.165 -> 0.074 s), which added up over the suite's hundreds of in-process commands."""
        every = LightningCLI.subcommands()
        return {self._asked: every[self._asked]} if self._asked in every else every

    # --- the parser ------------------------------------------------------------------------------
    def add_arguments_to_parser(self, parser):
        parser.add_argument("--test_after_fit", type=bool, default=True, help="test the best checkpoint after fit")
        parser.add_argument(
            "--allow_remote_checkpoint",
            type=bool,
            default=False,
            help="download a --ckpt_path URL and load it weights-only (refused by default)",
        )
        parser.add_argument(
            "--allow_overlap",
            type=bool,
            default=False,
            help="test/predict/validate even when the data holds jets of the checkpoint's training split "
            "(refused by default; the overlap is then printed)",
        )
        parser.add_argument(
            "--allow_untrained",
            type=bool,
            default=False,
            help="test/validate/predict without --ckpt_path: a freshly initialised model (refused by default)",
        )
        parser.add_argument("--init_from", type=Optional[str], default=None,
                            help="fit: start from this checkpoint's weights (weights-only; not a resume: see "
                            "--ckpt_path); a head of another shape is reset (jetzoo/training/fine_tuning.py)")
        parser.add_argument("--init_include", type=Union[str, list[str]], default=["*"],
                            help="fit --init_from: parameter-name patterns to load (fnmatch, comma-separated or a list, e.g. 'body.*')")
        parser.add_argument("--init_exclude", type=Union[str, list[str]], default=[],
                            help="fit --init_from: parameter-name patterns not to load")
        parser.add_argument("--freeze", type=Union[str, list[str]], default=[],
                            help="fit --init_from: parameter-name patterns to keep as loaded (requires_grad false)")
        parser.add_lightning_class_args(LatestModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.monitor": "val/loss", "checkpoint.mode": "min", "checkpoint.save_last": True})
        parser.add_lightning_class_args(JetPredictionWriter, "prediction_writer")
        parser.set_defaults({"data": {"class_path": DEFAULT_DATA}})
        models, datamodules = _registered_names()
        for action in parser._actions:
            if action.dest == "model" and models:
                action.help = f"{action.help or ''} Registered models: {', '.join(models)}.".strip()
            elif action.dest == "data" and datamodules:
                action.help = f"{action.help or ''} Registered datamodules (default pythia): {', '.join(datamodules)}.".strip()

    def parse_arguments(self, parser, args) -> None:
        try:
            super().parse_arguments(parser, args)
        except ArgumentError as err:
            options = sorted(
                {opt for p in [parser, *getattr(self, "_subcommand_parsers", {}).values()] for opt in p._option_string_actions}
            )
            raise UsageError(one_line_parser_error(str(err), options, _class_options, _class_names_for)) from err

    def _subcommand_config(self):
        return self.config[self.subcommand] if self.subcommand else self.config

    # --- checkpoints: refused, checked, and the run they belong to -------------------------------------
    def _parse_ckpt_path(self) -> None:
        """Lightning's version loads the checkpoint's hyperparameters and silently swaps the model
        class for the checkpoint's; here the checkpoint must hold the model asked for."""
        subcommand = self.config.get("subcommand")
        if not subcommand:
            return
        cfg = self.config[subcommand]
        ckpt_path = cfg.get("ckpt_path")
        if not ckpt_path or ckpt_path in ("best", "hpc", "registry"):
            return
        if ckpt_path == "last":
            found = run_dirs.resolve_last(cfg.trainer, cfg.get("checkpoint", {}).get("dirpath"))
            if found is None:
                if subcommand != "fit":
                    raise CheckpointError("last: no last.ckpt found to resume from")
                print("jetzoo: no last.ckpt yet: starting a new run", flush=True)
                cfg["ckpt_path"] = None
                return
            ckpt_path = found
        local = local_checkpoint_path(ckpt_path, allow_remote=cfg.get("allow_remote_checkpoint", False))
        checkpoint = load_checkpoint_file(local)
        check_model_class(checkpoint, str(ckpt_path), cfg.model.class_path)
        cfg["ckpt_path"] = str(local)
        self._loaded_checkpoint = checkpoint
        hparams = dict(checkpoint.get("hyper_parameters", {}))
        hparams.pop("_instantiator", None)
        hparams.pop("_class_path", None)
        data_args = cfg.data.get("init_args") if cfg.get("data") is not None else None
        if hparams.get("class_names") and data_args is not None and "classes" in data_args and not data_args.classes:
            # the model's classes, in its order: a file of one class (QCD only) is tested/predicted as such
            data_args["classes"] = list(hparams["class_names"])
        if hparams:
            # the architecture the checkpoint was trained with; the data's dimensions are set later
            model = {"class_path": cfg.model.class_path, "dict_kwargs": hparams}
            try:
                self.config = self.parser.parse_object({subcommand: {"model": model}}, self.config)
            except (ArgumentError, SystemExit) as err:
                raise CheckpointError(f"{ckpt_path}: its hyperparameters do not fit {cfg.model.class_path}: {err}") from err

    def before_instantiate_classes(self):
        cfg = self._subcommand_config()
        check_trained(self.subcommand, cfg)
        check_learning(cfg)
        check_fit_length(self.subcommand, cfg)
        check_accelerator(cfg.trainer)
        self._check_init_from_options(cfg)
        make_wandb_offline_without_credentials(cfg)
        if cfg.get("data") is None:
            cfg["data"] = {"class_path": DEFAULT_DATA, "init_args": {}}
        self._place_run(cfg)

    def _place_run(self, cfg) -> None:
        trainer = cfg.trainer
        run = run_dirs.run_of_checkpoint(cfg.get("ckpt_path"))
        if trainer.get("logger") is False:
            if self.subcommand == "fit" and not trainer.get("fast_dev_run"):
                chosen = os.environ.get(RUN_DIR_ENV)
                if chosen is None:
                    root = run_dirs.default_save_dir(trainer)
                    chosen = str((run or run_dirs.next_run(root)).path)
                    os.environ[RUN_DIR_ENV] = chosen  # DDP ranks re-run this command line: same directory
                trainer["default_root_dir"] = chosen
            return
        if run is not None:
            run_dirs.use_default_logger_explicitly(trainer)
            run_dirs.log_into_run(trainer, run)

    # --- instantiation -------------------------------------------------------------------------------
    def instantiate_classes(self):
        """The datamodule is built once, first; the values it determines (`dims`) are set on the
        model's config before Lightning builds the model, the trainer and the callbacks from it.

        Not `parser.link_arguments`: which of the values a model takes depends on its class (an hl
        model has no `num_particles`), and a link to a parameter the chosen subclass lacks fails."""
        cfg = self._subcommand_config()
        datamodule = import_class_path(cfg.data.class_path)(**cfg.data.init_args.as_dict())
        model_cls = import_class_path(cfg.model.class_path)
        for key, value in model_kwargs_from_data(model_cls, datamodule.dims).items():
            cfg.model.init_args[key] = value
        data_config, cfg["data"] = cfg["data"], datamodule  # built already: Lightning takes it as it is
        try:
            with warnings.catch_warnings():
                # jsonargparse cannot serialise the built datamodule into the model's saved init
                # config; the data's config is restored below and saved in config.yaml as usual
                warnings.filterwarnings("ignore", message=r"\s*Unable to serialize instance")
                super().instantiate_classes()
        finally:
            cfg["data"] = data_config  # config.yaml still records it
        self.datamodule = datamodule

    def after_instantiate_classes(self) -> None:
        self._init_from_checkpoint()
        if self._loaded_checkpoint is not None:
            cfg = self._subcommand_config()
            check_shapes_fit(self._loaded_checkpoint, self.model, cfg.ckpt_path)
            if self.subcommand != "fit" and hasattr(self.datamodule, "evaluate_for_checkpoint"):
                recorded = self._loaded_checkpoint.get("jetzoo", {})
                self.datamodule.evaluate_for_checkpoint(recorded, allow_overlap=bool(cfg.get("allow_overlap")))

    def _check_init_from_options(self, cfg) -> None:
        """Before anything is built (or generated): the fine-tuning options make sense together."""
        if not cfg.get("init_from") and _patterns(cfg.get("freeze")):
            raise UsageError("--freeze needs --init_from CKPT: only loaded weights can be frozen")
        if cfg.get("init_from") and self.subcommand != "fit":
            raise UsageError(f"--init_from is for fit (fine-tuning); {self.subcommand} takes --ckpt_path")

    def _init_from_checkpoint(self) -> None:
        cfg = self._subcommand_config()
        if not cfg.get("init_from"):
            return
        from jetzoo.training.fine_tuning import init_from_checkpoint

        names = self.datamodule.feature_names_record() if hasattr(self.datamodule, "feature_names_record") else None
        local = local_checkpoint_path(cfg.init_from, allow_remote=cfg.get("allow_remote_checkpoint", False))
        patterns = [_patterns(cfg.get(key)) for key in ("init_include", "init_exclude", "freeze")]
        report = init_from_checkpoint(self.model, local, *patterns, feature_names=names)
        print(report.summary(cfg.init_from), flush=True)

    def instantiate_trainer(self, **kwargs):
        trainer_cfg = dict(self._get(self.config_init, "trainer", default={}))
        plugins = trainer_cfg.get("plugins") or []
        plugins = list(plugins) if isinstance(plugins, list) else [plugins]
        extras = jetzoo_trainer_extras()  # the CLI has already fetched an opted-in remote checkpoint
        if not any(hasattr(p, "save_checkpoint") for p in plugins):
            plugins += extras["plugins"]
        callbacks = [*(trainer_cfg.get("callbacks") or []), *extras["callbacks"]]
        if trainer_cfg.get("enable_model_summary") is not False and not any(isinstance(c, ModelSummary) for c in callbacks):
            callbacks.append(CountedModelSummary())  # Lightning's, without its column of zero FLOPs
        trainer = {**trainer_cfg, "plugins": plugins, "callbacks": callbacks, **kwargs}
        extra = [self._get(self.config_init, c) for c in self._parser(self.subcommand).callback_keys]
        if trainer.get("enable_checkpointing") is False or trainer.get("fast_dev_run"):
            extra = [c for c in extra if not isinstance(c, ModelCheckpoint)]
        return self._instantiate_trainer(trainer, extra)

    def after_fit(self):
        if self._subcommand_config().get("test_after_fit") and not self.trainer.fast_dev_run:
            callback = self.trainer.checkpoint_callback
            ckpt = "best" if callback is not None and callback.best_model_path else None
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=ckpt)


def _class_options(class_path: str) -> list[str]:
    """The options of a --model/--data class (its __init__ and the bases it forwards **kwargs to)."""
    try:
        return sorted(init_parameters(import_class_path(class_path)))
    except Exception:  # noqa: BLE001 - only a hint for an error message
        return []


def _class_names_for(key: str) -> list[str]:
    """The class names `--optimizer` / `--lr_scheduler` take (torch's), for a "did you mean"."""
    import inspect

    import torch

    module, base = {"optimizer": (torch.optim, torch.optim.Optimizer),
                    "lr_scheduler": (torch.optim.lr_scheduler, torch.optim.lr_scheduler.LRScheduler)}.get(key, (None, None))
    if module is None:
        return []
    return sorted(n for n, c in vars(module).items() if inspect.isclass(c) and issubclass(c, base) and c is not base)


def _patterns(value) -> list[str]:
    """`--freeze 'body.*,head.0.*'` or a YAML list: the patterns as a list."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def run_lightning(argv: list[str]) -> None:
    # through sys.argv rather than `args=`: DDP's launcher re-runs this command line in each process
    sys.argv = [sys.argv[0], *argv]
    try:
        JetzooCLI(
            L.LightningModule,
            L.LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            parser_class=JetzooArgumentParser,
            save_config_callback=RunConfigCallback,
            save_config_kwargs={"overwrite": True},
            trainer_defaults={"max_epochs": 10},
            seed_everything_default=0,
            auto_configure_optimizers=True,  # --optimizer / --lr_scheduler override the model's AdamW + cosine
        )
    finally:
        end_process_group()


def end_process_group() -> None:
    """A DDP run's process group closed before the interpreter exits: left to the exit, gloo's threads were
    sometimes still running when the process was torn down ("terminate called without an active
    exception" once, issue 24 §4). Lightning's DDP teardown does not destroy the group."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
