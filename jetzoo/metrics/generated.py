"""The report on a generator's jets (issue 22): the JetNet protocol (`jetzoo.metrics.jetnet_metrics`: W1M, W1P,
W1EFP, FPD, KPD, each with its error), the W1 of tau21 and tau32, and the classifier two-sample test on the
clouds (`jetzoo.metrics.two_sample`: a fixed PFN with a fixed budget), each beside its truth floor: the same
metric between two independent samples of real jets.

Every number is measured at one N, stated in the report (`n_jets`): the smallest of the three samples, at most
50,000 (jetnet's recommended size); the samples are cut to their first N jets. A ratio to a floor means
something only at equal N.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from jetzoo.metrics import jetnet_metrics
from jetzoo.metrics.generative import as_cloud, jet_observables
from jetzoo.metrics.two_sample import cloud_two_sample_auc

MAX_JETS = 50_000
MIN_JETS = 100  # FPD's smallest batch (0.4 N) must exceed the 36 EFPs for a covariance
VALIDATION_FPD_JETS = 2000  # the most jets of each sample a validation FPD point uses (EFPs: ~1.4 ms a jet)


def _report(real, other, real_features, jet_radius: float, c2st_epochs: int, seed: int, efp_jobs, n: int) -> dict:
    measured = jetnet_metrics.evaluate(real, other, np.random.default_rng(seed), real_features, efp_jobs, n)
    out = {}
    for key, m in measured.items():
        out[key.lower()] = m.value
        out[f"{key.lower()}_err"] = m.error
    oa, ob = jet_observables(*real, jet_radius), jet_observables(*other, jet_radius)
    out["w1tau21"] = scipy.stats.wasserstein_distance(oa[:, 1], ob[:, 1])
    out["w1tau32"] = scipy.stats.wasserstein_distance(oa[:, 2], ob[:, 2])
    out["c2st_auc"] = cloud_two_sample_auc(real, other, seed=seed, epochs=c2st_epochs)
    return {k: float(v) for k, v in out.items()}


def evaluate_generated(real, generated, real_reference, jet_radius: float = 0.8, c2st_epochs: int = 10, seed: int = 0,
                       efp_jobs: int | None = 1, max_jets: int = MAX_JETS) -> dict[str, float]:
    """Every metric of `generated` against `real`, and `<metric>_floor` of `real_reference` against `real`, at
    N = `n_jets` jets each. Samples: (cloud (N, P, 3), mask (N, P)) or dicts with those keys; numpy or torch."""
    samples = [as_cloud(s) for s in (real, generated, real_reference)]
    n = min(max_jets, *(len(c) for c, _ in samples))
    if n < MIN_JETS:
        sizes = ", ".join(f"{name} {len(c)}" for name, (c, _) in zip(("real", "generated", "real reference"), samples))
        raise ValueError(f"the generative metrics need at least {MIN_JETS} jets in each sample ({sizes}): FPD's "
                         "covariance of 36 EFPs needs them; test on more jets")
    real, generated, reference = ((c[:n], m[:n]) for c, m in samples)
    real_features = jetnet_metrics.fpd_features(real, efp_jobs)
    out = _report(real, generated, real_features, jet_radius, c2st_epochs, seed, efp_jobs, n)
    floor = _report(real, reference, real_features, jet_radius, c2st_epochs, seed, efp_jobs, n)
    out.update({f"{k}_floor": v for k, v in floor.items()})
    out["n_jets"] = float(n)
    return out


def validation_fpd(real, generated, max_jets: int = VALIDATION_FPD_JETS) -> float | None:
    """FPD (`jetzoo.metrics.jetnet_metrics.fpd_at`) between the validation jets and as many generated ones, at
    that N: the second point of a generator's learning curve beside W1M (issue 22 §5). Extrapolated to infinite N
    as the test FPD is, but from batches of 0.4 N to N of the validation sample (e.g. 10 batches), so noisier:
    a trend along one run, not a number to set beside the test's. At most `max_jets` of each (the first); None
    below MIN_JETS jets, where the 36 EFPs have no covariance. The generation task computes one only every
    so often (`jetzoo.zoo.generative_base.FPD_CPU_SHARE`): at most 5% of a run's CPU budget."""
    n = min(len(real[0]), len(generated[0]), max_jets)
    if n < MIN_JETS:
        return None
    features = [jetnet_metrics.fpd_features((c[:n].double().numpy(), m[:n].numpy())) for c, m in (real, generated)]
    return jetnet_metrics.fpd_at(*features, n).value
