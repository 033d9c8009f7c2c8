"""jetzoo's own run of the model contract (jetzoo/testing/model_contract.py, the kit plugins run with
`jetzoo check-plugin`) on every registered model, and the checks that concern the built-ins alone."""

from __future__ import annotations

import pytest

from jetzoo import registry
from jetzoo.testing.model_contract import *  # noqa: F401,F403 - the contract's tests, collected here
from jetzoo.testing.model_contract import MODELS, compiled_matches_eager, declares


def test_every_built_in_tagger_is_a_backbone_in_the_tagging_task():
    built_in = [n for n in MODELS if registry.get_model(n).__module__.startswith("jetzoo.")
                and registry.get_model(n).task == "tagging"]
    assert built_in and [n for n in built_in if not declares(n, "backbone_class")] == []


@pytest.mark.skipif("perceptron" not in MODELS, reason="the inductor check runs on the perceptron")
def test_torch_compile_inductor_on_the_perceptron(top_datamodules):
    compiled_matches_eager("perceptron", top_datamodules, "inductor", training=False)


def test_a_renamed_model_still_resolves_under_its_old_name_with_a_warning(capsys):
    assert registry.get_model("transformer") is registry.get_model("part")
    assert registry.resolve_cli_value(registry.MODEL_GROUP, "transformer") == "jetzoo.zoo.transformer.ParticleTransformer"
    assert "'transformer' is now 'part'" in capsys.readouterr().err
    assert "transformer" not in registry.list_models()
    from jetzoo.cli import resolve_short_names

    assert resolve_short_names(["--model.help", "part-lite"]) == ["--model.help=jetzoo.zoo.transformer.ParticleTransformerLite"]
