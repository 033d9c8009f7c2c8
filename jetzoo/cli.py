"""The `jetzoo` command.

    jetzoo fit|validate|test|predict --model NAME --data NAME [--config file.yaml] [--print_config]
    jetzoo models | datasets        tables of what the registry holds
    jetzoo generate --recipe R --n N  Pythia 8 + FastJet jets to HDF5
    jetzoo bench --models a,b --data NAME   a leaderboard table

fit/validate/test/predict are Lightning's CLI (subclass mode); NAME is a registry short name
(built-in or plugin), rewritten to its class path before parsing. Values the data determines
(classes, feature counts, particle count) flow from the datamodule to the model.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from jetzoo.errors import JetDataError
from jetzoo.registry import RegistryError, datamodule_entries, model_entries

LIGHTNING_SUBCOMMANDS = ("fit", "validate", "test", "predict")


def resolve_short_names(argv: list[str]) -> list[str]:
    """`--model mlp` / `--data=pythia` -> the registered class paths; other arguments untouched."""
    groups = {"--model": model_entries, "--data": datamodule_entries}
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        flag, eq, value = arg.partition("=")
        if flag in groups and (eq or i + 1 < len(argv)):
            if not eq:
                i += 1
                value = argv[i]
            entries = groups[flag]()
            if value in entries:
                value = entries[value].target.replace(":", ".")
            elif "." not in value and not value.endswith((".yaml", ".yml", ".json")) and not value.startswith("{"):
                kind = "model" if flag == "--model" else "datamodule"
                raise RegistryError(f"unknown {kind} '{value}'; known: {', '.join(entries)}")
            out.append(f"{flag}={value}")
        else:
            out.append(arg)
        i += 1
    return out


def _import_class(class_path: str):
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _build_lightning_cli_class():
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.cli import LightningCLI

    from jetzoo.logging_setup import make_wandb_offline_without_credentials
    from jetzoo.prediction_writer import JetPredictionWriter
    from jetzoo.training import model_kwargs_from_data

    class JetzooCLI(LightningCLI):
        def add_arguments_to_parser(self, parser):
            parser.add_argument("--test_after_fit", type=bool, default=True, help="test the best checkpoint after fit")
            parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
            parser.set_defaults({"checkpoint.monitor": "val/loss", "checkpoint.mode": "min", "checkpoint.save_last": True})
            parser.add_lightning_class_args(JetPredictionWriter, "prediction_writer")

        def before_instantiate_classes(self):
            make_wandb_offline_without_credentials(self._subcommand_config())

        def _subcommand_config(self):
            return self.config[self.subcommand] if self.subcommand else self.config

        def instantiate_classes(self):
            cfg = self._subcommand_config()
            datamodule = None
            if cfg.get("data") is not None and cfg.get("model") is not None:
                datamodule = _import_class(cfg.data.class_path)(**cfg.data.init_args.as_dict())
                model_cls = _import_class(cfg.model.class_path)
                for key, value in model_kwargs_from_data(model_cls, datamodule.dims).items():
                    cfg.model.init_args[key] = value
            super().instantiate_classes()
            if datamodule is not None:  # reuse the table already read, instead of reading it twice
                self.datamodule._table = datamodule._table

        def after_fit(self):
            if self._subcommand_config().get("test_after_fit"):
                ckpt = "best" if self.trainer.checkpoint_callback and self.trainer.checkpoint_callback.best_model_path else None
                self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=ckpt)

    return JetzooCLI, L


def run_lightning(argv: list[str]) -> None:
    JetzooCLI, L = _build_lightning_cli_class()
    logging.getLogger("lightning.fabric.utilities.seed").setLevel(logging.WARNING)  # no "Seed set to 0" noise
    # through sys.argv rather than `args=`: DDP's launcher re-runs this command line in each process
    sys.argv = [sys.argv[0], *argv]
    JetzooCLI(
        L.LightningModule,
        L.LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        trainer_defaults={"max_epochs": 10},
        seed_everything_default=0,
        auto_configure_optimizers=False,
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else None
    try:
        if command in LIGHTNING_SUBCOMMANDS:
            run_lightning([command] + resolve_short_names(argv[1:]))
            return 0
        if command in ("models", "datasets"):
            from jetzoo.catalog import print_catalog

            return print_catalog(command, argv[1:])
        if command == "generate":
            from jetzoo.generate import add_generate_arguments, run_generate_command

            return _run_argparse("generate", add_generate_arguments, run_generate_command, argv[1:])
        if command == "bench":
            from jetzoo.bench import add_bench_arguments, run_bench_command

            return _run_argparse("bench", add_bench_arguments, run_bench_command, argv[1:])
    except (JetDataError, RegistryError) as err:
        print(f"jetzoo: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jetzoo: interrupted", file=sys.stderr)
        return 130
    print(__doc__.strip(), file=sys.stderr if command else sys.stdout)
    return 0 if command in (None, "-h", "--help") else 2


def _run_argparse(name, add_arguments, run, argv) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog=f"jetzoo {name}")
    add_arguments(parser)
    return int(run(parser.parse_args(argv)) or 0)


if __name__ == "__main__":  # python -m jetzoo.cli
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
