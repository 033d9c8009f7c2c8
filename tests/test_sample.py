"""`jetzoo sample` (issue 22 §3): a trained generator's jets in JetNet's published layout, read back by the
`jetnet` package's own loader (not only by jetzoo's reader, which could share the writer's assumptions), by
jetzoo's `jetnet` datamodule and by the JetNet metrics; provenance; one-line errors that leave files alone."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pytest

from helpers import jetzoo_in_process

TINY = ["--data.max_jets", "300", "--data.batch_size", "64", "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar",
        "false", "--trainer.enable_model_summary", "false", "--trainer.logger", "false"]


@pytest.fixture(scope="module")
def top_generator(top_jets_file, tmp_path_factory):
    """A real (tiny) fit of epic-fm on the session's top jets only: its checkpoint."""
    import _pytest.monkeypatch

    cwd = tmp_path_factory.mktemp("epic-fm-fit")
    patch = _pytest.monkeypatch.MonkeyPatch()

    class Capture:  # jetzoo_in_process reads the captured output through a capfd-like object
        @staticmethod
        def readouterr():
            return "", ""

    try:
        code, _, err = jetzoo_in_process(Capture, patch, "fit", "--model", "epic-fm", "--data.path", top_jets_file,
                                         "--data.classes", "[top]", "--model.ode_steps", "4", "--test_after_fit", "false", *TINY,
                                         "--trainer.default_root_dir", cwd, cwd=cwd)
    finally:
        patch.undo()
    assert code == 0, err
    return next(cwd.rglob("*.ckpt"))


def sample(capfd, monkeypatch, ckpt, out, *extra):
    return jetzoo_in_process(capfd, monkeypatch, "sample", "--model", "epic-fm", "--ckpt_path", ckpt, "--n", "70",
                             "--out", out, *extra)


def test_sampled_file_is_read_by_jetnet_and_jetzoo_alike(top_generator, tmp_path, capfd, monkeypatch):
    """jetnet's `JetNet.getData` reads the file with its own code; only its download step is replaced, which
    asks zenodo for the published file's md5 (no network here, and a sampled file is not the published one)."""
    import jetnet.datasets.jetnet as jetnet_datasets
    from jetnet.datasets import JetNet

    from jetzoo.metrics import jetnet_metrics
    from jetzoo.registry import create_datamodule

    out = tmp_path / "t.hdf5"  # jetnet's loader takes the jet type from the file name
    monkeypatch.setattr(jetnet_datasets, "checkDownloadZenodoDataset",
                        lambda data_dir, dataset_name, record_id, key, download: str(tmp_path / key))
    code, stdout, err = sample(capfd, monkeypatch, top_generator, out, "--seed", "3")
    assert code == 0, err
    assert "wrote 70 jets (top)" in stdout
    particles, jets = JetNet.getData(jet_type="t", data_dir=str(tmp_path), num_particles=30, split="all",
                                     download=False)
    with h5py.File(out) as f:
        order = np.random.default_rng(42).permutation(70)  # getData shuffles even split="all" (seed 42)
        np.testing.assert_array_equal(particles, f["particle_features"][:][order])
        assert f.attrs["checkpoint_sha256"] == hashlib.sha256(top_generator.read_bytes()).hexdigest()
        assert f.attrs["generator"] == "epic-fm" and f.attrs["seed"] == 3
    assert particles.shape == (70, 30, 4) and jets.shape == (70, 5)  # jetnet prepends the type: t = 2
    assert (jets[:, 0] == 2).all()
    mask = particles[..., 3].astype(bool)
    assert (jets[:, -1] == mask.sum(1)).all()
    assert (particles[~mask] == 0).all()  # zero padding, after the real particles
    assert (np.diff(mask.astype(int), axis=1) <= 0).all()
    pt = np.where(mask, particles[..., 2], -1.0)
    assert (np.diff(pt, axis=1) <= 0).all()  # pT-sorted

    dm = create_datamodule("jetnet", path=str(out), view="cloud", batch_size=100, val_fraction=0.0, test_fraction=0.0)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert dm.dims["class_names"] == ["t"] and len(batch["label"]) == 70
    cloud = np.where(mask[..., None], particles[..., :3], 0.0)
    rng = np.random.default_rng(0)
    measured = jetnet_metrics.w1m((cloud, mask), (batch["cloud"].numpy(), batch["mask"].numpy()), rng,
                                  num_eval_samples=70, num_batches=2)
    assert np.isfinite(measured.value)

    again = tmp_path / "again.hdf5"
    assert sample(capfd, monkeypatch, top_generator, again, "--seed", "3")[0] == 0
    with h5py.File(out) as a, h5py.File(again) as b:
        np.testing.assert_array_equal(a["particle_features"][:], b["particle_features"][:])


@pytest.mark.parametrize("args, message", [
    (["--n", "0"], "--n must be a positive number of jets"),
    (["--classes", "W"], "W not among the model's classes"),
    (["--out_suffix", ".txt"], "name it .hdf5 or .h5"),
])
def test_sample_mistakes_are_one_line_and_leave_the_file(top_generator, tmp_path, capfd, monkeypatch, args, message):
    out = tmp_path / "t.hdf5"
    out.write_bytes(b"earlier results")
    if args[0] == "--out_suffix":
        out, args = tmp_path / "t.txt", []
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "sample", "--model", "epic-fm", "--ckpt_path", top_generator,
                                     "--n", "5", "--out", out, *args)
    assert code == 2 and err.strip().count("\n") == 0 and message in err, err
    if out.suffix == ".hdf5":
        assert out.read_bytes() == b"earlier results"


def test_a_tagger_checkpoint_is_refused_in_one_line(tmp_path, capfd, monkeypatch):
    from helpers import REPO

    ckpt = REPO / "tests" / "fixtures" / "mlp-jetzoo-0.1.0-top-landscape.ckpt"  # a real jetzoo 0.1.0 tagger
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "sample", "--model", "mlp", "--ckpt_path", ckpt, "--n", "5",
                                     "--out", tmp_path / "g.hdf5")
    assert code == 2 and err.strip().count("\n") == 0 and "jetzoo sample needs a generator" in err, err
    assert not (tmp_path / "g.hdf5").exists()
