"""The jet-image CNN, the constituent RNN, the PFN/EFN and the interaction network learn: trained
briefly on real Pythia 8 top-vs-QCD jets (the `top_jets_file` fixture), each separates the
classes on the held-out test split (AUC well above 0.5) within about a CPU-minute.
"""

from __future__ import annotations

import pytest

CASES = [
    # registry name, model overrides, epochs
    pytest.param("cnn", {}, 3, id="cnn"),
    pytest.param("rnn", {}, 4, id="rnn-gru"),
    pytest.param("rnn", {"cell": "lstm", "hidden_size": 32}, 4, id="rnn-lstm"),
    pytest.param("pfn", {}, 4, id="pfn"),
    pytest.param("efn", {}, 4, id="efn"),
    pytest.param("interaction-net", {}, 3, id="interaction-net"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs", "epochs"), CASES)
def test_learns_top_tagging(top_jets_file, name, kwargs, epochs):
    from helpers import fit_and_test, model_for, top_datamodule

    dm = top_datamodule(top_jets_file, batch_size=128, num_particles=32)
    model = model_for(name, dm, **kwargs)
    metrics = fit_and_test(model, dm, max_epochs=epochs, limit_val_batches=0)
    assert metrics["test/auc"] > 0.85, metrics
