"""The generated-jet metrics on cases with known answers: synthetic clouds, and τ_N of real jets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jetzoo.metrics.generated import MIN_JETS, evaluate_generated
from jetzoo.metrics.generative import jet_mass, jet_observables, nsubjettiness
from jetzoo.metrics.two_sample import cloud_two_sample_auc
from jetzoo.metrics.jetnet_metrics import frechet


def frechet_distance(x, y):
    return frechet(x.mean(0), np.atleast_2d(np.cov(x, rowvar=False)), y.mean(0), np.atleast_2d(np.cov(y, rowvar=False)))


def synthetic_clouds(n: int, prongs: int = 1, seed: int = 0, size: int = 30):
    """Jets of `prongs` Gaussian blobs (centres spread by 0.3, width 0.05), exponential pT fractions."""
    rng = np.random.default_rng(seed)
    cloud, mask = np.zeros((n, size, 3)), np.zeros((n, size), bool)
    for k in range(n):
        m = rng.integers(10, size + 1)
        centres = rng.normal(0.0, 0.3 if prongs > 1 else 0.0, (prongs, 2))
        pos = centres[rng.integers(0, prongs, m)] + rng.normal(0.0, 0.05, (m, 2))
        pt = np.sort(rng.exponential(1.0, m))[::-1]
        cloud[k, :m, :2], cloud[k, :m, 2], mask[k, :m] = pos, 0.95 * pt / pt.sum(), True
    return cloud, mask


def test_jet_mass_of_two_particles():
    # m^2 = 2 pT1 pT2 (cosh Δη - cos Δφ) for massless particles
    cloud = np.array([[[0.2, 0.0, 0.5], [-0.2, 0.1, 0.5]]])
    expected = np.sqrt(2 * 0.25 * (np.cosh(0.4) - np.cos(0.1)))
    assert jet_mass(cloud, np.ones((1, 2), bool)) == pytest.approx([expected], rel=1e-6)


def test_nsubjettiness_known_cases():
    cloud = np.zeros((3, 3, 3))
    mask = np.zeros((3, 3), bool)
    cloud[0, 0] = [0.1, 0.1, 1.0]  # one particle: every tau is 0
    mask[0, 0] = True
    cloud[1, :2] = [[0.2, 0.0, 0.5], [-0.2, 0.0, 0.5]]  # two equal particles 0.4 apart: axis in the middle
    mask[1, :2] = True
    cloud[2] = [[0.3, 0.0, 0.4], [-0.3, 0.0, 0.3], [0.0, 0.3, 0.3]]  # three particles: tau3 = 0
    mask[2] = True
    tau = nsubjettiness(cloud, mask, jet_radius=0.8)
    assert tau[0] == pytest.approx([0, 0, 0], abs=1e-9)
    assert tau[1] == pytest.approx([0.2 / 0.8, 0, 0], abs=1e-9)
    assert tau[2, 2] == pytest.approx(0, abs=1e-9) and tau[2, 0] > tau[2, 1] > 0


def test_three_prong_jets_have_lower_tau32_than_one_prong_jets():
    one = jet_observables(*synthetic_clouds(300, 1, seed=1))
    three = jet_observables(*synthetic_clouds(300, 3, seed=2))
    assert three[:, 0].mean() > 3 * one[:, 0].mean()  # mass
    assert np.median(three[:, 1]) < np.median(one[:, 1])  # tau21


KEYS = ("w1m", "w1p", "w1efp", "fpd", "kpd", "w1tau21", "w1tau32", "c2st_auc")


def test_identical_samples_sit_at_the_floor():
    """The W1s resample jets with replacement (the JetNet protocol), so a sample against itself is not 0 but,
    like two independent real samples, at the floor."""
    sample = synthetic_clouds(400, 1, seed=3)
    out = evaluate_generated(sample, sample, synthetic_clouds(400, 1, seed=4), c2st_epochs=5)
    assert out["n_jets"] == 400
    assert all(f"{k}_floor" in out and f"{k}_err" in out for k in KEYS[:5])
    for key in ("w1m", "w1p", "w1efp"):
        assert out[key] < 3 * out[f"{key}_floor"] + 3 * out[f"{key}_err"], key
    assert out["fpd"] == pytest.approx(0, abs=max(3 * out["fpd_err"], 1e-3))
    assert out["w1tau21"] == 0 and out["w1tau32"] == 0  # no resampling in these two


def test_eta_shift_shows_up_in_w1p_eta_only():
    cloud, mask = synthetic_clouds(500, 3, seed=5)
    shifted = cloud.copy()
    shifted[..., 0] += 0.1 * mask
    out = evaluate_generated((cloud, mask), (shifted, mask), (cloud, mask), c2st_epochs=5)
    assert out["w1p_eta"] == pytest.approx(0.1, abs=0.01)
    for key in ("w1p_phi", "w1p_pt"):  # resampling noise only: at the floor
        assert out[key] < 3 * out[f"{key}_floor"] + 3 * out[f"{key}_err"] + 1e-3, key
    # a common Δη shift is a longitudinal boost of massless particles: the mass and the EFPs do not change
    assert out["w1m"] < 3 * out["w1m_floor"] + 3 * out["w1m_err"]


def test_fewer_jets_than_the_metrics_need_is_one_line():
    with pytest.raises(ValueError, match=f"at least {MIN_JETS} jets") as err:
        evaluate_generated(*(synthetic_clouds(n, 1, seed=n) for n in (300, 40, 300)))
    assert "\n" not in str(err.value) and "generated 40" in str(err.value)


def test_accepts_torch_tensors():
    cloud, mask = synthetic_clouds(50, 1, seed=6)
    as_t = (torch.tensor(cloud, dtype=torch.float32), torch.tensor(mask))
    assert jet_observables(*as_t).shape == (50, 6)


def test_frechet_distance_of_gaussians_is_the_squared_mean_difference():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40000, 3))
    y = rng.normal(size=(40000, 3)) + np.array([1.0, 2.0, 0.0])
    assert frechet_distance(x, y) == pytest.approx(5.0, abs=0.05)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_with_different_widths():
    # 1-D: FD = (μ1 - μ2)² + (σ1 - σ2)²
    rng = np.random.default_rng(8)
    x, y = rng.normal(0, 1, (50000, 1)), rng.normal(0.5, 2, (50000, 1))
    assert frechet_distance(x, y) == pytest.approx(0.25 + 1.0, abs=0.05)


def test_the_cloud_two_sample_test_is_permutation_invariant_and_separates_what_differs():
    real, same = synthetic_clouds(600, 3, seed=20), synthetic_clouds(600, 3, seed=21)
    other = synthetic_clouds(600, 1, seed=22)
    assert abs(cloud_two_sample_auc(real, same) - 0.5) < 0.1
    assert cloud_two_sample_auc(real, other) > 0.9
    order = np.random.default_rng(0).permutation(real[0].shape[1])  # every jet's particle slots shuffled
    shuffled = (real[0][:, order], real[1][:, order])
    assert cloud_two_sample_auc(shuffled, other) == pytest.approx(cloud_two_sample_auc(real, other), abs=1e-3)


def test_generated_one_prong_vs_real_three_prong_is_far_from_the_floor():
    real, reference = synthetic_clouds(300, 3, seed=10), synthetic_clouds(300, 3, seed=11)
    out = evaluate_generated(real, synthetic_clouds(300, 1, seed=12), reference, c2st_epochs=10)
    for key in ("w1m", "w1p", "w1efp", "fpd", "w1tau21"):
        assert out[key] > 5 * out[f"{key}_floor"], key
    assert out["c2st_auc"] > 0.9 and abs(out["c2st_auc_floor"] - 0.5) < 0.15


def _exclusive_kt_taus(p4: np.ndarray, jet_radius: float) -> np.ndarray:
    """Independent oracle for one jet's τ1..τ3: exclusive kT (d_ij = min(pT²) ΔR², E-scheme merging) down to
    N subjets, then Σ pT_i min_k ΔR_ik / (Σ pT_i R0), ΔR in rapidity-azimuth."""
    from jetzoo.physics import kinematics as kin

    def coords(v):
        return kin.pt(v), kin.rapidity(v), kin.phi(v)

    pt, y, phi = coords(p4)
    subjets, tau = list(p4), np.zeros(3)
    for n in range(len(subjets), 0, -1):  # one merge per step, n subjets left
        if n <= 3:
            _, ay, aphi = coords(np.array(subjets))
            dr = np.hypot(y[:, None] - ay, kin.delta_phi(phi[:, None], aphi)).min(1)
            tau[n - 1] = (pt * dr).sum() / (pt.sum() * jet_radius)
        if n == 1:
            break
        spt, sy, sphi = coords(np.array(subjets))
        d = np.minimum.outer(spt**2, spt**2) * ((sy[:, None] - sy) ** 2 + kin.delta_phi(sphi[:, None], sphi) ** 2)
        np.fill_diagonal(d, np.inf)
        i, j = sorted(np.unravel_index(np.argmin(d), d.shape))
        subjets[i] = subjets[i] + subjets.pop(j)
    return tau


def test_nsubjettiness_of_real_jets_is_exclusive_kt_with_e_scheme(top_datamodules):
    from jetzoo.metrics.generative import relative_p4
    from jetzoo.physics.features import HL_FEATURE_NAMES, high_level_features

    batch = next(iter(top_datamodules("cloud").train_dataloader()))
    cloud, mask = batch["cloud"].double().numpy(), batch["mask"].numpy().astype(bool)
    tau = nsubjettiness(cloud, mask, jet_radius=0.8)
    p4 = relative_p4(cloud, mask)
    oracle = np.array([_exclusive_kt_taus(j[m], 0.8) for j, m in zip(p4, mask)])
    assert tau.shape == (len(cloud), 3) and (tau[:, 0] > 0).all()
    assert np.abs(tau - oracle).max() < 1e-9
    # the same definition as the dataset features with exclusive-kT axes (stored as float32)
    hl = high_level_features(p4, mask, 0.8, tau_axes="exclusive-kt")
    taus = slice(HL_FEATURE_NAMES.index("j_tau1_b1"), HL_FEATURE_NAMES.index("j_tau3_b1") + 1)
    assert np.allclose(hl[:, taus], tau, rtol=1e-6, atol=1e-7)
