"""Helpers for tests: build a model for a datamodule, train briefly, return held-out metrics."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from jetzoo.registry import create_datamodule, get_model
from jetzoo.training import fit_and_test, model_kwargs_from_data  # noqa: F401 - re-exported for tests

REPO = Path(__file__).resolve().parents[1]


def model_for(name: str, datamodule, **kwargs):
    """The registry model `name`, sized by the datamodule's dims, with the datamodule set to its view."""
    cls = get_model(name)
    model = cls(**model_kwargs_from_data(cls, datamodule.dims, **kwargs))
    datamodule.view = cls.input_view
    return model


def top_datamodule(path, **kwargs):
    return create_datamodule("pythia", path=str(path), **{"batch_size": 128, "num_particles": 32, **kwargs})


# what a launched DDP rank or a jetzoo run reads from its environment: never inherited from the test process (an
# in-process run elsewhere in the same worker may have left one), only passed on purpose through `env`
RUN_ENV = ("LOCAL_RANK", "NODE_RANK", "GLOBAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "JETZOO_RUN_DIR")


def run_jetzoo(*args, cwd=None, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run the installed `jetzoo` console script in a subprocess, as a user would. A run past `timeout` fails the
    test with the tail of what it printed (a hung DDP rank says where it waits)."""
    inherited = {k: v for k, v in os.environ.items() if k not in RUN_ENV}
    full_env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
    try:
        return subprocess.run(
            [str(Path(sys.executable).with_name("jetzoo")), *map(str, args)],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:
        def tail(text) -> str:
            return (text.decode(errors="replace") if isinstance(text, bytes) else text or "")[-4000:]

        raise AssertionError(f"jetzoo {' '.join(map(str, args))} did not end within {timeout} s\n"
                             f"stderr (tail):\n{tail(err.stderr)}\nstdout (tail):\n{tail(err.stdout)}") from None


def jetzoo_in_process(capfd, monkeypatch, *args, cwd=None) -> tuple[int, str, str]:
    """`jetzoo ARGS` through the console script's entry point (`jetzoo.cli.main`) in this process.

    The same code path as `run_jetzoo` without a new interpreter's imports (seconds each), for the
    cases that need no real process; environment variables a run sets are put back afterwards.
    """
    from jetzoo.cli import main

    if cwd is not None:
        monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["jetzoo", *map(str, args)])
    for name in ("JETZOO_RUN_DIR", "JETZOO_VERBOSE", "PL_GLOBAL_SEED", "PL_SEED_WORKERS", "WANDB_MODE"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored at teardown
        monkeypatch.delenv(name)
    before = dict(os.environ)
    try:
        code = main([str(a) for a in args])
    except SystemExit as done:
        code = done.code or 0
    finally:
        # every variable the run set goes: Lightning's DDP sets LOCAL_RANK, NODE_RANK and MASTER_PORT even for one
        # device, and a later `run_jetzoo` DDP fit that inherits LOCAL_RANK takes itself for a launched rank, starts
        # no other and waits for it until its timeout (a CI run hung so, after the find_unused_parameters test)
        for name in set(os.environ) - set(before):
            del os.environ[name]
        os.environ.update(before)
    out, err = capfd.readouterr()
    return code, out, err


def printed_metrics(stdout: str) -> dict[str, str]:
    """jetzoo's printed test summary (jetzoo.metrics.summary) as {"test/auc": "0.9767  [0.9747, 0.9787]", ...}."""
    return dict(re.findall(r"^ +(test/\w+) +(.+?)\s*$", stdout, re.M))


def printed_value(stdout: str, name: str) -> float:
    """One metric's printed estimate (a "> X" limit gives X)."""
    return float(printed_metrics(stdout)[name].removeprefix("> ").split()[0])
