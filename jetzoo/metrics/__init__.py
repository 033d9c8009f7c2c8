"""Tagging metrics: accuracy, AUC and background rejection 1/eps_B, with lower bounds and intervals.

Everything is computed in float64 from the tagger's logits gathered over all test jets (and
all DDP processes, `LogitsAndLabels`), never from float32 softmax probabilities, which saturate
at 1 for confident taggers and turn the best-scored jets into ties.

1/eps_B at eps_S. The ROC is sklearn's (`roc_curve`: one point per distinct score, so tied jets
form a straight segment) and eps_B is interpolated linearly at the exact eps_S, as
`np.interp(eps_S, tpr, fpr)` does (jetzoo.metrics.roc; tests/test_metrics.py checks both against
sklearn). The efficiencies are the datamodule's `signal_efficiencies` (default 0.5 and 0.3).

Two conventions, named by their suffix:
- `rej<E>_<c>_vs_rest`: one-vs-rest, class c against all other classes, score p_c;
- `rej<E>_<s>_vs_bkg`: ParT-style, signal class s against the datamodule's `background_classes`
  only (e.g. QCD for top tagging and JetClass, g and q for hls4ml), jets of other classes left
  out, score p_s / (p_s + sum_b p_b).
Scores are log-odds from the logits (z_s minus the logsumexp of the compared-against classes'
logits): the same ranking as the probabilities, without their rounding.
Where the two coincide (a binary tagger with a background class: rest = background) only the
`_vs_bkg` name is reported, e.g. `test/rej50_top_vs_bkg`. A binary tagger with no declared
background reports class 1 as `_vs_rest`. AUC keeps its names: `auc` (binary: of the signal
class; multi-class: macro mean over the classes with jets) and `auc_<c>` (one-vs-rest).

Few background jets. The value is always the estimate 1/eps_B, with its bootstrap interval and the
(interpolated) count k of n background jets behind it. Only when no background jet passes (eps_B = 0,
an infinite estimate) is it a limit: 1 / the one-sided 84% Clopper-Pearson upper limit on eps_B (the
upper end of the 68% central interval, Beta quantile 0.84 with 1, n). The rule depends on nothing but
k = 0, so it does not switch on a fluctuation of a few jets (a "< 10 jets" switch did, and its bound
then held in only ~71% of samples). Lightning logs floats, so the logged `<name>` holds that limit and
`<name>_lower_bound` is 1.0 (else 0.0); the test summary shows it as "> X" with its level and count.
`RejectionPoint` carries the flag and the count as fields.

Intervals. At test time every metric gets a 68% bootstrap interval over the test jets
(`bootstrap_intervals`: 300 resamples, seed 0, the same for any order of the jets, so for any
number of DDP processes), logged as `<name>_lo` and `<name>_hi` beside `<name>` and printed in
the test summary. For a limit (no background jet passes) the interval is that of the bare 1/eps_B of
the resamples (inf) and is not printed. Validation logs values
only. `TEST_BOOTSTRAP_RESAMPLES` in jetzoo.zoo.base sets the count.

Also the generative metrics (`generative`).

May import: `jetzoo.physics`, `jetzoo.io`, `jetzoo.errors`. Never a room above it.
"""

from jetzoo.metrics.bootstrap import bootstrap_intervals
from jetzoo.metrics.roc import Rejection, background_rejection, clopper_pearson_upper, resampled_roc
from jetzoo.metrics.state import LogitsAndLabels
from jetzoo.metrics.summary import format_summary
from jetzoo.metrics.tagging import RejectionPoint, TaggingResult, evaluate, plan_for, rejection_name

__all__ = [
    "LogitsAndLabels",
    "Rejection",
    "RejectionPoint",
    "TaggingResult",
    "background_rejection",
    "bootstrap_intervals",
    "clopper_pearson_upper",
    "evaluate",
    "format_summary",
    "plan_for",
    "rejection_name",
    "resampled_roc",
]
