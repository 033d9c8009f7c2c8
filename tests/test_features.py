"""High-level and particle features against cases computed by hand."""

import awkward as ak
import fastjet
import numpy as np
import pytest

from jetzoo.physics.features import (
    HL_FEATURE_NAMES,
    HLS4ML_PARTICLE_FEATURE_NAMES,
    TAU_AXES,
    high_level_features,
    hls4ml_particle_features,
    nsubjettiness,
    soft_drop_mass,
)

R = 0.8


def massless(pt, eta, phi):
    pt, eta, phi = map(np.asarray, (pt, eta, phi))
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], axis=-1)


def padded(*jets, p=5):
    p4 = np.zeros((len(jets), p, 4))
    mask = np.zeros((len(jets), p), dtype=bool)
    for i, j in enumerate(jets):
        p4[i, : len(j)] = j
        mask[i, : len(j)] = True
    return p4, mask


def feature(hl, name):
    return hl[:, HL_FEATURE_NAMES.index(name)]


# Three massless particles: pT 100 at (0, 0), 50 at (eta 0.3, phi 0), 30 at (eta 0, phi 0.4).
# Pairwise dR: 0.3 (1-2), 0.4 (1-3), 0.5 (2-3).
THREE = massless([100.0, 50.0, 30.0], [0.0, 0.3, 0.0], [0.0, 0.0, 0.4])


def pair_mass2(pt1, pt2, deta, dphi):
    return 2 * pt1 * pt2 * (np.cosh(deta) - np.cos(dphi))


@pytest.fixture(scope="module")
def three_hl():
    p4, mask = padded(THREE)
    return high_level_features(p4, mask, R)


def test_feature_names_are_the_documented_set():
    assert HL_FEATURE_NAMES == [
        "j_pt", "j_eta", "j_mass", "j_mass_sd", "j_tau1_b1", "j_tau2_b1", "j_tau3_b1",
        "j_tau21_b1", "j_tau32_b1", "j_c2_b1", "j_d2_b1", "j_multiplicity",
    ]  # fmt: skip
    assert len(HLS4ML_PARTICLE_FEATURE_NAMES) == 16


def test_kinematics(three_hl):
    jet = THREE.sum(0)
    assert feature(three_hl, "j_pt")[0] == pytest.approx(np.hypot(jet[0], jet[1]), rel=1e-5)
    assert feature(three_hl, "j_eta")[0] == pytest.approx(np.arcsinh(jet[2] / np.hypot(jet[0], jet[1])), abs=1e-5)
    m2 = pair_mass2(100, 50, 0.3, 0) + pair_mass2(100, 30, 0, 0.4) + pair_mass2(50, 30, 0.3, 0.4)
    assert feature(three_hl, "j_mass")[0] == pytest.approx(np.sqrt(m2), rel=1e-5)
    assert feature(three_hl, "j_multiplicity")[0] == 3


def test_soft_drop_keeps_a_hard_enough_split(three_hl):
    # C/A merges 1+2 (dR 0.3) first; the last split is (1+2) vs 3 with z = 30 / 180 > 0.1: nothing groomed.
    assert feature(three_hl, "j_mass_sd")[0] == pytest.approx(feature(three_hl, "j_mass")[0], rel=1e-5)


def test_soft_drop_removes_a_soft_branch():
    # The third particle at pT 10 has z = 10 / 160 < 0.1 and is dropped; then 1 vs 2 has z = 1/3: stop.
    jet = massless([100.0, 50.0, 10.0], [0.0, 0.3, 0.0], [0.0, 0.0, 0.4])
    p4, mask = padded(jet)
    hl = high_level_features(p4, mask, R)
    assert feature(hl, "j_mass_sd")[0] == pytest.approx(np.sqrt(pair_mass2(100, 50, 0.3, 0)), rel=1e-5)
    assert feature(hl, "j_mass_sd")[0] < feature(hl, "j_mass")[0]


def test_n_subjettiness(three_hl):
    # Normalised: tau_N = sum_i pT_i min_k dR_ik / (sum_i pT_i * R). Winner-take-all axes:
    # N = 1 -> the hardest particle; N = 2 -> kT merges 1+3 first (pT^2 dR^2 = 144 < 225), axes at 1 and 2.
    norm = 180.0 * R
    tau1, tau2 = (50 * 0.3 + 30 * 0.4) / norm, (30 * 0.4) / norm
    assert feature(three_hl, "j_tau1_b1")[0] == pytest.approx(tau1, rel=1e-5)
    assert feature(three_hl, "j_tau2_b1")[0] == pytest.approx(tau2, rel=1e-5)
    assert feature(three_hl, "j_tau3_b1")[0] == pytest.approx(0.0, abs=1e-7)
    assert feature(three_hl, "j_tau21_b1")[0] == pytest.approx(tau2 / tau1, rel=1e-5)
    assert feature(three_hl, "j_tau32_b1")[0] == pytest.approx(0.0, abs=1e-6)


def test_energy_correlation_ratios(three_hl):
    ecf1 = 180.0
    ecf2 = 100 * 50 * 0.3 + 100 * 30 * 0.4 + 50 * 30 * 0.5
    ecf3 = 100 * 50 * 30 * (0.3 * 0.4 * 0.5)
    assert feature(three_hl, "j_c2_b1")[0] == pytest.approx(ecf3 * ecf1 / ecf2**2, rel=1e-5)
    assert feature(three_hl, "j_d2_b1")[0] == pytest.approx(ecf3 * ecf1**3 / ecf2**3, rel=1e-5)


def test_two_particle_jet_by_hand():
    # pT 60 and 40, dR = 0.5 along phi: tau1 = 40 * 0.5 / (100 R), tau2 = 0, e3 = 0 so C2 = D2 = 0.
    jet = massless([60.0, 40.0], [0.0, 0.0], [0.0, 0.5])
    p4, mask = padded(jet)
    hl = high_level_features(p4, mask, R)
    assert feature(hl, "j_mass")[0] == pytest.approx(np.sqrt(pair_mass2(60, 40, 0, 0.5)), rel=1e-5)
    assert feature(hl, "j_mass_sd")[0] == pytest.approx(feature(hl, "j_mass")[0], rel=1e-5)
    assert feature(hl, "j_tau1_b1")[0] == pytest.approx(40 * 0.5 / (100 * R), rel=1e-5)
    assert feature(hl, "j_tau2_b1")[0] == pytest.approx(0.0, abs=1e-7)
    assert feature(hl, "j_c2_b1")[0] == pytest.approx(0.0, abs=1e-7)


def test_degenerate_jets_give_finite_zeros():
    p4, mask = padded(massless([80.0], [0.1], [0.2]), np.zeros((0, 4)))
    hl = high_level_features(p4, mask, R)
    assert np.isfinite(hl).all()
    assert feature(hl, "j_multiplicity").tolist() == [1, 0]
    assert feature(hl, "j_pt")[0] == pytest.approx(80.0)
    assert feature(hl, "j_mass_sd")[0] == pytest.approx(0.0, abs=1e-3)
    for name in ("j_tau21_b1", "j_tau32_b1", "j_c2_b1", "j_d2_b1"):
        assert feature(hl, name)[0] == 0.0
    assert (hl[1] == 0).all()


def test_padding_position_and_order_do_not_matter(three_hl):
    p4, mask = padded(THREE[::-1], p=7)
    p4 = np.roll(p4, 2, axis=1)
    mask = np.roll(mask, 2, axis=1)
    np.testing.assert_allclose(high_level_features(p4, mask, R), three_hl, rtol=1e-5, atol=1e-6)


def test_soft_drop_matches_fastjet_grooming():
    rng = np.random.default_rng(3)
    sizes = (2, 5, 12, 30, 30)
    jets = [massless(rng.exponential(20, k), rng.normal(0, 0.25, k), rng.normal(0, 0.25, k)) for k in sizes]
    arr = ak.zip({name: ak.Array([j[:, i] for j in jets]) for i, name in enumerate(("px", "py", "pz", "E"))})
    arr = ak.with_name(arr, "Momentum4D")
    cs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(fastjet.cambridge_algorithm, 10.0))
    reference = ak.to_numpy(cs.exclusive_jets_softdrop_grooming(njets=1, beta=0.0, symmetry_cut=0.1, R0=R).msoftdrop)
    np.testing.assert_allclose(soft_drop_mass(arr), reference, rtol=1e-9)


def test_hls4ml_particle_features_by_hand():
    p4, mask = padded(THREE, p=4)
    jet = THREE.sum(0)[None]
    out = hls4ml_particle_features(p4, mask, jet)
    col = {name: out[0, :, i] for i, name in enumerate(HLS4ML_PARTICLE_FEATURE_NAMES)}
    jet_pt = np.hypot(jet[0, 0], jet[0, 1])
    jet_eta, jet_phi = np.arcsinh(jet[0, 2] / jet_pt), np.arctan2(jet[0, 1], jet[0, 0])
    np.testing.assert_allclose(col["j1_pt"][:3], [100, 50, 30], rtol=1e-5)
    np.testing.assert_allclose(col["j1_ptrel"][:3], np.array([100, 50, 30]) / jet_pt, rtol=1e-5)
    np.testing.assert_allclose(col["j1_erel"][:3], THREE[:, 3] / jet[0, 3], rtol=1e-5)
    np.testing.assert_allclose(col["j1_eta"][:3], [0, 0.3, 0], atol=1e-6)
    np.testing.assert_allclose(col["j1_etarel"][:3], np.array([0, 0.3, 0]) - jet_eta, atol=1e-6)
    np.testing.assert_allclose(col["j1_phirel"][:3], np.array([0, 0, 0.4]) - jet_phi, atol=1e-6)
    np.testing.assert_allclose(col["j1_deltaR"], np.hypot(col["j1_etarel"], col["j1_phirel"]), atol=1e-6)
    np.testing.assert_allclose(col["j1_deltaR"], np.hypot(col["j1_etarot"], col["j1_phirot"]), atol=1e-6)
    np.testing.assert_allclose(col["j1_costheta"][:3], np.tanh([0, 0.3, 0]), atol=1e-6)
    cos_rel = THREE[:, :3] @ jet[0, :3] / (np.linalg.norm(THREE[:, :3], axis=1) * np.linalg.norm(jet[0, :3]))
    np.testing.assert_allclose(col["j1_costhetarel"][:3], cos_rel, rtol=1e-5)
    assert (out[0, 3] == 0).all()  # padding


def test_rotation_puts_the_principal_axis_along_phi():
    jet_p4 = massless([50.0, 50.0], [-0.2, 0.2], [0.0, 0.0])  # spread only along eta
    p4, mask = padded(jet_p4, p=2)
    out = hls4ml_particle_features(p4, mask, jet_p4.sum(0)[None])
    col = {name: out[0, :, i] for i, name in enumerate(HLS4ML_PARTICLE_FEATURE_NAMES)}
    np.testing.assert_allclose(np.abs(col["j1_phirot"]), 0.2, atol=1e-6)
    np.testing.assert_allclose(col["j1_etarot"], 0.0, atol=1e-6)


def random_jets(seed=5, sizes=(2, 4, 9, 25, 40, 60)):
    rng = np.random.default_rng(seed)
    return [massless(rng.exponential(20, k) + 1, rng.normal(0.5, 0.2, k), rng.normal(1.0, 0.2, k)) for k in sizes]


def exclusive_kt_taus(jet: np.ndarray, radius: float) -> np.ndarray:
    """tau_1..3 from FastJet's own exclusive kT jets (E-scheme) as axes; distances by hand in (y, phi)."""
    arr = ak.zip({name: ak.Array([jet[:, i]]) for i, name in enumerate(("px", "py", "pz", "E"))})
    cs = fastjet.ClusterSequence(ak.with_name(arr, "Momentum4D"), fastjet.JetDefinition(fastjet.kt_algorithm, 1000.0))

    def rap_phi(p):
        return 0.5 * np.log((p[:, 3] + p[:, 2]) / (p[:, 3] - p[:, 2])), np.arctan2(p[:, 1], p[:, 0])

    y, phi = rap_phi(jet)
    pt = np.hypot(jet[:, 0], jet[:, 1])
    taus = []
    for n in (1, 2, 3):
        if n > len(jet):
            taus.append(0.0)
            continue
        ax = cs.exclusive_jets(n_jets=n)[0]
        axes = np.stack([ak.to_numpy(ax[k]) for k in ("px", "py", "pz", "E")], axis=-1)
        ay, aphi = rap_phi(axes)
        dphi = (phi[:, None] - aphi[None, :] + np.pi) % (2 * np.pi) - np.pi
        dr = np.hypot(y[:, None] - ay[None, :], dphi).min(axis=1)
        taus.append((pt * dr).sum() / (pt.sum() * radius))
    return np.array(taus)


def test_exclusive_kt_tau_axes_match_fastjet_exclusive_kt_jets():
    jets = random_jets()
    p4, mask = padded(*jets, p=60)
    hl = high_level_features(p4, mask, R, tau_axes="exclusive-kt")
    ours = hl[:, HL_FEATURE_NAMES.index("j_tau1_b1") : HL_FEATURE_NAMES.index("j_tau3_b1") + 1]
    expected = np.stack([exclusive_kt_taus(j, R) for j in jets])
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6)


def test_nsubjettiness_is_the_tau_of_the_high_level_features():
    jets = random_jets(seed=9)
    p4, mask = padded(*jets, np.zeros((0, 4)), p=60)  # the last jet is empty
    for axes in TAU_AXES:
        tau = nsubjettiness(p4, mask, R, tau_axes=axes)
        hl = high_level_features(p4, mask, R, tau_axes=axes)
        assert tau.dtype == np.float64 and tau.shape == (len(jets) + 1, 3)
        np.testing.assert_allclose(tau, hl[:, HL_FEATURE_NAMES.index("j_tau1_b1") : HL_FEATURE_NAMES.index("j_tau3_b1") + 1], rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(tau[-1], 0.0)
        assert tau[0, 1:].tolist() == [0.0, 0.0]  # two particles: tau_2 = tau_3 = 0
        assert (tau[1:-1, 0] > 0).all()


def test_tau_axes_differ_and_default_is_wta_kt(three_hl):
    jets = random_jets(seed=8, sizes=(20, 30, 40, 50))
    p4, mask = padded(*jets, p=50)
    wta, ekt = (high_level_features(p4, mask, R, tau_axes=a) for a in ("wta-kt", "exclusive-kt"))
    np.testing.assert_array_equal(high_level_features(p4, mask, R), wta)
    tau = slice(HL_FEATURE_NAMES.index("j_tau1_b1"), HL_FEATURE_NAMES.index("j_tau32_b1") + 1)
    others = [i for i in range(len(HL_FEATURE_NAMES)) if not tau.start <= i < tau.stop]
    np.testing.assert_array_equal(wta[:, others], ekt[:, others])  # only tau_N depends on the axes
    assert not np.allclose(wta[:, tau], ekt[:, tau], rtol=1e-3)
    # the three-particle jet by hand: exclusive kT 2-jet axes are (1+3) and 2, not particle 1 and 2
    p4, mask = padded(THREE)
    ekt3 = high_level_features(p4, mask, R, tau_axes="exclusive-kt")
    np.testing.assert_allclose(ekt3[0, tau.start : tau.start + 3], exclusive_kt_taus(THREE, R), rtol=1e-5, atol=1e-7)
    assert feature(ekt3, "j_tau2_b1")[0] > feature(three_hl, "j_tau2_b1")[0]
    with pytest.raises(ValueError, match="unknown tau axes"):
        high_level_features(p4, mask, R, tau_axes="kt")


def test_fastjet_banner_is_silenced():
    import subprocess
    import sys

    code = (
        "import jetzoo.physics.features as f, numpy as np\n"
        "p4 = np.array([[[10.0, 0, 0, 10.0], [5.0, 1.0, 0, 5.1]]]); f.high_level_features(p4, p4[..., 3] > 0, 0.8)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "FastJet release" not in result.stdout + result.stderr
