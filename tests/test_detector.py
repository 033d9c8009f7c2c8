"""`--detector`: each piece of the Delphes-like detector against its card's formula, then real Pythia jets.

Synthetic particles go one per event through `simulate` (so towers never mix them), thousands at a
time; counts are compared with binomial errors, widths with the log-normal's exact log-width
sqrt(log(1 + (sigma/mean)^2)) (Delphes' LogNormal), both at 4-5 standard errors.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from jetzoo.generate import default_dataset_path, generate
from jetzoo.generate.api import announcement
from jetzoo.generate.detector import (
    NEUTRAL_HADRON,
    PHOTON,
    TRACK,
    detector_rng,
    get_card,
    make_tracks,
    propagate,
    simulate,
    tower_index,
)
from jetzoo.generate.detector_cards import ATLAS, CARDS, CMS

MASS = {211: 0.13957, 321: 0.49368, 2212: 0.93827, 11: 0.000511, 13: 0.10566, 22: 0.0, 2112: 0.93957, 130: 0.49761}
CHARGE = {211: 1, 321: 1, 2212: 1, 11: -1, 13: -1, 22: 0, 2112: 0, 130: 0}
CARD_LIST = [pytest.param(c, id=c.name) for c in CARDS.values()]


def particles(pid, pt, eta, phi=0.3):
    """Flat (pid, p4, charge) for particles of the given PDG ids, pT, eta, phi (broadcast)."""
    pid, pt, eta, phi = np.broadcast_arrays(np.asarray(pid), np.asarray(pt, float), np.asarray(eta, float), phi)
    mass = np.vectorize(MASS.get)(np.abs(pid))
    p4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), np.hypot(pt * np.cosh(eta), mass)], -1)
    return pid.astype(np.int64), p4, np.sign(pid) * np.vectorize(CHARGE.get)(np.abs(pid)).astype(float)


def run(card, pid, p4, charge, event=None, seed=0):
    event = np.arange(len(pid)) if event is None else np.asarray(event)
    return simulate(card, detector_rng(seed), pid, p4, charge, event)


def per_event(flow, n, kind):
    return np.bincount(flow.event[flow.kind == kind], minlength=n)


def binomial_ok(k, n, p, z=4.5):
    return abs(k - n * p) <= z * np.sqrt(n * p * (1 - p)) + 1e-9


def at_face(card, pid, p4, charge):
    pt = np.hypot(p4[:, 0], p4[:, 1])
    eta, phi, reached = propagate(card, pt, np.arcsinh(p4[:, 2] / pt), np.arctan2(p4[:, 1], p4[:, 0]), p4[:, 2], charge)
    assert reached.all()
    return pt, eta


def test_card_values_transcribed():
    # a few numbers read straight off the cards (module names as in the .tcl files)
    pt, eta = np.array([0.5, 5.0, 0.5, 5.0, 5.0]), np.array([0.3, 0.3, 2.0, 2.0, 2.7])
    for card in (ATLAS, CMS):  # ChargedHadronTrackingEfficiency: 0.70 / 0.95 / 0.60 / 0.85 / 0 beyond 2.5
        np.testing.assert_allclose(card.efficiency["hadron"](pt, eta), [0.70, 0.95, 0.60, 0.85, 0.0])
    np.testing.assert_allclose(ATLAS.resolution["hadron"](np.array([10.0]), np.array([0.2])),
                               np.sqrt(0.06**2 + 100 * 1.3e-3**2))  # fmt: skip
    np.testing.assert_allclose(CMS.resolution["hadron"](np.array([10.0]), np.array([2.0])),
                               np.sqrt(0.025**2 + 100 * 5.5e-4**2))  # fmt: skip
    np.testing.assert_allclose(ATLAS.ecal.resolution(np.array([0.3]), np.array([50.0])),
                               np.sqrt(2500 * 0.0017**2 + 50 * 0.101**2))  # fmt: skip
    np.testing.assert_allclose(CMS.hcal.resolution(np.array([3.5]), np.array([50.0])),
                               np.sqrt(2500 * 0.130**2 + 50 * 2.70**2))  # fmt: skip
    assert (ATLAS.radius, ATLAS.half_length, ATLAS.bz) == (1.15, 3.51, 2.0)
    assert (CMS.radius, CMS.half_length, CMS.bz) == (1.29, 3.00, 3.8)
    for card, hcal_width, hcal_phi in ((ATLAS, 0.1, 36), (CMS, 0.087, 72)):
        k, j, inside = tower_index(card.ecal, np.array([0.3]), np.array([0.3]))
        assert inside.all() and card.ecal.n_phi[k - 1] == 360
        assert card.ecal.eta_edges[k] - card.ecal.eta_edges[k - 1] == pytest.approx(0.0174)
        k, j, inside = tower_index(card.hcal, np.array([0.3]), np.array([0.3]))
        assert card.hcal.eta_edges[k] - card.hcal.eta_edges[k - 1] == pytest.approx(hcal_width)
        assert card.hcal.n_phi[k - 1] == hcal_phi
        assert (card.ecal.energy_min, card.ecal.significance_min) == (0.5, 2.0)
        assert (card.hcal.energy_min, card.hcal.significance_min) == (1.0, 2.0)
    assert get_card("none") is None
    with pytest.raises(ValueError, match="unknown detector 'delphes'; choose one of none, atlas-like, cms-like"):
        get_card("delphes")


@pytest.mark.parametrize("card", CARD_LIST)
def test_tracking_efficiency_follows_the_card(card):
    points = [(211, 0.5, 0.3), (211, 5.0, 0.3), (211, 0.5, 2.0), (211, 5.0, 2.0), (211, 5.0, 2.7),
              (11, 50.0, 0.3), (11, 200.0, 2.0), (13, 5.0, 0.3), (13, 0.5, 2.0), (321, 20.0, -1.0)]  # fmt: skip
    n = 3000
    pid, pt, eta = (np.repeat([p[i] for p in points], n) for i in range(3))
    pid, p4, charge = particles(pid, pt, eta)
    flow = run(card, pid, p4, charge)
    found = per_event(flow, len(pid), TRACK)
    assert found.max() == 1
    face_pt, face_eta = at_face(card, pid, p4, charge)
    kinds = {11: "electron", 13: "muon"}
    for i, (code, _, _) in enumerate(points):
        rows = slice(i * n, (i + 1) * n)
        expected = card.efficiency[kinds.get(code, "hadron")](face_pt[rows], face_eta[rows])
        assert np.ptp(expected) == 0  # one card region per point
        assert binomial_ok(found[rows].sum(), n, expected[0]), (points[i], found[rows].mean(), expected[0])


@pytest.mark.parametrize("card", CARD_LIST)
@pytest.mark.parametrize("code,pt,eta", [(211, 20.0, 0.2), (211, 300.0, 1.0), (211, 2000.0, 0.2), (11, 40.0, 2.0),
                                          (13, 100.0, 0.8)])  # fmt: skip
def test_track_momentum_resolution_follows_the_card(card, code, pt, eta):
    n = 20000
    pid, p4, charge = particles(np.full(n, code), pt, eta)
    p_t, face_eta = at_face(card, pid, p4, charge)
    eta_mom, phi = np.arcsinh(p4[:, 2] / p_t), np.arctan2(p4[:, 1], p4[:, 0])
    mass = np.vectorize(MASS.get)(pid)
    tracks = make_tracks(card, detector_rng(1), pid, p_t, eta_mom, phi, mass, face_eta, phi, np.arange(n), charge)
    kind = {11: "electron", 13: "muon"}.get(code, "hadron")
    res = min(float(card.resolution[kind](np.array([pt]), face_eta[:1])[0]), 1.0)  # MomentumSmearing caps at 1
    ratio = tracks.pt / pt
    width = np.sqrt(np.log1p(res**2))
    assert np.std(np.log(ratio)) == pytest.approx(width, rel=5 / np.sqrt(2 * len(ratio)))
    assert abs(ratio.mean() - 1) < 5 * res / np.sqrt(len(ratio))  # log-normal with mean pT
    np.testing.assert_allclose(tracks.eta, eta_mom[0])  # direction untouched


def tower_centre(cal, eta, phi):
    k, _, inside = tower_index(cal, np.atleast_1d(eta), np.atleast_1d(phi))
    assert inside.all()
    return 0.5 * (cal.eta_edges[k - 1] + cal.eta_edges[k])


@pytest.mark.parametrize("card", CARD_LIST)
@pytest.mark.parametrize("code,energy,eta", [(22, 50.0, 0.3), (22, 200.0, 2.1), (2112, 100.0, 0.5), (130, 30.0, -1.2)])
def test_calorimeter_energy_resolution_follows_the_card(card, code, energy, eta):
    n = 8000
    pid, p4, charge = particles(np.full(n, code), energy / np.cosh(eta), eta)
    flow = run(card, pid, p4, charge, seed=2)
    kind, cal = (PHOTON, card.ecal) if code == 22 else (NEUTRAL_HADRON, card.hcal)
    assert (flow.kind == kind).all() and len(flow.kind) == n  # one neutral object each, far above threshold
    sigma = cal.resolution(tower_centre(cal, eta, 0.3), np.array([energy]))[0]
    ratio = flow.p4[:, 3] / energy
    assert np.std(np.log(ratio)) == pytest.approx(np.sqrt(np.log1p((sigma / energy) ** 2)), rel=5 / np.sqrt(2 * n))
    assert abs(ratio.mean() - 1) < 5 * sigma / energy / np.sqrt(n)
    out_eta = np.arcsinh(flow.p4[:, 2] / np.hypot(flow.p4[:, 0], flow.p4[:, 1]))
    np.testing.assert_allclose(flow.p4[:, 3], np.sqrt((flow.p4[:, :3] ** 2).sum(1)), rtol=1e-9)  # massless
    k, _, _ = tower_index(cal, np.array([eta]), np.array([0.3]))
    lo, hi = cal.eta_edges[k - 1][0], cal.eta_edges[k][0]
    assert lo <= out_eta.min() and out_eta.max() <= hi  # SmearTowerCenter: uniform inside the tower
    assert out_eta.std() == pytest.approx((hi - lo) / np.sqrt(12), rel=0.1)


@pytest.mark.parametrize("card", CARD_LIST)
def test_towers_merge_particles_in_one_cell_not_in_adjacent_cells(card):
    for cal, code, kind in ((card.ecal, 22, PHOTON), (card.hcal, 2112, NEUTRAL_HADRON)):
        k, j, _ = tower_index(cal, np.array([0.45]), np.array([0.2]))
        lo, hi = cal.eta_edges[k - 1][0], cal.eta_edges[k][0]
        width = hi - lo
        n_phi = cal.n_phi[k - 1][0]
        phi_lo = -np.pi + (j[0] - 1) * 2 * np.pi / n_phi
        inside = (lo + 0.2 * width, lo + 0.8 * width)
        adjacent = (lo + 0.8 * width, hi + 0.2 * width)  # across the upper eta edge
        phi = phi_lo + 0.5 * np.pi / n_phi
        for etas, merged in ((inside, True), (adjacent, False)):
            pid, p4, charge = particles([code, code], [20.0, 30.0], list(etas), phi)
            flow = run(card, pid, p4, charge, event=[0, 0])
            assert list(flow.kind) == [kind] * (1 if merged else 2), (cal.name, etas)
            if merged:  # the summed energy, smeared once
                centre = 0.5 * (lo + hi)
                sigma = cal.resolution(np.array([centre]), np.array([p4[:, 3].sum()]))[0]
                assert abs(flow.p4[0, 3] - p4[:, 3].sum()) < 5 * sigma
        # and across a phi edge
        pid, p4, charge = particles([code, code], [20.0, 30.0], inside[0], [phi_lo + 0.01, phi_lo - 0.01])
        assert len(run(card, pid, p4, charge, event=[0, 0]).kind) == 2


def kept_probability(cal, energy, eta):
    """P(log-normal tower energy passes EnergyMin and EnergySignificanceMin * sigma(E)) for one particle."""
    centre = tower_centre(cal, eta, 0.3)[0]
    passes = lambda e: min(e - cal.energy_min, e - cal.significance_min * cal.resolution(centre, e))  # noqa: E731
    threshold = brentq(passes, 1e-6, 1e4)  # monotonic here: the smallest energy that is kept
    sigma = cal.resolution(centre, energy)
    b = np.sqrt(np.log1p((sigma / energy) ** 2))
    return float(norm.sf((np.log(threshold) - (np.log(energy) - 0.5 * b**2)) / b)), threshold


@pytest.mark.parametrize("card", CARD_LIST)
def test_tower_thresholds_follow_the_card(card):
    n = 3000
    for cal, code, kind, energies in ((card.ecal, 22, PHOTON, (0.45, 0.6, 1.2)),
                                      (card.hcal, 2112, NEUTRAL_HADRON, (2.0, 5.0, 12.0))):  # fmt: skip
        eta = 0.5
        pid, p4, charge = particles(np.repeat(code, n * len(energies)), np.repeat(energies, n) / np.cosh(eta), eta)
        kept = per_event(run(card, pid, p4, charge, seed=3), len(pid), kind)
        probabilities = []
        for i, energy in enumerate(energies):
            p, threshold = kept_probability(cal, energy, eta)
            probabilities.append(p)
            assert binomial_ok(kept[i * n : (i + 1) * n].sum(), n, p), (cal.name, energy, threshold, p)
        assert probabilities[0] < 0.5 < probabilities[-1]  # the points straddle the threshold


@pytest.mark.parametrize("card", CARD_LIST)
def test_energy_flow_keeps_tracks_and_turns_photons_into_towers(card):
    n = 2000
    # a charged pion: its track, its HCal energy subtracted; lost tracks come back as a neutral tower
    pid, p4, charge = particles(np.full(n, 211), 50.0, 0.3)
    flow = run(card, pid, p4, charge, seed=4)
    tracks, neutral = per_event(flow, n, TRACK), per_event(flow, n, NEUTRAL_HADRON)
    assert per_event(flow, n, PHOTON).sum() == 0
    assert 0.90 < tracks.mean() < 0.99
    assert (neutral[tracks == 0] == 1).all()  # an untracked pion is a neutral hadron tower
    assert neutral[tracks == 1].mean() < 0.1  # a tracked one mostly leaves no significant excess
    track_e = flow.p4[flow.kind == TRACK, 3]
    assert np.median(track_e) == pytest.approx(p4[0, 3], rel=0.03)
    # a photon: one ECal tower, no track
    pid, p4, charge = particles(np.full(n, 22), 50.0, 0.3)
    flow = run(card, pid, p4, charge, seed=5)
    assert (flow.kind == PHOTON).all() and len(flow.kind) == n
    # a pion and a photon side by side: the track and the photon tower both survive
    pid, p4, charge = particles(np.tile([211, 22], n), np.tile([40.0, 20.0], n), 0.3)
    flow = run(card, pid, p4, charge, event=np.repeat(np.arange(n), 2), seed=6)
    assert per_event(flow, n, PHOTON).mean() > 0.99
    assert 0.90 < per_event(flow, n, TRACK).mean() < 0.99
    photon_e = flow.p4[flow.kind == PHOTON, 3]
    assert np.median(photon_e) == pytest.approx(20.0 * np.cosh(0.3), rel=0.03)


@pytest.mark.parametrize("card", CARD_LIST)
def test_outside_the_tracker_charged_particles_are_only_towers(card):
    n = 2000
    pid, p4, charge = particles(np.tile([211, -211, 2212, 11], n // 4), 20.0, np.linspace(2.7, 3.5, n))
    flow = run(card, pid, p4, charge, seed=7)
    assert not (flow.kind == TRACK).any()
    hadrons = np.abs(pid) != 11
    assert (per_event(flow, n, NEUTRAL_HADRON)[hadrons] == 1).mean() > 0.99
    assert (per_event(flow, n, PHOTON)[~hadrons] == 1).mean() > 0.99  # electrons: ECal towers
    total = np.bincount(flow.event, flow.p4[:, 3], minlength=n)
    assert np.median(total / p4[:, 3]) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("card", CARD_LIST)
@pytest.mark.parametrize("with_neutral_hadrons", [False, True])
def test_total_energy_roughly_conserved_inside_acceptance(card, with_neutral_hadrons):
    # 300 jet-like sprays at |eta| < 1.5 of 40 particles with falling pT (0.5 GeV + exponential, mean 8 GeV)
    rng = np.random.default_rng(8)
    n_jets, per_jet = 300, 40
    pool = [211, 321, 2212, 22, 22, 22, 11, 13] + ([2112, 130] if with_neutral_hadrons else [])
    codes = rng.choice(pool, size=n_jets * per_jet)
    codes = codes * np.where(np.isin(codes, (22, 2112, 130)), 1, rng.choice([-1, 1], size=codes.size))
    pt = 0.5 + rng.exponential(8.0, size=codes.size)
    axis = np.repeat(rng.uniform(-1.2, 1.2, n_jets), per_jet)
    pid, p4, charge = particles(codes, pt, axis + rng.normal(0, 0.15, codes.size), rng.uniform(-0.2, 0.2, codes.size))
    event = np.repeat(np.arange(n_jets), per_jet)
    flow = run(card, pid, p4, charge, event=event, seed=9)
    ratio = np.bincount(flow.event, flow.p4[:, 3], minlength=n_jets) / np.bincount(event, p4[:, 3], minlength=n_jets)
    print(f"{card.name}: eflow / particle energy per spray {ratio.mean():.3f} +- {ratio.std():.3f}")
    assert ratio.std() < 0.1 and ratio.max() < 1.3
    if not with_neutral_hadrons:  # tracks and ECal towers: conserved to the resolution
        assert ratio.mean() == pytest.approx(1.0, abs=0.01)
    else:  # soft neutral hadrons fall below the HCal significance cut (CMS's: ~10 GeV for 150%/sqrt(E))
        assert 0.9 < ratio.mean() < 1.01


def test_charge_and_helix_bend_soft_tracks_only():
    pid, p4, charge = particles([211, 211, 22], [0.5, 500.0, 0.5], 0.0, 0.0)
    charge = np.array([1.0, 1.0, 0.0])
    pt = np.hypot(p4[:, 0], p4[:, 1])
    eta, phi, reached = propagate(ATLAS, pt, np.zeros(3), np.zeros(3), p4[:, 2], charge)
    radius = 0.5 / (0.299792458 * 2.0)  # pT / (0.3 q B)
    assert reached.all()
    assert phi[0] == pytest.approx(-np.arcsin(1.15 / (2 * radius)))  # a positive track bends clockwise
    assert abs(phi[1]) < 1e-3 and phi[2] == 0.0
    _, phi_neg, _ = propagate(ATLAS, pt[:1], np.zeros(1), np.zeros(1), p4[:1, 2], -charge[:1])
    assert phi_neg[0] == pytest.approx(-phi[0])
    # a 0.2 GeV track curls up inside the ATLAS solenoid (2r < R) and reaches an endcap, far forward
    eta, _, reached = propagate(ATLAS, np.array([0.2]), np.array([0.5]), np.array([0.0]),
                                np.array([0.2 * np.sinh(0.5)]), np.array([1.0]))  # fmt: skip
    assert reached.all() and eta[0] > 2.0


# --- real Pythia jets through the whole chain ---

N_REAL = 20  # 10 QCD + 10 top jets, one chunk per class: Pythia's start-up dominates


@pytest.fixture(scope="module")
def real_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("detector")
    kw = dict(recipe="top-landscape", n=N_REAL, seed=21, workers=1, progress=False, announce=False, reuse_cache=False)
    return {
        "none": generate(**kw, out=out / "none.h5"),
        "atlas-like": generate(**kw, out=out / "atlas.h5", detector="atlas-like"),
    }


def read(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][:] for k in ("jets", "jetConstituentP4")}, dict(f.attrs)


def test_real_detector_jets_differ_from_generator_jets_of_the_same_seed(real_files):
    none, none_attrs = read(real_files["none"])
    det, det_attrs = read(real_files["atlas-like"])
    assert none_attrs["detector"] == "none" and det_attrs["detector"] == "atlas-like"
    assert det_attrs["recipe_version"] == none_attrs["recipe_version"] == 2
    assert len(det["jets"]) == len(none["jets"]) == N_REAL
    assert not np.array_equal(det["jetConstituentP4"], none["jetConstituentP4"])
    names = [s.decode() for s in h5py.File(real_files["none"], "r")["jetFeatureNames"][:]]
    mult = names.index("j_multiplicity")
    # energy flow merges photons into towers and drops soft neutrals: fewer constituents per jet
    assert np.median(det["jets"][:, mult]) < 0.9 * np.median(none["jets"][:, mult])
    pt = names.index("j_pt")
    assert 550 <= det["jets"][:, pt].min() and det["jets"][:, pt].max() < 650  # window applies to detector jets
    p4 = det["jetConstituentP4"].astype(np.float64)
    real = p4[..., 3] > 0
    assert (p4[..., 3][real] >= np.sqrt((p4[..., :3] ** 2).sum(-1))[real] * (1 - 1e-5)).all()  # E >= |p|
    labels = np.argmax(det["jets"][:, -3:-1], axis=1)
    assert np.bincount(labels).tolist() == [N_REAL // 2] * 2


def test_real_detector_chunk_depends_on_its_task_alone(real_files):
    """What makes a file independent of the number of workers: the top chunk, run alone in this process
    (after other chunks and tests, not after the QCD chunk as in the file), gives the file's top jets."""
    from jetzoo.generate.recipes import get_recipe
    from jetzoo.generate.runner import _run_task, plan_chunks, shuffle_permutation

    tasks = plan_chunks(get_recipe("top-landscape"), N_REAL, 21, 100, None, "atlas-like")
    assert [t.detector for t in tasks] == ["atlas-like"] * 2
    alone = _run_task(tasks[1])
    stored, _ = read(real_files["atlas-like"])
    in_plan_order = stored["jetConstituentP4"][np.argsort(shuffle_permutation(N_REAL, 21))]
    np.testing.assert_array_equal(in_plan_order[tasks[0].n_jets :], alone.p4)


def test_cache_key_cli_and_announcement_name_the_detector(tmp_path, monkeypatch):
    import argparse

    from jetzoo.generate import add_generate_arguments

    monkeypatch.setenv("JETZOO_CACHE", str(tmp_path))
    plain = default_dataset_path("top-landscape", 10, 1)
    assert default_dataset_path("top-landscape", 10, 1, detector="none") == plain
    assert default_dataset_path("top-landscape", 10, 1, detector="atlas-like").name == plain.stem + "-det-atlas-like.h5"
    assert default_dataset_path("top-landscape", 10, 1, detector="cms-like").name.endswith("-det-cms-like.h5")
    with pytest.raises(ValueError, match="unknown detector 'x'"):
        generate("top-landscape", 10, detector="x", out=tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()
    parser = argparse.ArgumentParser()
    add_generate_arguments(parser)
    assert parser.parse_args(["--recipe", "top-landscape", "--n", "2"]).detector == "none"
    assert parser.parse_args(["--recipe", "top-landscape", "--n", "2", "--detector", "cms-like"]).detector == "cms-like"
    with pytest.raises(SystemExit):
        parser.parse_args(["--recipe", "top-landscape", "--n", "2", "--detector", "delphes"])
    assert "--detector {none,atlas-like,cms-like}" in " ".join(parser.format_help().split())
    line = announcement("top-landscape", 10, 1, plain, 1, 2, "wta-kt", "atlas-like")
    assert "detector atlas-like" in line and "\n" not in line


def test_a_jet_and_its_detector_level_twin_are_one_identity_and_never_train_and_test(real_files):
    """Issue 23 §6: the same seed with and without the detector holds the same generated events; a jet's identity
    is its event, so twins share their split, and a particle-level checkpoint's training jets are found in the
    detector-level file (refused, as any overlap), while its own test split there holds no twin of them."""
    from jetzoo.datamodules.jet_identity import SplitRule
    from jetzoo.datamodules.leakage import overlap_with_training
    from jetzoo.datamodules.readers import read_hls4ml
    from jetzoo.registry import create_datamodule

    none, atlas = read_hls4ml(real_files["none"]), read_hls4ml(real_files["atlas-like"])
    rule = SplitRule(0, 0.25, 0.25)
    twins = np.isin(rule.key_of(atlas.jet_ids), rule.key_of(none.jet_ids))
    assert twins.mean() >= 0.5, twins.mean()  # most detector-level jets come from an event of the other file
    for code in (0, 1, 2):  # twins are on the same side of the split
        assert not np.isin(rule.key_of(atlas.jet_ids[rule.split_of(atlas.jet_ids) == code]),
                           rule.key_of(none.jet_ids[rule.split_of(none.jet_ids) != code])).any()
    trained = create_datamodule("pythia", path=str(real_files["none"]), seed=0, val_fraction=0.25, test_fraction=0.25)
    record = trained.data_provenance()
    whole = create_datamodule("pythia", path=str(real_files["atlas-like"]), seed=0, val_fraction=0.0, test_fraction=0.999)
    assert overlap_with_training(whole.table.jet_ids, record) >= int((twins & (rule.split_of(atlas.jet_ids) == 0)).sum()) > 0
    same_split = create_datamodule("pythia", path=str(real_files["atlas-like"]), seed=0, val_fraction=0.25, test_fraction=0.25)
    assert overlap_with_training(same_split.table.jet_ids[same_split.split_indices()["test"]], record) == 0
