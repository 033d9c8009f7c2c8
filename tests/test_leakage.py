"""No silent leakage (issue 11 §3): one identity per jet, a split that is a hash of it, and the
overlap check of `test`/`predict` against the checkpoint's training jets, on real generated jets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from format_writers import make_jets, write_top_tagging_file
from helpers import jetzoo_in_process

from jetzoo.datamodules.jet_identity import Source, SplitRule, manifest_hash, training_ids
from jetzoo.datamodules.leakage import overlap_with_training
from jetzoo.datamodules.readers import read_hls4ml
from jetzoo.errors import JetDataError
from jetzoo.generate import generate
from jetzoo.registry import create_datamodule

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


@pytest.fixture(scope="module")
def same_seed_files(tmp_path_factory):
    """Real quark-gluon jets: n = 12 and n = 24 with one seed (they share jets), n = 12 with another."""
    out = tmp_path_factory.mktemp("same-seed")
    small = generate("quark-gluon", 12, seed=5, out=out / "small" / "n12.h5", workers=1, progress=False, announce=False)
    large = generate("quark-gluon", 24, seed=5, out=out / "large" / "n24.h5", workers=2, progress=False, announce=False)
    return small, large


def test_the_same_jet_has_the_same_identity_in_every_file_of_its_seed(same_seed_files):
    small, large = (read_hls4ml(p) for p in same_seed_files)
    assert len(np.unique(small.jet_ids)) == 12 and len(np.unique(large.jet_ids)) == 24
    row_in_large = {int(i): k for k, i in enumerate(large.jet_ids)}
    assert all(int(i) in row_in_large for i in small.jet_ids)  # every n = 12 jet is in the n = 24 file
    rows = [row_in_large[int(i)] for i in small.jet_ids]
    np.testing.assert_array_equal(small.p4, large.p4[rows][:, : small.num_particles])  # and is the same jet
    np.testing.assert_array_equal(small.labels, large.labels[rows])
    (source,) = large.sources
    assert (source.kind, source.key, source.rows) == ("generated", "quark-gluon:v2:seed5", ((0, 24),))


def test_reading_jets_twice_is_an_error_naming_the_files(same_seed_files, tmp_path):
    small, large = same_seed_files
    dm = create_datamodule("pythia", path=[str(small), str(large)])
    with pytest.raises(JetDataError, match=r"n12\.h5.*12 jets appear more than once"):
        dm.table


def test_adding_files_never_moves_a_jet_between_splits(tmp_path):
    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    write_top_tagging_file(one, jets=make_jets(300, 20, ["QCD", "top"], seed=1))
    write_top_tagging_file(two, jets=make_jets(300, 20, ["QCD", "top"], seed=2))
    alone = create_datamodule("top-tagging", path=str(one), seed=3)
    both = create_datamodule("top-tagging", path=str(tmp_path), seed=3)
    split_alone = {int(alone.table.jet_ids[i]): name for name, idx in alone.split_indices().items() for i in idx}
    split_both = {int(both.table.jet_ids[i]): name for name, idx in both.split_indices().items() for i in idx}
    assert len(split_both) == 600 and split_alone == {k: split_both[k] for k in split_alone}
    # a different data seed does move jets: the split is a function of (identity, seed)
    other = create_datamodule("top-tagging", path=str(one), seed=4).split_indices()
    assert not np.array_equal(other["test"], alone.split_indices()["test"])


def test_overlap_is_re_derived_from_the_manifest_and_split_rule(same_seed_files):
    small, large = same_seed_files
    trained = create_datamodule("pythia", path=str(large), seed=0, test_fraction=0.4)
    record = trained.data_provenance()
    assert set(record) == {"manifest", "manifest_sha256", "split"} and len(str(record)) < 1000  # no id lists
    assert record["manifest_sha256"] == manifest_hash([Source.from_json(s) for s in record["manifest"]])
    rule = SplitRule(**record["split"])
    train_ids = training_ids([Source.from_json(s) for s in record["manifest"]], rule)
    # the events the manifest covers, each in its split: every training jet's event, and only training events
    # (conservatively also the covered events that gave no jet; issue 23 §6)
    trained_keys = rule.key_of(trained.table.jet_ids[trained.split_indices()["train"]])
    assert np.isin(trained_keys, train_ids).all() and (rule.split_of(train_ids) == 0).all()
    others = rule.key_of(trained.table.jet_ids[np.r_[trained.split_indices()["val"], trained.split_indices()["test"]]])
    assert not np.isin(others, train_ids).any()

    def overlap(path, **split):
        dm = create_datamodule("pythia", path=str(path), **split)
        return overlap_with_training(dm.table.jet_ids[dm.split_indices()["test"]], record)

    assert overlap(large, seed=0, test_fraction=0.4) == 0  # its own test split: never an overlap
    assert overlap(small, seed=0, test_fraction=0.4) == 0  # shared jets fall in the same split
    assert overlap(small, seed=11, test_fraction=0.9) > 0  # another split rule: training jets are tested


def test_test_on_the_training_jets_is_refused_in_one_line_unless_allowed(mlp_run, top_jets_file, capfd, monkeypatch):
    cwd, last, _ = mlp_run
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["jetzoo"]["data"]["split"] == {"seed": 42, "val_fraction": 0.1, "test_fraction": 0.2,
                                                     "rule": "jetzoo-event-v1"}
    args = ["test", "--model", "mlp", "--ckpt_path", last, "--data.path", top_jets_file, *QUIET]
    code, out, err = jetzoo_in_process(capfd, monkeypatch, *args, "--data.seed", "7", cwd=cwd)
    assert code == 2, out + err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"jetzoo: error: {top_jets_file}: ") and "test jets were in the checkpoint's training data" in line
    assert "--allow_overlap true" in line and "split seed 42" in line and "split seed 7" in line
    code, out, err = jetzoo_in_process(capfd, monkeypatch, *args, "--data.seed", "7", "--allow_overlap", "true", cwd=cwd)
    assert code == 0, err[-2000:]
    assert "warning: --allow_overlap true:" in out and "not independent" in out
