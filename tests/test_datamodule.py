"""The shared datamodule: deterministic splits, train-only standardisation, the views models
consume, jet-image preprocessing, class selection and exactly-once distributed evaluation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from format_writers import make_jets, write_quark_gluon_file
from jetzoo.datamodules.base import JetDataModule
from jetzoo.datamodules.views import jet_images, particle_arrays
from jetzoo.registry import create_datamodule


class TableDataModule(JetDataModule):
    """The base datamodule over an in-memory table (what every reader produces)."""

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self._source_table = table

    def read_table(self):
        return self._source_table


def fake_trainer(module, world_size=1, rank=0):
    return SimpleNamespace(lightning_module=module, world_size=world_size, global_rank=rank)


@pytest.fixture
def table():
    return make_jets(600, 40, ["QCD", "top"], seed=3, min_particles=5)


def test_split_is_deterministic_disjoint_and_complete(table):
    a, b = TableDataModule(table, seed=7).split_indices(), TableDataModule(table, seed=7).split_indices()
    c = TableDataModule(table, seed=8).split_indices()
    for k in a:
        assert np.array_equal(a[k], b[k])
    assert not np.array_equal(a["test"], c["test"])
    joined = np.concatenate(list(a.values()))
    assert len(joined) == len(table) and len(np.unique(joined)) == len(table)
    # each jet's split is a hash of its identity: the sizes are binomial around 20% and 10% of 600
    for split, fraction in (("test", 0.2), ("val", 0.1)):
        assert abs(len(a[split]) - 600 * fraction) < 4 * np.sqrt(600 * fraction * (1 - fraction))


def test_standardisation_is_fitted_on_the_training_split_only(table):
    dm = TableDataModule(table, view="particles", num_particles=40)
    dm.setup("fit")
    train = dm.datasets["train"].arrays
    real = train["features"][train["mask"]]
    assert torch.allclose(real.mean(0), torch.zeros(7), atol=1e-4)
    assert torch.allclose(real.std(0), torch.ones(7), atol=1e-2)
    # the test split is transformed with the training statistics, not its own
    test = dm.datasets["test"].arrays
    assert not torch.allclose(test["features"][test["mask"]].mean(0), torch.zeros(7), atol=1e-4)


def test_padded_particles_are_exactly_zero_in_every_tensor(table):
    dm = TableDataModule(table, view="particles", num_particles=48)  # more slots than the table has
    dm.setup("fit")
    batch = next(iter(dm.test_dataloader()))
    pad = ~batch["mask"]
    assert pad.any()
    for key in ("features", "points", "p4"):
        assert (batch[key][pad] == 0).all(), key
    assert batch["features"].shape[1:] == (48, 7) and batch["points"].shape[-1] == 2


def test_points_are_relative_to_the_jet_axis(table):
    dm = TableDataModule(table, view="particles", num_particles=40)
    dm.setup("fit")
    arrays = dm.datasets["train"].arrays
    pt = torch.hypot(arrays["p4"][..., 0], arrays["p4"][..., 1])
    centroid = (pt[..., None] * arrays["points"]).sum(1) / pt.sum(1, keepdim=True)
    # the pT-weighted centre of the constituents is the jet axis (exactly in phi; in eta up to the
    # difference between the pseudorapidity of the sum and the mean pseudorapidity)
    assert centroid[:, 1].abs().max() < 0.01 and centroid[:, 0].abs().max() < 0.1


def test_view_follows_the_model_and_train_classes_restrict_train_and_val(table):
    module = SimpleNamespace(input_view="hl", train_classes=["QCD"])
    dm = TableDataModule(table)
    dm.trainer = fake_trainer(module)
    dm.setup("fit")
    assert set(dm.datasets["train"].arrays) == {"hl", "label"}
    assert (dm.datasets["train"].arrays["label"] == 0).all() and (dm.datasets["val"].arrays["label"] == 0).all()
    assert set(dm.datasets["test"].arrays["label"].tolist()) == {0, 1}


def test_balance_classes_equalises_the_training_split():
    table = make_jets(500, 20, ["QCD", "top"], seed=4)
    table.labels[:350] = 0
    dm = TableDataModule(table, view="hl", balance_classes=True)
    dm.setup("fit")
    counts = torch.bincount(dm.datasets["train"].arrays["label"])
    assert counts[0] == counts[1]


def test_max_train_jets_keeps_nested_training_subsets_and_the_same_test_set(table):
    """Training-size curves: fewer training jets, the same val and test jets (not `max_jets`, which
    shrinks the test set too)."""
    def setup(n):
        dm = TableDataModule(table, view="hl", seed=7, max_train_jets=n)
        dm.setup("fit")
        return dm

    full, half, small = setup(None), setup(200), setup(50)
    assert (half.split_sizes["train"], small.split_sizes["train"]) == (200, 50) and full.split_sizes["train"] > 400
    for split in ("val", "test"):
        assert half.split_sizes[split] == small.split_sizes[split] == full.split_sizes[split]
        assert torch.equal(full.datasets[split].arrays["label"], small.datasets[split].arrays["label"])
    train = full.split_indices()["train"]
    kept = {n: set(setup(n)._at_most_train_jets(train).tolist()) for n in (50, 200)}
    assert kept[50] < kept[200] < set(train.tolist())  # nested subsets of the train split
    assert kept[50] == set(small._at_most_train_jets(train).tolist())  # fixed by the seed
    with pytest.raises(ValueError, match="--data.max_train_jets: must be a positive number of jets"):
        TableDataModule(table, max_train_jets=0)


def test_cloud_view_is_the_30_hardest_particles_with_pt_fractions(table):
    dm = TableDataModule(table, view="cloud")
    dm.setup("fit")
    cloud, mask = dm.datasets["train"].arrays["cloud"], dm.datasets["train"].arrays["mask"]
    assert cloud.shape[1:] == (30, 3) and mask.shape[1] == 30
    frac = cloud[..., 2]
    # fractions of the vector-sum jet pT: hardest first, and close to 1 in total
    assert (frac >= 0).all() and (frac[:, :-1] >= frac[:, 1:] - 1e-6).all()
    assert 0.8 < frac.sum(1).mean() < 1.1


def test_image_bins_a_particle_at_its_coordinates():
    inputs = torch.tensor([[[0.3, -0.2, 1.0]]])
    image = jet_images(inputs, size=16, extent=0.8, center=False, rotate=False, flip=False)
    # pixel = floor((x + 0.8) / 1.6 * 16): x=0.3 -> 11, y=-0.2 -> 6
    assert image[0, 0, 11, 6] == 1 and image.sum() == 1


def test_image_preprocessing_centres_rotates_and_flips():
    # two particles on a 45-degree line, the harder one at negative coordinates
    inputs = torch.tensor([[[0.1, 0.1, 0.25], [-0.3, -0.3, 0.75]]])
    image = jet_images(inputs, size=33, extent=0.8)[0, 0]
    rows, cols = torch.nonzero(image, as_tuple=True)
    assert len(set(rows.tolist())) == 1  # rotated onto the vertical (constant first coordinate)
    centre = 16
    harder = torch.argmax(image[rows, cols])
    assert cols[harder] >= centre  # flipped: the larger pT is on the positive side
    total = (image.sum() * 1.0).item()
    assert total == pytest.approx(1.0)


def test_rotated_particle_coordinates_match_energyflows_center_rotate_reflect(table):
    """deta_rot/dphi_rot (the jet-image preprocessing on the particle list) against EnergyFlow's own
    center_ptyphims('ptscheme') -> rotate_ptyphims -> reflect_ptyphims, jet by jet."""
    from energyflow.utils import center_ptyphims, reflect_ptyphims, rotate_ptyphims

    p4, mask = table.p4[:200].astype(np.float64), table.mask[:200]
    got = particle_arrays(p4, mask, ["deta_rot", "dphi_rot", "deta", "dphi", "pt_rel"])["features"]
    assert np.abs(got[..., :2] - got[..., 2:4]).max() > 0.05  # the preprocessing moved the particles
    for jet, m in zip(got, mask):
        ptyphi = np.stack([jet[m, 4], jet[m, 2], jet[m, 3]], -1).astype(np.float64)
        ref = reflect_ptyphims(rotate_ptyphims(center_ptyphims(ptyphi, center="ptscheme")))
        np.testing.assert_allclose(jet[m, :2], ref[:, 1:3], atol=2e-6)
        assert (jet[~m, :2] == 0).all()


def test_points_are_the_named_coordinates_and_default_to_the_jet_axis_angles(table):
    p4, mask = table.p4[:50], table.mask[:50]
    default = particle_arrays(p4, mask, ["deta", "dphi", "deta_rot", "dphi_rot"])
    rotated = particle_arrays(p4, mask, ["deta"], points=["deta_rot", "dphi_rot"])
    np.testing.assert_array_equal(default["points"], default["features"][..., :2])
    np.testing.assert_array_equal(rotated["points"], default["features"][..., 2:])
    dm = TableDataModule(table, view="particles", points=["deta_rot", "dphi_rot"])
    dm.setup("fit")
    assert dm.feature_names_record()["points"] == ["deta_rot", "dphi_rot"]
    batch = dm.datasets["train"].arrays
    assert (batch["points"][~batch["mask"]] == 0).all()


def test_distributed_evaluation_counts_every_jet_exactly_once(table):
    seen = 0
    for rank in range(3):
        dm = TableDataModule(table, view="hl", batch_size=16)
        dm.setup("test")
        dm.trainer = fake_trainer(SimpleNamespace(input_view="hl"), world_size=3, rank=rank)
        seen += sum(len(b["label"]) for b in dm.test_dataloader())
    assert seen == dm.split_sizes["test"]


def test_a_reader_backed_datamodule_serves_real_file_contents(tmp_path):
    path = tmp_path / "qg.npz"
    truth = write_quark_gluon_file(path, n=200, seed=5)
    dm = create_datamodule("quark-gluon", path=str(path), view="particles", num_particles=16, batch_size=50)
    assert dm.dims["num_classes"] == 2 and dm.dims["class_names"] == ["g", "q"]
    dm.setup("fit")
    assert sum(dm.split_sizes.values()) == len(truth)
    batch = next(iter(dm.train_dataloader()))
    assert batch["features"].shape == (50, 16, 7) and batch["label"].dtype == torch.int64
