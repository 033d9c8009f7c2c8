"""bf16 on the CPU as a first-class precision (issue 21): every registered model fits, validates and tests with
`--trainer.precision bf16-mixed` through the real command line, on real jets of varying multiplicity; the
precisions a CPU cannot use, and non-finite logits from any precision, are one-line errors."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import jetzoo_in_process, printed_metrics
from jetzoo.registry import model_entries
from jetzoo.testing.model_contract import declares
from jetzoo.training.precision import cpu_bf16

NO_BF16 = pytest.mark.skipif(not cpu_bf16(), reason="this CPU has no native bfloat16 (avx512_bf16, amx_bf16 or "
                                                     "ARM bf16): jetzoo refuses bf16 on it, so there is nothing to test")
SMALL = ["--data.max_jets", "160", "--data.batch_size", "32", "--data.num_particles", "24",
         "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "2",
         "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
         "--trainer.logger", "false"]


@NO_BF16
@pytest.mark.parametrize("name", [n for n in sorted(model_entries()) if not declares(n, "cpu_variant")])  # as the contract
def test_every_model_fits_validates_and_tests_in_bf16(name, top_jets_file, tmp_path, capfd, monkeypatch):
    from jetzoo.registry import get_model

    # a generator's test halves its test jets into a real and a reference sample of >= 100 each
    import inspect

    cls = get_model(name)
    more = ["--data.max_jets", "1200"] if cls.task == "generation" else []
    if "ode_steps" in inspect.signature(cls).parameters:  # an ODE sampler: a few steps test the same code
        more += ["--model.ode_steps", "4"]
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", name, "--data.path", top_jets_file,
                                       "--trainer.precision", "bf16-mixed", *SMALL, *more, cwd=tmp_path)
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    metrics = printed_metrics(out)
    for key, value in metrics.items():  # a tagger's test metrics (a generator or anomaly model prints its own)
        estimate = value.removeprefix("> ").split()[0]
        assert math.isfinite(float(estimate)), f"{name}: {key} {value}"


def test_bf16_on_a_cpu_without_it_is_one_line(tmp_path, capfd, monkeypatch):
    from jetzoo.training import precision

    monkeypatch.setattr(precision, "cpu_bf16", lambda: False)
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "mlp", "--trainer.precision", "bf16-mixed",
                                       "--data.path", tmp_path / "never-read.h5", cwd=tmp_path)
    assert code == 2
    assert err.strip().count("\n") == 0 and "no native bfloat16" in err and "--trainer.precision 32" in err, err


def test_non_finite_logits_at_test_are_one_line(top_jets_file, tmp_path, capfd, monkeypatch):
    """A checkpoint whose weights diverged (here: one weight set to NaN after a real fit) gives one line that
    names the model, the step and the count of jets, and exit 1."""
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "mlp", "--data.path", top_jets_file,
                                       *SMALL, "--trainer.default_root_dir", tmp_path, cwd=tmp_path)
    assert code == 0, err[-3000:]
    checkpoint = next(tmp_path.rglob("*.ckpt"))
    state = torch.load(checkpoint, weights_only=True)
    weight = next(k for k in state["state_dict"] if k.endswith("weight"))
    state["state_dict"][weight][0] = float("nan")
    poisoned = tmp_path / "diverged.ckpt"
    torch.save(state, poisoned)
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "test", "--model", "mlp", "--data.path", top_jets_file,
                                       *SMALL, "--ckpt_path", poisoned, cwd=tmp_path)
    assert code == 1, err[-3000:]
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert "MLP: " in err and "jets have non-finite logits in test batch 0" in err, err
