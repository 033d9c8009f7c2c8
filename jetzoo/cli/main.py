"""The `jetzoo` command.

    jetzoo fit|validate|test|predict --model NAME [--data NAME] [--recipe NAME] [--config file.yaml] [--print_config]
    jetzoo models | datasets        tables of what the registry holds
    jetzoo generate --recipe R --n N  Pythia 8 + FastJet jets to HDF5
    jetzoo bench --config SPEC.yaml [--out DIR]   a resumable multi-seed leaderboard
    jetzoo export --model NAME --ckpt_path C --format onnx --out model.onnx   for use outside jetzoo
    jetzoo sample --model NAME --ckpt_path C --n N --out jets.hdf5   a generator's jets, JetNet layout
    jetzoo check-plugin DIST          the contract tests on an installed plugin distribution's entries
    jetzoo --version
    --verbose (anywhere)              library tips and deprecation warnings, hidden by default

fit/validate/test/predict are Lightning's CLI (subclass mode); NAME is a registry short name
(built-in or plugin), rewritten to its class path before parsing. Values the data determines
(classes, feature counts, particle count) flow from the datamodule to the model.
"""

from __future__ import annotations

import sys
from pathlib import Path

from jetzoo.errors import JetDataError, TrainingError, UsageError
from jetzoo.registry import DATAMODULE_GROUP, MODEL_GROUP, RegistryError, resolve_cli_value

LIGHTNING_SUBCOMMANDS = ("fit", "validate", "test", "predict")


def resolve_short_names(argv: list[str]) -> list[str]:
    """`--model mlp` / `--data=pythia` / `--model.help mlp` -> the registered class paths; other
    arguments untouched.

    Loading the entry here turns a broken, clashing or wrong-type plugin into the registry's
    one-line message before the parser sees it.
    """
    groups = {"--model": MODEL_GROUP, "--data": DATAMODULE_GROUP,
              "--model.help": MODEL_GROUP, "--data.help": DATAMODULE_GROUP}  # `--model.help part-lite`
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        flag, eq, value = arg.partition("=")
        if flag in groups and (eq or i + 1 < len(argv)):
            if not eq:
                i += 1
                value = argv[i]
            out.append(f"{flag}={resolve_cli_value(groups[flag], value)}")
        else:
            out.append(arg)
        i += 1
    return out


def give_loggers_a_save_dir(argv: list[str]) -> list[str]:
    """`--trainer.logger CSVLogger` alone: Lightning's loggers that require `save_dir` get the run root.

    The parser rejects a logger whose required `save_dir` is missing before any hook can fill it,
    so it is filled here: `--trainer.default_root_dir` if given, else the current directory.
    """
    values = {}
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        if flag.startswith("--trainer.") and (eq or i + 1 < len(argv)):
            values[flag] = value if eq else argv[i + 1]
    logger = values.get("--trainer.logger", "")
    if not logger or logger.lower() in ("true", "false", "null", "none") or logger.startswith(("{", "[")):
        return argv
    if "--trainer.logger.save_dir" in values or "--trainer.logger.init_args.save_dir" in values:
        return argv
    name = logger.rpartition(".")[2]
    if name not in ("CSVLogger", "TensorBoardLogger"):
        return argv
    root = values.get("--trainer.default_root_dir", ".")
    return [*argv, "--trainer.logger.save_dir", root]


CKPT_PATH_NAMES = ("last", "best", "hpc")  # Lightning's (and jetzoo's run-directory) names, not files


def check_checkpoint_exists(argv: list[str]) -> None:
    """A local `--ckpt_path` that is no file, refused before the seconds of importing Lightning (the same line
    jetzoo.io.checkpoints gives later)."""
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        if flag != "--ckpt_path" or not (eq or i + 1 < len(argv)):
            continue
        value = value if eq else argv[i + 1]
        local = value[len("file://"):] if value.startswith("file://") else value
        if value in CKPT_PATH_NAMES or value.startswith("registry") or "://" in local or not local:
            continue
        if not Path(local).expanduser().is_file():
            raise JetDataError(f"{value}: no such checkpoint file")


def lightning_arguments(argv: list[str]) -> list[str]:
    """fit/validate/test/predict's arguments as the Lightning CLI takes them: short names resolved, `--recipe`
    expanded to its config, every class path checked before the parser can import it, loggers' save_dir."""
    from jetzoo.cli.class_paths import check_class_paths

    arguments = resolve_short_names(argv)
    if any(a.partition("=")[0] == "--recipe" for a in arguments):  # jetzoo.training imports Lightning: seconds
        from jetzoo.training.recipes import expand_recipe_option

        arguments = expand_recipe_option(arguments)
    check_class_paths(arguments)
    return give_loggers_a_save_dir(arguments)


def run_lightning(argv: list[str], verbose: bool = False) -> None:
    from jetzoo.cli.lightning import run_lightning as run
    from jetzoo.training.output import quiet_output

    quiet_output(verbose)
    run(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in argv
    argv = [a for a in argv if a != "--verbose"]
    command = argv[0] if argv else None
    if command in ("--version", "-V", "version"):
        from jetzoo import __version__

        print(f"jetzoo {__version__}")
        return 0
    try:
        if command in LIGHTNING_SUBCOMMANDS:
            check_checkpoint_exists(argv[1:])  # a run-time check, before the model's module (and Lightning) is imported
            run_lightning([command] + lightning_arguments(argv[1:]), verbose)
            return 0
        if command in ("models", "datasets"):
            from jetzoo.cli.catalog import print_catalog

            return print_catalog(command, argv[1:])
        if command == "generate":
            from jetzoo.generate import add_generate_arguments, run_generate_command

            return _run_argparse("generate", add_generate_arguments, run_generate_command, argv[1:])
        if command in ("export", "sample"):
            check_checkpoint_exists(argv[1:])  # before torch is imported
        if command == "export":
            from jetzoo.cli.export_arguments import add_export_arguments

            def run_export(args):
                from jetzoo.export.cli import run_export_command

                return run_export_command(args)

            return _run_argparse("export", add_export_arguments, run_export, argv[1:])
        if command == "sample":
            from jetzoo.cli.sample import add_sample_arguments, run_sample_command

            return _run_argparse("sample", add_sample_arguments, run_sample_command, argv[1:])
        if command == "check-plugin":
            from jetzoo.testing.check import add_check_plugin_arguments, run_check_plugin_command

            return _run_argparse("check-plugin", add_check_plugin_arguments, run_check_plugin_command, argv[1:])
        if command == "bench":
            from jetzoo.bench import main as bench_main

            return bench_main(argv[1:])
    except (JetDataError, RegistryError) as err:
        print(f"jetzoo: error: {err}", file=sys.stderr)
        return 2
    except UsageError as err:
        print(f"jetzoo {command}: error: {err}", file=sys.stderr)
        return 2
    except TrainingError as err:
        print(f"jetzoo {command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("jetzoo: interrupted", file=sys.stderr)
        return 130
    print(__doc__.strip(), file=sys.stderr if command else sys.stdout)
    return 0 if command in (None, "-h", "--help") else 2


def _run_argparse(name, add_arguments, run, argv) -> int:
    import argparse

    class OneLineParser(argparse.ArgumentParser):
        """argparse, its error one line (the `jetzoo NAME: error:` the other commands print), not usage text."""

        def error(self, message):
            raise UsageError(" ".join(message.split()))

    parser = OneLineParser(prog=f"jetzoo {name}")
    add_arguments(parser)
    return int(run(parser.parse_args(argv)) or 0)
