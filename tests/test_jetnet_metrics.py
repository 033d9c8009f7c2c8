"""jetzoo's JetNet metrics (jetzoo.metrics.jetnet_metrics) against `jetnet.evaluation` 0.2.5 on the same real
jets, with the same random draws: jetnet's W1 functions draw from a module-level generator, which the tests
replace with a seeded one, so that the comparison is exact and not "within noise"."""

from __future__ import annotations

import numpy as np
import pytest

from jetzoo.metrics import jetnet_metrics as jm

gen_metrics = pytest.importorskip("jetnet.evaluation.gen_metrics", reason="jetnet is in the test extra")


@pytest.fixture(scope="module")
def clouds(top_jets_file):
    """Two halves of the session's real top jets as 30-particle JetNet clouds, and a distorted copy of the second
    half (pT_rel and eta_rel rescaled) so that distances are not at their floor."""
    from helpers import top_datamodule

    dm = top_datamodule(top_jets_file, view="cloud", num_particles=30, batch_size=100_000)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    cloud, mask = batch["cloud"].double().numpy(), batch["mask"].bool().numpy()
    cloud = np.where(mask[..., None], cloud, 0.0)
    half = min(len(cloud) // 2, 400)  # exact parity needs no more; EFPs cost ~1.4 ms a jet
    cloud, mask = cloud[:2 * half], mask[:2 * half]
    distorted = cloud[half:].copy()
    distorted[..., 2] **= 1.1
    distorted[..., 0] *= 1.2
    return (cloud[:half], mask[:half]), (cloud[half:], mask[half:]), (distorted, mask[half:])


@pytest.fixture(scope="module")
def features(clouds):
    """The 36 FPD EFPs of each sample, computed once."""
    return {name: jm.fpd_features(sample) for name, sample in zip(("real", "other", "distorted"), clouds)}


def _jetnet_rng(monkeypatch, seed):
    monkeypatch.setattr(gen_metrics, "rng", np.random.default_rng(seed))


def test_w1m_and_w1p_equal_jetnets(clouds, monkeypatch):
    real, other, _ = clouds
    n = min(len(real[0]), len(other[0]))
    _jetnet_rng(monkeypatch, 5)
    ours = jm.w1m(real, other, np.random.default_rng(5), num_eval_samples=n, num_batches=3)
    theirs = gen_metrics.w1m(real[0], other[0], num_eval_samples=n, num_batches=3)  # a tuple, even without std
    assert ours.value == pytest.approx(theirs[0], rel=1e-9) and ours.error == pytest.approx(theirs[1], rel=1e-6)
    _jetnet_rng(monkeypatch, 6)
    mean, per_feature = jm.w1p(real, other, np.random.default_rng(6), num_eval_samples=n, num_batches=3)
    means, stds = gen_metrics.w1p(real[0], other[0], real[1], other[1], num_eval_samples=n, num_batches=3)
    np.testing.assert_allclose([m.value for m in per_feature], means, rtol=1e-12)
    np.testing.assert_allclose([m.error for m in per_feature], stds, rtol=1e-9)
    assert mean.value == pytest.approx(np.mean(means), rel=1e-12)


def test_w1efp_equals_jetnets(clouds, features, monkeypatch):
    real, _, distorted = clouds
    n = min(len(real[0]), len(distorted[0]))
    _jetnet_rng(monkeypatch, 7)
    mean, per_efp = jm.w1efp(real, distorted, np.random.default_rng(7), num_eval_samples=n, num_batches=2)
    means, stds = gen_metrics.w1efp(real[0], distorted[0], num_eval_samples=n, num_batches=2, efp_jobs=1)
    assert len(per_efp) == 5
    np.testing.assert_allclose([m.value for m in per_efp], means, rtol=1e-9)
    np.testing.assert_allclose([m.error for m in per_efp], stds, rtol=1e-6, atol=1e-300)
    # the same 5 taken from the 36 FPD EFPs (one EFP computation for both metrics)
    _, from_36 = jm.w1efp(real, distorted, np.random.default_rng(7), num_eval_samples=n, num_batches=2,
                          real_efps=features["real"], generated_efps=features["distorted"])
    assert [m.value for m in from_36] == [m.value for m in per_efp]


def test_fpd_and_kpd_equal_jetnets(clouds, features):
    real = clouds[0]
    reference = gen_metrics.get_fpd_kpd_jet_features(real[0], efp_jobs=1)
    assert features["real"].shape[1] == 36
    np.testing.assert_allclose(features["real"], reference, rtol=1e-12)
    n = len(features["real"])
    sizes = dict(min_samples=n // 4, max_samples=n // 2, num_batches=4, num_points=3)
    distances = {}
    for name in ("other", "distorted"):
        distances[name] = ours = jm.fpd(features["real"], features[name], **sizes)
        theirs = gen_metrics.fpd(features["real"], features[name], **sizes)
        assert ours.value == pytest.approx(theirs[0], rel=1e-6, abs=1e-12)
        assert ours.error == pytest.approx(theirs[1], rel=1e-4, abs=1e-12)
        ours = jm.kpd(features["real"], features[name], num_batches=4, batch_size=n // 4)
        theirs = gen_metrics.kpd(features["real"], features[name], num_batches=4, batch_size=n // 4)
        assert ours.value == pytest.approx(theirs[0], rel=1e-7, abs=1e-12)
        assert ours.error == pytest.approx(theirs[1], rel=1e-6, abs=1e-12)
    # the distorted copy is further from the real jets than the real jets' other half
    assert distances["distorted"].value > distances["other"].value


def test_the_validation_fpd_is_fpd_at_the_validation_n_and_tells_a_distorted_sample(clouds, features):
    """The generators' validation curve point (`metrics.generated.validation_fpd`, issue 22 §5): FPD of the EFPs at
    N = the smaller sample, as `fpd_at` (jetnet's extrapolation from 0.4 N to N); None below MIN_JETS."""
    import torch

    from jetzoo.metrics.generated import validation_fpd

    n = 150  # a validation sample's size; EFPs cost ~1.4 ms a jet
    torch_sample = [(torch.from_numpy(c[:n]), torch.from_numpy(m[:n])) for c, m in clouds]
    expected = jm.fpd_at(features["real"][:n], features["other"][:n], n).value  # EFPs are per jet: the first n rows
    assert validation_fpd(torch_sample[0], torch_sample[1]) == expected
    assert validation_fpd(torch_sample[0], torch_sample[2]) > validation_fpd(torch_sample[0], torch_sample[1])
    few = [(c[:99], m[:99]) for c, m in torch_sample[:2]]
    assert validation_fpd(*few) is None
