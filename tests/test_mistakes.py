"""Plain command-line mistakes, as a user makes them: each exits 2 with exactly one line and no traceback
(issue 24 §1). Keep the table growing: a new mistake found is a new row.

The table runs through the console script's entry point (`jetzoo.cli.main`) in this process; a sample runs
through the installed `jetzoo` script itself, in a process of its own.
"""

from __future__ import annotations

import pytest

from helpers import jetzoo_in_process, run_jetzoo

DATA = "{data}"  # replaced by the real top jets file
FIT = ["fit", "--model", "mlp", "--data.path", DATA]  # the start of most mistakes: a fit of the MLP on real jets

# (argv, a fragment the one line must hold)
MISTAKES = [
    # the data's options (jetzoo.datamodules.arguments), before a jet is read
    ([*FIT, "--data.batch_size", "0"], "--data.batch_size: must be a positive"),
    ([*FIT, "--data.batch_size", "-5"], "--data.batch_size: must be a positive"),
    ([*FIT, "--data.val_fraction", "1.5"], "--data.val_fraction: must be a fraction"),
    ([*FIT, "--data.val_fraction", "-0.1"], "--data.val_fraction: must be a fraction"),
    ([*FIT, "--data.test_fraction", "1"], "--data.test_fraction: must be a fraction"),
    ([*FIT, "--data.val_fraction", "0.6", "--data.test_fraction", "0.6"],
     "the splits cannot take more than all the jets"),
    ([*FIT, "--data.val_fraction", "0.5", "--data.test_fraction", "0.5"],
     "the train split holds no jets"),
    ([*FIT, "--data.max_jets", "0"], "--data.max_jets: must be a positive"),
    ([*FIT, "--data.max_train_jets", "0"], "--data.max_train_jets: must be"),
    ([*FIT, "--data.num_particles", "0"], "--data.num_particles: must be"),
    ([*FIT, "--data.num_workers", "-1"], "--data.num_workers: must be 0"),
    (["fit", "--model", "cnn", "--data.path", DATA, "--data.image_size", "0"], "--data.image_size: must be"),
    ([*FIT, "--data.memory_budget", "0"], "--data.memory_budget: must be"),
    ([*FIT, "--data.view", "pictures"], "--data.view: unknown view 'pictures'"),
    ([*FIT, "--data.particle_features", "[pt_rel, charge]"], "--data.particle_features: unknown particle feature(s) charge"),
    ([*FIT, "--data.points", "[deta_rot]"], "--data.points: takes two coordinates"),
    (["fit", "--model", "mlp", "--data.path", "/no/such/jets.h5"], "/no/such/jets.h5"),
    ([*FIT, "--data.classes", "[top, Higgs]"], "no class 'Higgs'"),
    # the model and the optimiser (jetzoo.cli.checks)
    ([*FIT, "--model.hidden", "[-3]"], "--model.hidden: every layer width"),
    ([*FIT, "--model.hidden", "[16, 0]"], "--model.hidden: every layer width"),
    ([*FIT, "--model.lr", "0"], "--model.lr: must be a positive number"),
    ([*FIT, "--model.lr", "-0.1"], "--model.lr: must be a positive number"),
    ([*FIT, "--model.weight_decay", "-1"], "--model.weight_decay: must be 0"),
    ([*FIT, "--model.dropout", "1.5"], "--model.dropout: must be a fraction"),
    ([*FIT, "--optimizer", "AdamW", "--optimizer.lr", "-1"],
     "--optimizer.lr: must be a positive number"),
    ([*FIT, "--optimizer", "SGD", "--optimizer.lr", "0"],
     "--optimizer.lr: must be a positive number"),
    (["fit", "--model", "nosuchmodel"], "unknown model 'nosuchmodel'"),
    (["fit", "--model", "mlp", "--data", "nosuchdata"], "unknown datamodule 'nosuchdata'"),
    ([*FIT, "--trainer.no_such_option", "1"], "--trainer.no_such_option"),
    # what jsonargparse nests in a Union error, which all ended in "Expected a <class 'NoneType'>"
    ([*FIT, "--data.batchsize", "128"],
     "--data.batchsize: not an option of PythiaJetDataModule (did you mean --data.batch_size?)"),
    ([*FIT, "--model.hiden", "[8]"], "(did you mean --model.hidden?)"),
    ([*FIT, "--trainer.max_epochs", "two"],
     "--trainer.max_epochs: expected int or null, got two"),
    ([*FIT, "--trainer.max_epochs", "-1"], "--trainer.max_epochs -1: the fit has no end"),  # was an OverflowError
    ([*FIT, "--trainer.max_epochs", "-1", "--model.scheduler", "flat-decay"], "--model.scheduler flat-decay"),
    ([*FIT, "--trainer.max_epochs", "0"], "--trainer.max_epochs 0: the fit would train nothing"),
    ([*FIT, "--data.streaming", "maybe"],
     "--data.streaming: expected bool or 'auto', got maybe"),
    ([*FIT, "--optimizer", "Adamm"], "--optimizer Adamm: not a known class name"),
    ([*FIT, "--lr_scheduler", "StepLr"], "(did you mean StepLR?)"),
    ([*FIT, "--model.dropout", "x"], "--model.dropout: Expected a <class 'float'>"),
    # the machine
    ([*FIT, "--trainer.accelerator", "gpu"], "--trainer.accelerator gpu: no CUDA GPU"),
    ([*FIT, "--trainer.accelerator", "cuda"], "--trainer.accelerator cuda: no CUDA"),
    ([*FIT, "--trainer.accelerator", "tpu"], "--trainer.accelerator tpu"),
    ([*FIT, "--trainer.precision", "16-mixed"], "on a CPU use --trainer.precision bf16"),
    # checkpoints and stages
    (["test", "--model", "mlp", "--data.path", DATA], "test without --ckpt_path"),
    (["validate", "--model", "mlp", "--data.path", DATA], "validate without --ckpt_path"),
    (["predict", "--model", "mlp", "--data.path", DATA], "predict without --ckpt_path"),
    (["test", "--model", "mlp", "--data.path", DATA, "--ckpt_path", "/no/such.ckpt"], "/no/such.ckpt: no such checkpoint"),
    (["test", "--model", "mlp", "--data.path", DATA, "--ckpt_path", "last"], "last: no last.ckpt found"),
    ([*FIT, "--freeze", "body.*"], "--freeze needs --init_from"),
    (["test", "--model", "mlp", "--data.path", DATA, "--ckpt_path", "/no/such.ckpt", "--init_from", "x.ckpt"],
     "/no/such.ckpt"),
    ([*FIT, "--ckpt_path", "ftp://example.invalid/x.ckpt"], "remote checkpoints are refused"),
    # the other commands
    (["generate", "--recipe", "nosuchrecipe", "--n", "10", "--out", "x.h5"], "nosuchrecipe"),
    (["bench", "--config", "nope.yaml"], "nope.yaml: no such spec file"),
    (["bench", "--models", "mlp,perceptron", "--max-epochs", "2"], "the old flags were replaced"),
    (["export", "--model", "mlp", "--ckpt_path", "/no/such.ckpt", "--format", "onnx", "--out", "m.onnx"], "/no/such.ckpt"),
    (["nosuchcommand"], None),
]


def _argv(argv, top_jets_file):
    return [str(top_jets_file) if a == DATA else a for a in argv]


@pytest.mark.parametrize("argv, fragment", MISTAKES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in MISTAKES])
def test_a_mistake_is_one_line_and_exit_2(argv, fragment, top_jets_file, tmp_path, capfd, monkeypatch):
    code, out, err = jetzoo_in_process(capfd, monkeypatch, *_argv(argv, top_jets_file), cwd=tmp_path)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err and "Traceback" not in out
    if fragment is None:  # an unknown command: the usage text on stderr, exit 2
        return
    assert len(lines) == 1, err[-2000:]
    assert lines[0].startswith("jetzoo") and fragment in lines[0], lines[0]


def test_the_table_is_at_least_forty_mistakes():
    assert len(MISTAKES) >= 40


SAMPLE = ("--trainer.accelerator gpu: no CUDA GPU",)  # each start costs ~6 s; a foreign class path is the other (below)


@pytest.mark.parametrize("argv, fragment", [m for m in MISTAKES if m[1] in SAMPLE])
def test_a_sample_through_the_installed_script(argv, fragment, top_jets_file, tmp_path):
    result = run_jetzoo(*_argv(argv, top_jets_file), cwd=tmp_path, timeout=300)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and fragment in lines[0], result.stderr[-2000:]


# a class path outside jetzoo, torch, lightning and the installed plugins, refused before its module is
# imported: `this` prints the Zen of Python at import (docs: jetzoo/cli/class_paths.py)
FOREIGN = {  # case: (config files {name: text}, argv)
    "config model": ({"c.yaml": "model:\n  class_path: this.Nothing\n"}, ["fit", "--config", "c.yaml"]),
    "config callback": ({"c.yaml": "trainer:\n  callbacks:\n  - class_path: this.Nothing\n"},
                        ["fit", "--model", "mlp", "--config", "c.yaml"]),
    "nested config": ({"c.yaml": "model: m.yaml\n", "m.yaml": "class_path: this.Nothing\n"}, ["fit", "--config", "c.yaml"]),
    "callbacks+=": ({}, ["fit", "--model", "mlp", "--trainer.callbacks+=this.Nothing"]),
    "inline JSON": ({}, ["fit", "--model", "mlp", "--trainer.callbacks", '[{"class_path": "this.Nothing"}]']),
    "optimizer": ({}, ["fit", "--model", "mlp", "--optimizer", "this.Nothing"]),
    "logger": ({}, ["fit", "--model", "mlp", "--trainer.logger", "this.Nothing"]),
    "model.class_path": ({}, ["test", "--model.class_path", "this.Nothing"]),
}


@pytest.mark.parametrize("case", FOREIGN)
def test_a_foreign_class_path_is_refused_before_its_module_is_imported(case, tmp_path, capfd, monkeypatch):
    import sys

    files, argv = FOREIGN[case]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.delitem(sys.modules, "this", raising=False)
    code, out, err = jetzoo_in_process(capfd, monkeypatch, *argv, cwd=tmp_path)
    assert code == 2 and "this" not in sys.modules and "Beautiful is better" not in out + err, err
    assert err.count("\n") == 1 and "class_path 'this.Nothing' is not in jetzoo" in err, err


def test_trusted_class_paths_pass_the_check(tmp_path, monkeypatch):
    from jetzoo.cli.class_paths import check_class_paths

    (tmp_path / "ok.yaml").write_text("trainer:\n  callbacks:\n  - class_path: lightning.pytorch.callbacks.EarlyStopping\n"
                                      "    init_args: {monitor: val/loss}\nmodel: jetzoo_example_plugin.highway.HighwayTagger\n")
    monkeypatch.chdir(tmp_path)
    check_class_paths(["--config", "ok.yaml", "--optimizer", "torch.optim.AdamW", "--trainer.logger", "CSVLogger"])
    monkeypatch.setenv("JETZOO_ALLOW_IMPORT", "my_callbacks")
    check_class_paths(["--trainer.callbacks+=my_callbacks.Timer"])


def test_the_installed_script_does_not_import_a_foreign_class_path(tmp_path):
    (tmp_path / "c.yaml").write_text("model:\n  class_path: this.Nothing\n")
    result = run_jetzoo("fit", "--config", "c.yaml", cwd=tmp_path, timeout=300)
    assert result.returncode == 2 and "Beautiful is better" not in result.stdout + result.stderr, result.stdout
    assert result.stderr.count("\n") == 1, result.stderr
