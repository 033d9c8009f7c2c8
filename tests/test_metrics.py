"""jetzoo.metrics against independent references: sklearn's ROC + np.interp and roc_auc_score,
scipy's exact binomial (Clopper-Pearson) interval, and the binomial spread of a bootstrap."""

from __future__ import annotations

import time

import h5py
import numpy as np
import pytest
import scipy.special
import scipy.stats
from sklearn.metrics import roc_auc_score, roc_curve

from jetzoo.datamodules.file_formats import HLS4MLDataModule, JetClassDataModule, QuarkGluonDataModule
from jetzoo.datamodules.pythia import PythiaJetDataModule
from jetzoo.metrics import (
    background_rejection,
    bootstrap_intervals,
    clopper_pearson_upper,
    evaluate,
    format_summary,
    plan_for,
    resampled_roc,
)
from jetzoo.metrics.tagging import resampled_values

from format_writers import write_hls4ml_file

REL = 1e-6


def sklearn_eps_b(is_signal, score, eff) -> float:
    fpr, tpr, _ = roc_curve(is_signal, score)
    return float(np.interp(eff, tpr, fpr))


def rejection_from_sklearn_eps_b(eps: float, n_bkg: int) -> float:
    """1/eps_B whenever a background jet passes; with none, 1 / scipy's 68% Clopper-Pearson upper end
    (the one-sided 84% upper limit)."""
    k = eps * n_bkg
    if k > 0:
        return 1 / eps
    return 1 / scipy.stats.binomtest(0, n_bkg).proportion_ci(confidence_level=0.68, method="exact").high


def sklearn_rejection(is_signal, score, eff) -> float:
    return rejection_from_sklearn_eps_b(sklearn_eps_b(is_signal, score, eff), int((~np.asarray(is_signal, bool)).sum()))


def relative(got: float, ref: float) -> float:
    return 0.0 if got == ref else abs(got - ref) / abs(ref)


def score_cases(rng):
    """(name, scores, is_signal): random, tied, discrete, with a flat ROC stretch at eps_S exactly."""
    for _ in range(15):
        n = int(rng.integers(30, 2000))
        y = rng.random(n) < rng.uniform(0.2, 0.8)
        yield "random", rng.normal(size=n) + rng.uniform(0, 2) * y, y
        yield "tied", np.round(rng.normal(size=n) + y, 1), y
        yield "discrete", rng.integers(0, int(rng.integers(2, 6)), size=n) + 0.5 * y * (rng.random(n) < 0.5), y
    # signal groups of exactly half the signal, background-only groups between: np.interp's duplicate xp
    y = np.r_[np.ones(100, bool), np.zeros(170, bool)]
    yield "flat at eps_S", np.r_[np.full(50, 3.0), np.full(50, 1.0), np.full(70, 2.0), np.full(100, 0.0)], y


def test_rejection_and_efficiency_equal_sklearn_on_random_tied_and_discrete_scores():
    worst_eps = worst_rej = 0.0
    for name, score, y in score_cases(np.random.default_rng(1)):
        fpr, tpr, _ = roc_curve(y, score)
        roc = resampled_roc(score, y)
        for eff in (0.5, 0.3, 0.99, 0.1):
            ref = float(np.interp(eff, tpr, fpr))
            worst_eps = max(worst_eps, relative(roc.background_efficiency(eff)[0], ref))
            rej = background_rejection(score, y, eff)
            worst_rej = max(worst_rej, relative(rej.value, rejection_from_sklearn_eps_b(ref, int((~y).sum()))))
            assert rej.lower_bound == (ref == 0), name
    assert worst_eps < REL and worst_rej < REL, (worst_eps, worst_rej)


def test_auc_equals_roc_auc_score():
    worst = 0.0
    for _, score, y in score_cases(np.random.default_rng(2)):
        worst = max(worst, abs(resampled_roc(score, y).auc()[0] - roc_auc_score(y, score)))
    assert worst < 1e-12


def multiclass_logits(rng, n=3000, k=5, scale=1.0):
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * scale
    logits[np.arange(n), labels] += 1.5 * scale
    return logits, labels


def test_both_conventions_equal_sklearn_on_softmax_probabilities():
    names, bkg = ["g", "q", "W", "Z", "t"], ["g", "q"]
    logits, labels = multiclass_logits(np.random.default_rng(3))
    probs = scipy.special.softmax(logits, axis=1)
    result = evaluate(logits, labels, names, bkg)
    got = {p.name: p for p in result.rejections}
    expected = {}
    for c, name in enumerate(names):
        for eff in (0.5, 0.3):
            expected[f"rej{round(eff * 100)}_{name}_vs_rest"] = sklearn_rejection(labels == c, probs[:, c], eff)
            if name not in bkg:
                sel = np.isin(labels, [0, 1, c])
                ratio = probs[sel, c] / (probs[sel, c] + probs[sel, 0] + probs[sel, 1])
                expected[f"rej{round(eff * 100)}_{name}_vs_bkg"] = sklearn_rejection(labels[sel] == c, ratio, eff)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key].value == pytest.approx(value, rel=REL), key
    ovr = [roc_auc_score(labels == c, probs[:, c]) for c in range(5)]
    assert result.auc == pytest.approx(np.mean(ovr), rel=1e-12)
    assert result.auc_per_class["Z"] == pytest.approx(ovr[3], rel=1e-12)
    assert result.acc == np.mean(probs.argmax(1) == labels)
    # ParT-style (W vs g + q only) rejects far more than one-vs-rest (W vs everything)
    assert got["rej50_W_vs_bkg"].value > got["rej50_W_vs_rest"].value


def test_saturated_logits_are_ranked_exactly():
    """Margins of 30-60 round p to 1 in float32 and float64 alike; the log-odds keep the order."""
    rng = np.random.default_rng(4)
    n = 4000
    labels = rng.integers(0, 2, n)
    d = 40 + 5 * rng.normal(size=n) + 4 * labels  # z_top - z_QCD
    logits = np.stack([np.zeros(n), d], 1)
    result = evaluate(logits, labels, ["QCD", "top"], ["QCD"])
    assert sorted(p.name for p in result.rejections) == ["rej30_top_vs_bkg", "rej50_top_vs_bkg"]
    for p in result.rejections:
        assert p.value == pytest.approx(sklearn_rejection(labels == 1, d, p.efficiency), rel=REL)
    float32_probs = scipy.special.softmax(logits.astype(np.float32), axis=1)[:, 1]
    assert len(np.unique(float32_probs)) < 10  # what the old metric saw: almost all ties
    saturated = 1 / sklearn_eps_b(labels == 1, float32_probs, 0.3)
    assert abs(saturated / result.rejections[1].value - 1) > 0.5
    # multi-class: the vs_bkg ratio 1 / (1 + sum_b exp(z_b - z_s)), ranked by -sum_b exp(z_b - z_s)
    logits, labels = multiclass_logits(rng, n=4000, k=3, scale=40.0)
    result = evaluate(logits, labels, ["g", "q", "t"], ["g", "q"])
    rank = -(np.exp(logits[:, 0] - logits[:, 2]) + np.exp(logits[:, 1] - logits[:, 2]))  # g + q: every other jet
    (point,) = [p for p in result.rejections if p.name == "rej50_t_vs_bkg"]
    assert point.value == pytest.approx(sklearn_rejection(labels == 2, rank, 0.5), rel=REL)


def test_a_binary_tagger_reports_one_convention_with_a_clear_name():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 500)
    logits = rng.normal(size=(500, 2))
    names = set(evaluate(logits, labels, ["QCD", "top"], ["QCD"]).scalars())
    assert names == {"acc", "auc", *(f"rej{e}_top_vs_bkg{s}" for e in (50, 30) for s in ("", "_lower_bound"))}
    without = {p.name for p in evaluate(logits, labels, ["a", "b"], []).rejections}
    assert without == {"rej50_b_vs_rest", "rej30_b_vs_rest"}
    # declared efficiencies such as JetClass's 0.99 and 0.995 get their own names
    plan = plan_for(["QCD", "Tbqq", "Hbb"], [0, 1, 2], ["QCD"], (0.99, 0.995))
    assert {n for _, _, n in plan.rejection_names()} >= {"rej99_Tbqq_vs_bkg", "rej99.5_Hbb_vs_bkg", "rej99.5_QCD_vs_rest"}


def test_few_passing_background_jets_give_the_estimate_its_interval_and_its_count():
    rng = np.random.default_rng(6)
    y = np.r_[np.ones(1000, bool), np.zeros(2054, bool)]
    score = np.r_[rng.normal(2.5, 1, 1000), rng.normal(0, 1, 2054)]
    rej = background_rejection(score, y, 0.3)
    passing = sklearn_eps_b(y, score, 0.3) * 2054
    assert not rej.lower_bound and 0 < passing < 10
    assert rej.value == pytest.approx(2054 / passing, rel=REL)  # the estimate, never a bound
    assert rej.background_passing == pytest.approx(passing, rel=REL) and rej.background_jets == 2054
    assert str(rej) == f"{rej.value:.4g}"
    logits = np.stack([np.zeros(len(y)), score], 1)
    result = evaluate(logits, y.astype(int), ["QCD", "top"], ["QCD"])
    result.intervals = bootstrap_intervals(logits, y.astype(int), ["QCD", "top"], ["QCD"], n_resamples=50)
    summary = format_summary(result, "test", 50)
    (point,) = [p for p in result.rejections if p.efficiency == 0.3]
    assert not point.lower_bound and result.scalars()["rej30_top_vs_bkg_lower_bound"] == 0.0
    lo, hi = result.intervals["rej30_top_vs_bkg"]
    (line,) = [line for line in summary.splitlines() if line.split()[0] == "test/rej30_top_vs_bkg"]
    assert line.split()[1] == f"{point.value:.4g}" and f"[{lo:.4g}, {hi:.4g}]" in line
    count = line.split("from ")[1].split(" of 2,054 background jets")[0]
    assert float(count.replace(",", "")) == pytest.approx(point.background_passing, abs=0.05)
    assert "68% bootstrap intervals over 50 resamples" in summary
    assert "test/rej30_top_vs_bkg: fewer than 10 background jets pass" in summary


def test_no_passing_background_jet_gives_a_one_sided_limit_with_its_level():
    y = np.r_[np.ones(1000, bool), np.zeros(2054, bool)]
    score = np.r_[np.linspace(5, 10, 1000), np.linspace(-5, 0, 2054)]  # fully separated
    rej = background_rejection(score, y, 0.3)
    assert rej.lower_bound and rej.background_passing == 0
    limit = scipy.stats.binomtest(0, 2054).proportion_ci(confidence_level=0.68, method="exact").high
    assert rej.value == pytest.approx(1 / limit, rel=1e-9)
    assert rej.value == pytest.approx(1 / clopper_pearson_upper(0, 2054), rel=1e-9)
    assert clopper_pearson_upper(2, 2054) == pytest.approx(
        scipy.stats.binomtest(2, 2054).proportion_ci(confidence_level=0.68, method="exact").high, rel=1e-9
    )
    assert str(rej).startswith("> ")
    logits = np.stack([np.zeros(len(y)), score], 1)
    result = evaluate(logits, y.astype(int), ["QCD", "top"], ["QCD"])
    result.intervals = bootstrap_intervals(logits, y.astype(int), ["QCD", "top"], ["QCD"], n_resamples=50)
    summary = format_summary(result, "test", 50)
    (point,) = [p for p in result.rejections if p.efficiency == 0.3]
    assert point.lower_bound and result.scalars()["rej30_top_vs_bkg_lower_bound"] == 1.0
    assert f"> {point.value:.4g}  84% CL limit: no background jet of 2,054 passes" in summary


def test_the_limit_rule_does_not_switch_on_a_fluctuation():
    """The old rule (a bound below 10 passing jets) switched on the data itself: simulated at an expected
    count of 10, it showed the bound in ~140 of 300 samples. Now an estimate is shown whenever a jet passes."""
    rng = np.random.default_rng(8)
    shown_limits = 0
    for _ in range(100):
        n_bkg = 2000
        y = np.r_[np.ones(500, bool), np.zeros(n_bkg, bool)]
        score = np.r_[rng.normal(2.06, 1, 500), rng.normal(0, 1, n_bkg)]  # eps_B(0.3) ~ 0.005: ~10 jets
        shown_limits += background_rejection(score, y, 0.3).lower_bound
    assert shown_limits == 0


def test_bootstrap_is_deterministic_order_free_and_as_wide_as_binomial_statistics():
    rng = np.random.default_rng(7)
    n = 4000
    labels = rng.integers(0, 2, n)
    logits = np.stack([np.zeros(n), rng.normal(size=n) + 1.5 * labels], 1)
    args = (["QCD", "top"], ["QCD"])
    start = time.perf_counter()
    intervals = bootstrap_intervals(logits, labels, *args, n_resamples=300, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, elapsed  # ~0.1 s on one idle core
    perm = rng.permutation(n)
    assert bootstrap_intervals(logits[perm], labels[perm], *args, n_resamples=300, seed=0) == intervals
    assert bootstrap_intervals(logits, labels, *args, n_resamples=300, seed=1) != intervals
    result = evaluate(logits, labels, *args)
    assert set(intervals) == set(result.values())
    for name, value in result.values().items():
        lo, hi = intervals[name]
        assert lo < value < hi, name
    acc = result.acc
    half_width = (intervals["acc"][1] - intervals["acc"][0]) / 2
    assert half_width == pytest.approx(np.sqrt(acc * (1 - acc) / n), rel=0.2)
    # the rejection's spread follows the binomial error of the passing background count
    n_bkg = (labels == 0).sum()
    eps = 1 / result.values()["rej30_top_vs_bkg"]
    lo, hi = intervals["rej30_top_vs_bkg"]
    assert np.log(hi / lo) / 2 == pytest.approx(np.sqrt((1 - eps) / (eps * n_bkg)), rel=0.35)


def test_each_resample_equals_sklearn_on_the_resampled_jets():
    rng = np.random.default_rng(8)
    names = ["g", "q", "t"]
    logits, labels = multiclass_logits(rng, n=600, k=3)
    plan = plan_for(names, labels, ["g", "q"])
    draws = rng.integers(0, 600, size=(4, 600))
    values = resampled_values(logits, labels, plan, draws).by_name(plan)
    for r, rows in enumerate(draws):
        z, y = logits[rows], labels[rows]
        probs = scipy.special.softmax(z, axis=1)
        assert values["auc_q"][r] == pytest.approx(roc_auc_score(y == 1, probs[:, 1]), rel=1e-12)
        assert values["rej30_g_vs_rest"][r] == pytest.approx(sklearn_eps_b(y == 0, probs[:, 0], 0.3), rel=REL)
        assert values["rej50_t_vs_bkg"][r] == pytest.approx(sklearn_eps_b(y == 2, probs[:, 2], 0.5), rel=REL)  # all others
        assert values["acc"][r] == np.mean(probs.argmax(1) == y)


def test_bad_input_is_a_one_line_error():
    logits, labels = np.zeros((3, 2)), np.array([0, 1, 1])
    with pytest.raises(ValueError, match="not among the classes"):
        evaluate(logits, labels, ["QCD", "top"], ["g"])
    with pytest.raises(ValueError, match="non-finite logits"):
        evaluate(np.array([[0, np.nan], [0, 1], [1, 0]]), labels, ["QCD", "top"], ["QCD"])
    with pytest.raises(ValueError, match=r"signal efficiency 1.5 is not in \(0, 1\]"):
        evaluate(logits, labels, ["QCD", "top"], ["QCD"], [1.5])
    with pytest.raises(ValueError, match="2 columns for 3 classes"):
        evaluate(logits, labels, ["a", "b", "c"])


def test_datamodules_declare_their_background_classes(tmp_path):
    assert HLS4MLDataModule.background_classes == ("g", "q")
    assert JetClassDataModule.background_classes == ("QCD",)
    assert QuarkGluonDataModule.background_classes == ("g",)
    assert PythiaJetDataModule(recipe="hls4ml-5class").background_classes == ("g", "q")
    assert PythiaJetDataModule().background_classes == ("QCD",)


def test_dims_carry_the_background_classes_of_the_files_recipe(tmp_path):
    """A pythia file's `recipe` attribute decides (the `recipe` argument is for generating)."""
    path = tmp_path / "qg.h5"
    write_hls4ml_file(path, n=40, class_names=["g", "q"])
    with h5py.File(path, "a") as f:
        f.attrs["recipe"] = "quark-gluon"
    dims = PythiaJetDataModule(path=str(path)).dims
    assert dims["class_names"] == ["g", "q"] and dims["background_classes"] == ["g"]
    assert dims["signal_efficiencies"] == [0.5, 0.3]
    dims = HLS4MLDataModule(path=str(path)).dims  # the same jets as a published hls4ml file
    assert dims["background_classes"] == ["g", "q"]
