"""`jetzoo bench`: the spec and its parser, resuming after kill -9, the table against sklearn,
bit-identical reruns, failed runs as rows, the paired significance test, and the plots."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from jetzoo import cli
from jetzoo.bench import run_bench, store
from jetzoo.bench.significance import holm, paired_bootstrap
from jetzoo.bench.convergence import converged
from jetzoo.bench.spec import parse_spec

JETZOO = str(Path(sys.executable).with_name("jetzoo"))


def tiny_spec(path: Path, jets: Path, out: Path, **extra) -> Path:
    spec = {
        "models": [{"name": "perceptron"}, {"name": "mlp"}],
        "data": {"name": "pythia", "args": {"path": str(jets), "batch_size": 128}},
        "seeds": 2, "epochs": 1, "trainer": {"threads": 1}, "bootstrap_resamples": 100,
        "timing_seconds": 0.05, "plots": False, "out": str(out), **extra,
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def child_pids(pid: int) -> list[int]:
    """The direct children of `pid` (Linux /proc)."""
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def alive(pid: int) -> bool:
    """Still running (a zombie is not: its parent, the killed bench, reaps nothing any more)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def resumed_bench(top_jets_file, tmp_path_factory):
    """The tiny spec run as a subprocess in two worker processes, killed with SIGKILL after its first
    finished run, then re-run one run after another.

    Returns (out dir, records of the runs finished before the kill, stderr of the re-run)."""
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "out"
    spec = tiny_spec(tmp / "spec.yaml", top_jets_file, out, workers=2)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([JETZOO, "bench", "--config", str(spec)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tmp)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any((out / "runs").glob("*.json")):
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the bench ended before it could be killed"
        workers = child_pids(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(workers) >= 2, workers  # the two worker processes (and multiprocessing's resource tracker)
    deadline = time.monotonic() + 10  # each dies with the bench (PR_SET_PDEATHSIG): no orphan trains on
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)], "a child process outlived the killed bench"
    before = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in (out / "runs").glob("*.json")}
    assert 1 <= len(before) < 4
    # the re-run in this process (one interpreter start less), one run after another: `workers` is
    # not part of a run's key, so the runs finished by the workers are kept; it prints as the command does
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        returncode = cli.main(["bench", "--config", str(spec), "--workers", "1"])
    rerun = subprocess.CompletedProcess([], returncode, stdout.getvalue(), stderr.getvalue())
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    return out, before, rerun


def test_a_bench_killed_with_sigkill_resumes_without_redoing_finished_runs(resumed_bench):
    out, before, rerun = resumed_bench
    assert f"{len(before)} finished already, {4 - len(before)} to do" in rerun.stderr
    for name, (text, mtime) in before.items():  # never rewritten
        path = out / "runs" / name
        assert path.read_text() == text and path.stat().st_mtime_ns == mtime
        assert f"{name.removesuffix('.json').replace('-seed', ' seed ')}: training" not in rerun.stderr
    assert len(rerun.stderr.split(": training")) - 1 == 4 - len(before)  # progress: one start line per run
    records = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert sorted((r["model"], r["seed"]) for r in records) == [("mlp", 0), ("mlp", 1), ("perceptron", 0), ("perceptron", 1)]
    assert all(r["status"] == "ok" for r in records)
    # each model trained with its own recipe (issue 23 §2): the mlp the hls4ml paper's, the perceptron jetzoo's;
    # the spec's 1 epoch caps both, each validated and its best (only) epoch tested
    assert {(r["model"], r["recipe"], r["patience"], r["max_epochs"], r["best_epoch"]) for r in records} == {
        ("mlp", "mlp-hls4ml", 20, 1, 1), ("perceptron", "jetzoo-default", 3, 1, 1)}
    assert sorted(p.name for p in (out / "predictions").iterdir()) == [
        "mlp-seed0.h5", "mlp-seed1.h5", "perceptron-seed0.h5", "perceptron-seed1.h5"]
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]  # atomic writes leave no temp files, a killed one's included
    md = (out / "leaderboard.md").read_text()
    assert "| mlp | 2/2 |" in md and "| perceptron | 2/2 |" in md and "vs best (auc)" in md
    assert "best" in md and ("worse (p=" in md or "not distinguishable (p=" in md)
    assert "seeds p=" in md  # 2 seeds each: the seed-level Welch test beside the verdict
    assert md in rerun.stdout  # the table is printed


def test_ctrl_c_stops_a_bench_in_workers_at_once_and_starts_no_queued_run(top_jets_file, tmp_path):
    """SIGINT to the bench's process group (Ctrl-C) after its first finished run: exit 130 within
    seconds, no queued run started afterwards, no child left (without the fix the pool ran every
    queued run before exiting)."""
    out = tmp_path / "out"
    spec = tiny_spec(tmp_path / "spec.yaml", top_jets_file, out, workers=2, seeds=3)
    # SIGINT as a terminal's Ctrl-C delivers it: a suite started in the background (`cmd &` in a script, as a CI
    # runner may do) has SIGINT ignored, which its children inherit, and Python then keeps it ignored
    proc = subprocess.Popen([JETZOO, "bench", "--config", str(spec)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None and not any((out / "runs").glob("*.json")):
            time.sleep(0.01)
        assert proc.poll() is None, "the bench ended before it could be interrupted"
        children = child_pids(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err[-2000:]
    records = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert 1 <= len(records) <= 2 and all(r["status"] == "ok" for r in records), records  # of 6: the queue was dropped
    time.sleep(0.5)
    assert not [pid for pid in children if alive(pid)], "a worker outlived the interrupted bench"


def sklearn_metrics(predictions: dict) -> dict[str, float]:
    from scipy.special import logsumexp
    from sklearn.metrics import roc_auc_score, roc_curve

    logits = predictions["logits"].astype(np.float64)
    labels = predictions["labels"]
    signal = predictions["class_names"].index("top")
    bkg = [predictions["class_names"].index(c) for c in predictions["background_classes"]]
    score = logits[:, signal] - logsumexp(logits[:, bkg], axis=1)
    is_signal = labels == signal
    fpr, tpr, _ = roc_curve(is_signal, score)
    out = {"auc": roc_auc_score(is_signal, score), "acc": float((logits.argmax(1) == labels).mean())}
    for eff in (0.5, 0.3):
        out[f"rej{round(eff * 100)}_top_vs_bkg"] = 1.0 / np.interp(eff, tpr, fpr)
    return out


def test_sklearn_on_the_written_predictions_gives_the_tables_numbers(resumed_bench):
    out, _, _ = resumed_bench
    board = json.loads((out / "leaderboard.json").read_text())
    csv_rows = {r["model"]: r for r in __import__("csv").DictReader(open(out / "leaderboard.csv"))}
    for row in board["rows"]:
        recomputed, limits = [], []
        for seed in row["seeds_ok"]:
            predictions = store.read_predictions(store.predictions_path(out, row["model"], seed))
            assert predictions["probs"].shape == predictions["logits"].shape and predictions["class_names"] == ["QCD", "top"]
            record = json.loads((out / "runs" / f"{row['model']}-seed{seed}.json").read_text())
            ours, theirs = record["metrics"], sklearn_metrics(predictions)
            for name, value in theirs.items():
                if record["lower_bounds"].get(name):  # no background jet passes: the record holds a limit
                    assert ours[name] < value
                    theirs[name] = ours[name]
                else:
                    assert ours[name] == pytest.approx(value, rel=1e-6), (row["model"], seed, name)
            recomputed.append(theirs)
            limits.append(record["lower_bounds"])
        for column, name in board["columns"].items():
            # a seed that gave only a limit is never averaged with the others' estimates (issue 23 §7)
            estimates = [r[name] for r, limit in zip(recomputed, limits) if not limit.get(name)]
            mean = np.mean(estimates) if estimates else min(r[name] for r in recomputed)
            assert row[column]["mean"] == pytest.approx(mean, rel=1e-6)
            assert float(csv_rows[row["model"]][f"{column}_mean"]) == pytest.approx(mean, rel=1e-6)
            if len(estimates) > 1:
                assert row[column]["std"] == pytest.approx(np.std(estimates, ddof=1), rel=1e-6)


def test_a_cell_never_averages_a_limit_with_estimates():
    from types import SimpleNamespace

    from jetzoo.bench.table import aggregate, metric_cell

    def run(value, limit):
        return {"status": "ok", "metrics": {"rej30_top_vs_bkg": value}, "lower_bounds": {"rej30_top_vs_bkg": limit},
                "params": 1, "flops_per_jet": 1, "train_jets": 1, "test_jets": 1, "train_jets_per_s": 1,
                "infer_jets_per_s": 1, "wall_s": 1, "intervals": {}}

    spec = SimpleNamespace(rank_by="rej30", models=[SimpleNamespace(label="m", name="m", args={}, seeds=None)],
                           label=lambda m: m.label, seeds_of=lambda m: [0, 1, 2])
    mixed = aggregate(spec, {("m", 0): run(100.0, False), ("m", 1): run(140.0, False), ("m", 2): run(900.0, True)},
                      {"rej30": "rej30_top_vs_bkg"})[0]["rej30"]
    assert mixed["mean"] == 120.0 and mixed["limits"] == 1 and not mixed["lower_bound"]
    assert metric_cell(mixed, "rej30").startswith("120.0 ± 28.3") and "1 seed(s) only a limit" in metric_cell(mixed, "rej30")
    limits = aggregate(spec, {("m", s): run(v, True) for s, v in enumerate((900.0, 700.0, 800.0))},
                       {"rej30": "rej30_top_vs_bkg"})[0]["rej30"]
    assert limits["lower_bound"] and metric_cell(limits, "rej30").startswith("> 700.0 [")


def test_runs_made_in_worker_processes_equal_runs_made_one_after_another_and_a_failed_run_is_its_own_row(
        resumed_bench, top_jets_file, tmp_path):
    """The seed-0 runs again, one after another in this process, against the fixture's: those finished
    before the kill were made by the killed bench's worker processes; all must be bit-identical."""
    out, before, _ = resumed_bench
    by_workers = {name for name in before if name.endswith("-seed0.json")}
    assert by_workers, before  # the workers take the seed-0 runs first: at least one finished before the kill
    # the two models by their own seeds ([0]), as a full-size variant is run once; the broken one by the spec's
    spec_file = tiny_spec(tmp_path / "spec.yaml", top_jets_file, tmp_path / "again",
                          models=[{"name": "perceptron", "label": "broken", "args": {"no_such_argument": 1}},
                                  {"name": "perceptron", "seeds": [0]}, {"name": "mlp", "seeds": 1}], seeds=[0, 1])
    spec, _ = parse_spec(["--config", str(spec_file)])
    assert spec.workers == 1
    run_bench(spec)
    assert sorted(p.name for p in (tmp_path / "again" / "runs").iterdir()) == [
        "broken-seed0.json", "broken-seed1.json", "mlp-seed0.json", "perceptron-seed0.json"]
    for model in ("perceptron", "mlp"):
        again = json.loads((tmp_path / "again" / "runs" / f"{model}-seed0.json").read_text())
        first = json.loads((out / "runs" / f"{model}-seed0.json").read_text())
        assert again["key"] == first["key"]
        assert again["metrics"] == first["metrics"] and again["intervals"] == first["intervals"], by_workers
        a = store.read_predictions(store.predictions_path(tmp_path / "again", model, 0))
        b = store.read_predictions(store.predictions_path(out, model, 0))
        assert np.array_equal(a["logits"], b["logits"]) and np.array_equal(a["labels"], b["labels"]), by_workers
    broken = json.loads((tmp_path / "again" / "runs" / "broken-seed0.json").read_text())
    assert broken["status"] == "failed" and "no_such_argument" in broken["error"]
    md = (tmp_path / "again" / "leaderboard.md").read_text()
    assert "| broken | 0 | TypeError" in md and "| broken | 1 | TypeError" in md and "| mlp | 1/1 (one seed) |" in md


def test_spec_options_follow_jsonargparse_conventions(tmp_path, top_jets_file, capsys):
    spec_file = tiny_spec(tmp_path / "spec.yaml", top_jets_file, tmp_path / "out")
    spec, where = parse_spec(["--config", str(spec_file), "--seeds", "3", "--data.args.batch_size", "64", "--epochs=2"])
    assert (spec.seed_list, spec.data.args["batch_size"], spec.epochs, where) == ([0, 1, 2], 64, 2, str(spec_file))
    assert cli.main(["bench", "--config", str(spec_file), "--print_config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["seeds"] == 2 and printed["models"][1]["name"] == "mlp"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", "perceptron,mlp", "--max-epochs", "2"], "the old flags were replaced by a YAML spec: jetzoo bench --config"),
        (["--config", "nope.yaml"], "nope.yaml: no such spec file"),
        (["--config", "{spec}", "--epochs", "x"], "{spec}: Parser key \"epochs\""),
        (["--config", "{spec}", "--seeds", "0"], "{spec}: seeds must be"),
        (["--config", "{spec}", "--models", '[{"name": "mlp", "seeds": [1, 1]}]'], "{spec}: mlp: seeds must be"),
        (["--config", "{spec}", "--workers", "0"], "{spec}: workers must be at least 1"),
        (["--config", "{spec}", "--references", "nature"], "{spec}: references must be one of"),
        # bounds (issue 24 §3): a MemoryError, a bench without end, seeds every run then failed on
        (["--config", "{spec}", "--seeds", "1000000000000"], "{spec}: seeds: at most 1000 seeds"),
        (["--config", "{spec}", "--seeds", "[4294967296]"], "{spec}: seeds: a seed must be below 2**32"),
        (["--config", "{spec}", "--bootstrap_resamples", "1000000000000"], "{spec}: bootstrap_resamples must be between"),
        (["--config", "{spec}", "--timing_seconds", "-1"], "{spec}: timing_seconds must be between"),
        (["--config", "{spec}", "--epochs", "0"], "{spec}: epochs must be between 1 and"),
        (["--config", "{spec}", "--cpu_budget_hours", "-1"], "{spec}: cpu_budget_hours must be between 0.001 and"),
        (["--config", "{spec}", "--eval_jets", "0"], "{spec}: eval_jets must be between 100 and 10,000,000"),
        (["--config", "{spec}", "--val_jets", "0"], "{spec}: val_jets must be between 1 and 10,000,000"),
        (["--config", "{spec}", "--val_jets", "2048", "--trainer.kwargs", '{"limit_val_batches": 10}'],
         "{spec}: val_jets and trainer.kwargs.limit_val_batches both set how much validation a generator runs"),
        (["--config", "{spec}", "--workers", "100000"], "{spec}: workers must be at most"),
        (["--config", "{spec}", "--trainer.threads", "0"], "{spec}: trainer.threads must be between 1 and"),
        (["--config", "{spec}", "--models", '[{"name": "mlp", "args": {"body": {"class_path": "torch.nn.Linear"}}}]'],
         "{spec}: mlp: args names a class (torch.nn.Linear)"),
    ],
)
def test_bad_bench_input_is_one_line_exit_2(argv, message, tmp_path, top_jets_file, capsys):
    spec_file = str(tiny_spec(tmp_path / "spec.yaml", top_jets_file, tmp_path / "out"))
    argv = [a.replace("{spec}", spec_file) for a in argv]
    assert cli.main(["bench", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message.replace("{spec}", spec_file) in err[0], err


def test_holm_and_the_paired_bootstrap():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06})
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    good = np.c_[np.zeros(2000), 3.0 * (labels - 0.5) + rng.normal(size=2000)]
    bad = np.c_[np.zeros(2000), 0.3 * (labels - 0.5) + rng.normal(size=2000)]
    twin = good + rng.normal(scale=1e-3, size=good.shape)
    item = lambda z: {"logits": z, "labels": labels, "class_names": ["QCD", "top"], "background_classes": ["QCD"],
                      "signal_efficiencies": [0.5, 0.3]}  # noqa: E731
    runs = {"good": [item(good)], "bad": [item(bad)], "twin": [item(twin)]}
    for metric in ("auc", "rej30_top_vs_bkg"):
        result = paired_bootstrap(runs, metric, "good", True, n_resamples=300)
        assert result["bad"]["worse"] and result["bad"]["p_holm"] < 0.05
        assert not result["twin"]["worse"]
        # no resample favours the bad model: its p is the floor 2 / (R + 1), Holm x 2, and says so
        assert result["bad"]["at_floor"] and result["bad"]["p"] == pytest.approx(2 / 301)
        assert not result["twin"]["at_floor"]


def test_the_seed_level_welch_test_is_scipys_holm_corrected():
    from scipy.stats import ttest_ind

    from jetzoo.bench.significance import seed_welch

    per_seed = {"best": [0.981, 0.9808, 0.9805], "close": [0.9796, 0.9786, 0.9802], "far": [0.95, 0.951, 0.952],
                "one": [0.97]}
    p = seed_welch(per_seed, "best")
    assert set(p) == {"close", "far"}  # one seed: no test
    raw = {m: ttest_ind(per_seed["best"], per_seed[m], equal_var=False).pvalue for m in ("close", "far")}
    assert p == pytest.approx(holm(raw))
    assert p["far"] < 0.05 < p["close"]


def test_a_leaderboards_roc_curves_each_have_their_own_colour_and_line_style():
    from jetzoo.plots.figures import _pyplot, line_styles

    plt, _ = _pyplot()
    styles = line_styles(plt, 12)  # more models than the style's colour cycle (the leaderboard has 9)
    assert len(set(styles)) == 12


def test_plots_and_the_test_roc_of_a_checkpoint(tmp_path):
    from jetzoo.plots import bench_plots, checkpoint_roc
    from jetzoo.training.roc_callback import run_directory

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    runs = {m: [{"logits": np.c_[np.zeros(500), s * (labels - 0.5) + rng.normal(size=500)], "labels": labels,
                 "class_names": ["QCD", "top"], "background_classes": ["QCD"]} for _ in range(2)] for m, s in (("a", 2), ("b", 4))}
    paths = bench_plots(runs, tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["roc.pdf", "roc.png", "scores.pdf", "scores.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    logits = runs["a"][0]["logits"]
    written = checkpoint_roc(logits, labels, ["QCD", "top"], ["QCD"], tmp_path / "run")
    rows = (tmp_path / "run" / "roc.csv").read_text().splitlines()
    assert rows[0] == "eps_s,eps_b,rejection,threshold_log_odds" and len(rows) > 100
    assert [p.name for p in written] == ["roc.csv", "roc.png"]

    class Trainer:  # no logger, root left at the current directory: no run directory
        fast_dev_run, loggers, default_root_dir, log_dir = False, [], os.getcwd(), os.getcwd()

    assert run_directory(Trainer()) is None
    Trainer.default_root_dir = Trainer.log_dir = str(tmp_path)
    assert run_directory(Trainer()) == tmp_path
    Trainer.fast_dev_run = True
    assert run_directory(Trainer()) is None


def test_the_public_leaderboard_json_is_standard_json_with_null_for_nan(tmp_path):
    """A one-seed row's σ is NaN; `leaderboard.json` is read by other tools, and NaN is not JSON."""
    store.write_json(tmp_path / "board.json", {"std": float("nan"), "values": [np.float64("inf"), 1.5]}, strict=True)

    def refuse(constant):
        raise ValueError(f"not standard JSON: {constant}")

    assert json.loads((tmp_path / "board.json").read_text(), parse_constant=refuse) == {"std": None, "values": [None, 1.5]}
    store.write_json(tmp_path / "record.json", {"std": float("nan")})  # run records keep NaN for Python to read back
    assert np.isnan(json.loads((tmp_path / "record.json").read_text())["std"])


def test_a_bench_with_failed_runs_exits_1_and_lists_them_unless_failures_are_allowed(tmp_path, top_jets_file, capsys):
    """A bench whose every run failed exited 0 (issue 24 §3)."""
    spec_file = tiny_spec(tmp_path / "spec.yaml", top_jets_file, tmp_path / "out",
                          models=[{"name": "perceptron", "label": "broken", "args": {"no_such_argument": 1}}], seeds=[0])
    assert cli.main(["bench", "--config", str(spec_file), "--plots", "false"]) == 1
    err = capsys.readouterr().err
    assert "1 of 1 run(s) failed: broken seed 0: TypeError" in err and "Traceback" not in err
    assert cli.main(["bench", "--config", str(spec_file), "--plots", "false", "--allow_failures", "true"]) == 0
    assert "--allow_failures true: exit 0 all the same" in capsys.readouterr().err


def copied_bench(resumed_bench, tmp_path, edits: dict):
    """A copy of the finished bench with its records edited (`edits`: run file name -> function(record)), and a
    function running the real `jetzoo bench` on it (with extra flags) that returns its stderr."""
    import shutil

    out, _, _ = resumed_bench
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    for name, edit in edits.items():
        path = copy / "runs" / name
        record = json.loads(path.read_text())
        edit(record)
        path.write_text(json.dumps(record))
    spec = tiny_spec(tmp_path / "spec.yaml", json.loads((out / "spec.json").read_text())["data"]["args"]["path"], copy)

    def bench(*extra):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            assert cli.main(["bench", "--config", str(spec), *extra]) == 0, stderr.getvalue()[-2000:]
        return stderr.getvalue()

    return copy, bench


def test_a_run_made_by_other_code_is_kept_and_marked_stale_until_rerun_stale(resumed_bench, tmp_path):
    """Issue 23 §8: a run records the code that made it; one made by other code (a changed source, an older
    jetzoo that recorded none) is never silently mixed with new runs nor silently re-made."""
    from jetzoo.bench import code_version

    def changed_mlp(record):
        assert record["code"]["torch"] and "jetzoo.zoo.mlp" in record["code"]["modules"]
        assert "jetzoo.training.build" in record["code"]["modules"] and code_version.stale_reason(record) is None
        assert "jetzoo.bench.workers" not in record["code"]["module_sha256"]  # bookkeeping: see test_code_version.py
        record["code"]["module_sha256"]["jetzoo.zoo.mlp"] = "0" * 64  # as if jetzoo/zoo/mlp.py's code had changed

    copy, bench = copied_bench(resumed_bench, tmp_path, {"mlp-seed0.json": changed_mlp,
                                                         "perceptron-seed1.json": lambda r: r.pop("code")})
    kept = bench()
    assert "4 finished already, 0 to do" in kept and "2 finished run(s) were made by other code" in kept
    assert "the code of jetzoo.zoo.mlp has changed since" in kept and "did not record its code" in kept
    md = (copy / "leaderboard.md").read_text()
    assert "| mlp (stale) |" in md and "| perceptron (stale) |" in md and "--rerun_stale true" in md
    redone = bench("--rerun_stale", "true")
    assert "2 finished already, 2 to do" in redone and "mlp seed 0: training" in redone and "perceptron seed 1: training" in redone
    assert "(stale)" not in (copy / "leaderboard.md").read_text()


def test_a_run_trained_in_another_precision_is_tagged_beside_its_model_in_the_table(resumed_bench, tmp_path):
    """A model's `trainer_kwargs` precision (not float32) is shown in its row and explained under the table."""
    def bf16(record):
        assert record["precision"] == "32-true"
        record["precision"] = "bf16-mixed"  # as a run of `trainer_kwargs: {precision: bf16-mixed}` records it

    copy, bench = copied_bench(resumed_bench, tmp_path, {"mlp-seed0.json": bf16})
    assert "0 to do" in bench()
    md = (copy / "leaderboard.md").read_text()
    assert "| mlp (bf16-mixed) |" in md and "| perceptron |" in md
    assert "(bf16-mixed): the run trained in that precision (the model's `trainer_kwargs`)" in md
    assert "(bf16-mixed)" not in (resumed_bench[0] / "leaderboard.md").read_text()


def test_a_bench_to_convergence_records_epochs_best_epoch_cpu_time_and_the_validation_curve(top_jets_file, tmp_path):
    """Issue 23 §1: with `patience`, each run validates every epoch, stops after `patience` epochs without a
    lower validation loss (at most `epochs`), and tests the best epoch's weights."""
    import h5py

    out = tmp_path / "out"
    spec = tiny_spec(tmp_path / "spec.yaml", top_jets_file, out, seeds=1, epochs=12, patience=1, plots=True,
                     recipes=False, models=[{"name": "perceptron", "args": {"lr": 0.3}}, {"name": "mlp"}])
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert cli.main(["bench", "--config", str(spec)]) == 0, stderr.getvalue()[-3000:]
    for label in ("perceptron", "mlp"):
        record = json.loads((out / "runs" / f"{label}-seed0.json").read_text())
        curve, best = record["curve"], record["best_epoch"]
        assert [p["epoch"] for p in curve] == list(range(1, record["epochs_run"] + 1)) and record["epochs_run"] <= 12
        losses = [p["val_loss"] for p in curve]
        assert best == 1 + int(np.argmin(losses)) and record["cpu_s"] > 0 and record["precision"] == "32-true"
        assert record["epochs_run"] == 12 or record["epochs_run"] - best == 1  # patience 1: stopped one epoch after its best
        assert record["converged"] == converged(curve, best, 1, 12)
        with h5py.File(out / "predictions" / f"{label}-seed0.h5") as f:
            assert f["logits"].shape[0] == record["test_jets"]
    md = (out / "leaderboard.md").read_text()
    assert "epochs (best)" in md and "CPU-h/run" in md and (out / "plots" / "validation_loss.png").is_file()


def test_converged_means_the_fit_stopped_before_its_maximum_or_had_stopped_improving():
    curve = [{"epoch": e} for e in range(1, 11)]
    assert converged(curve[:6], best_epoch=3, patience=3, max_epochs=10)  # early stopping ended it
    assert not converged(curve, best_epoch=9, patience=3, max_epochs=10)  # hit 10, best at 9: still improving
    assert converged(curve, best_epoch=7, patience=3, max_epochs=10)  # 3 epochs without improvement by the end
    # a CPU budget that ends the fit (the anomaly bench) is a maximum too: best = last is still improving
    assert not converged(curve[:6], best_epoch=6, patience=3, max_epochs=10, budget_ended=True)
    assert converged(curve[:6], best_epoch=3, patience=3, max_epochs=10, budget_ended=True)
    assert converged(curve[:6], best_epoch=6, patience=3, max_epochs=10)  # without a budget: early stopping ended it


def test_a_bench_on_a_dask_cluster_equals_local_workers_and_retries_a_run_whose_worker_is_killed(
        resumed_bench, top_jets_file, tmp_path):
    """Issue 23 §5: `--scheduler tcp://...` on a 2-worker LocalCluster over TCP on 127.0.0.1. A worker is
    killed (SIGKILL) in its run, as soon as it has logged the attempt; its run is retried on a worker, every
    record is written once, and the predictions are bit-identical to those of the `workers: 2` bench
    (resumed_bench)."""
    import threading

    import h5py
    from distributed import Client, LocalCluster

    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", protocol="tcp",
                               dashboard_address=None, memory_limit=0)
    client = Client(cluster)
    out = tmp_path / "out"
    spec = tiny_spec(tmp_path / "spec.yaml", top_jets_file, out, seeds=1, scheduler=cluster.scheduler_address)
    result = {}
    bench = threading.Thread(target=lambda: result.update(code=cli.main(["bench", "--config", str(spec)])))
    try:
        bench.start()
        deadline, log = time.monotonic() + 120, out / "attempts.log"
        while time.monotonic() < deadline and not (log.is_file() and log.read_text().endswith("\n")):
            time.sleep(0.005)
        # the worker that logged the first attempt, killed at once: the attempt is logged just before its run starts
        # (reading the jets, building the Trainer, training: a second or more), so the kill lands inside it. A fixed
        # sleep before the kill did not: on a faster CPU both tiny runs had ended within it, and nothing was retried
        os.kill(int(log.read_text().split()[-1]), signal.SIGKILL)
        bench.join(300)
    finally:
        client.close()
        cluster.close()
    assert not bench.is_alive() and result.get("code") == 0
    attempts = (out / "attempts.log").read_text().splitlines()
    runs = [" ".join(line.split()[:3]) for line in attempts]
    assert sorted(set(runs)) == ["mlp seed 0", "perceptron seed 0"] and len(runs) >= 3, attempts  # a retry happened
    records = sorted(p.name for p in (out / "runs").glob("*.json"))
    assert records == ["mlp-seed0.json", "perceptron-seed0.json"]
    assert all(json.loads((out / "runs" / r).read_text())["status"] == "ok" for r in records)
    local, _, _ = resumed_bench
    for name in ("mlp-seed0.h5", "perceptron-seed0.h5"):
        with h5py.File(out / "predictions" / name) as a, h5py.File(local / "predictions" / name) as b:
            np.testing.assert_array_equal(a["logits"][:], b["logits"][:])


def test_a_models_own_trainer_options_reach_its_trainer_and_its_run_key_after_the_specs(tmp_path):
    from jetzoo.bench.resume import prepared_trainer

    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump({
        "models": [{"name": "mlp"}, {"name": "mlp", "label": "mlp-clipped", "trainer_kwargs": {"gradient_clip_val": 0.5}}],
        "data": {"name": "pythia", "args": {"path": "x.h5"}}, "trainer": {"kwargs": {"gradient_clip_val": 2.0}},
        "out": str(tmp_path / "out"),
    }))
    spec = parse_spec(["--config", str(spec_file)])[0]
    plain, clipped = spec.models
    assert spec.run_key(plain, 0, "data") != spec.run_key(clipped, 0, "data")
    assert prepared_trainer(spec, plain, 0, None, "p", [])[0].gradient_clip_val == 2.0
    assert prepared_trainer(spec, clipped, 0, None, "p", [])[0].gradient_clip_val == 0.5  # the model's own last
