"""The bench's view cache: the jets are read once, and only the latest view's arrays stay in memory."""

from __future__ import annotations

import gc
import weakref

import torch

from jetzoo.bench.runs import DataCache
from jetzoo.bench.spec import DataSpec


def test_the_cache_keeps_the_jets_and_only_the_latest_view(top_jets_file):
    data = DataCache(DataSpec("pythia", {"path": str(top_jets_file), "max_jets": 300, "streaming": False}))
    jets = data.first().table  # read once
    hl = data.for_view("hl")
    assert hl.table is jets
    hl_train = hl.datasets["train"].arrays["hl"].clone()
    assert data.for_view("hl") is hl  # the same view again: no rebuild
    bigger = data.for_view("hl", {"batch_size": hl.batch_size * 2})  # another batch size shares the arrays
    assert bigger is not hl and bigger.datasets["train"].arrays["hl"] is hl.datasets["train"].arrays["hl"]

    gone = weakref.ref(hl)
    del hl, bigger
    particles = data.for_view("particles", {"num_particles": 16})
    gc.collect()
    assert gone() is None, "the hl view (and its batch-size copy) must be dropped when another view is made"
    assert particles.table is jets and particles.datasets["train"].arrays["features"].shape[1] == 16
    assert list(data.by_view) == [("particles", '{"num_particles": 16}')]

    again = data.for_view("hl")  # rebuilt from the kept jets: the same arrays as before
    assert torch.equal(again.datasets["train"].arrays["hl"], hl_train)
