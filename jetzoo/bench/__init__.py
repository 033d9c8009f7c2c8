"""`jetzoo bench`: a leaderboard as a protocol. One YAML spec, every (model, seed) trained and tested
on the same fixed test set, each finished run written at once, a re-run resuming where it stopped.

    jetzoo bench --config benchmarks/leaderboard.yaml [--out DIR] [--seeds 3] [--epochs 5] [--print_config]

Options follow jsonargparse / LightningCLI conventions (`--config`, `--print_config`, dotted
overrides such as `--data.args.batch_size 128`); the spec is described in jetzoo.bench.spec. The
old flags (`--models a,b --data-arg k=v --max-epochs N`) are refused with a one-line error that
shows the new form.

Per run (model, seed), as soon as it finishes (jetzoo.bench.store): its test predictions in
`OUT/predictions/<label>-seed<k>.h5` (probabilities, logits, labels, class names), its record in
`OUT/runs/`, then `OUT/leaderboard.{md,csv,json}` rewritten; all atomically, so a bench killed
at any point (kill -9 included) and re-run redoes only the run it was in. A failed run is
recorded with its error, shown in its own row, and retried by the next re-run; the others are
kept. When every run is done, the paired-bootstrap significance (jetzoo.bench.significance)
fills the `vs best` column and the plots go to `OUT/plots/` (jetzoo.plots). Progress: one
stderr line per run start, epoch and finish. `workers: N` trains N runs at once, each in its own
process (jetzoo.bench.workers); the runs and their predictions are the same as one after another.

Also the published reference rows (`published`).

May import: `jetzoo.training`, `jetzoo.registry`, `jetzoo.zoo`, `jetzoo.datamodules`, `jetzoo.generate`,
`jetzoo.plots`, `jetzoo.metrics`, `jetzoo.physics`, `jetzoo.io`, `jetzoo.errors`. Never `jetzoo.cli` or `jetzoo.export`.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import asdict
from pathlib import Path

from jetzoo.bench import code_version, kept, store
from jetzoo.bench.console import quiet_bench_output, say
from jetzoo.bench.spec import REFERENCES, BenchSpec, DataSpec, ModelSpec, data_hash, parse_spec



def __getattr__(name: str):
    """The run machinery (Lightning, torch), imported on first use: `jetzoo bench` checks its spec first."""
    if name in ("DataCache", "bench_model"):
        from jetzoo.bench import runs

        return getattr(runs, name)
    if name in ("aggregate", "csv_text", "headline_columns", "headline_rejection", "markdown", "ranked"):
        from jetzoo.bench import table

        return getattr(table, name)
    if name == "finished_runs":
        from jetzoo.bench.workers import finished_runs

        return finished_runs
    raise AttributeError(f"module 'jetzoo.bench' has no attribute {name!r}")


# bumped when significance.json's results change shape, so an older cached file is recomputed
SIGNIFICANCE_FORMAT = 2

__all__ = ["BenchSpec", "DataSpec", "ModelSpec", "bench_model", "headline_rejection", "main", "run_bench", "run_bench_command"]


def main(argv: list[str]) -> int:
    """`jetzoo bench ...` (argv without 'bench'); UsageError / JetDataError / RegistryError propagate to the CLI."""
    if "--print_config" in argv or any(a.startswith("--print_config=") for a in argv) or "-h" in argv or "--help" in argv:
        from jetzoo.bench.spec import build_parser

        try:
            build_parser().parse_args(argv)  # prints the config (or the help) and exits, as in `fit`
        except SystemExit as done:
            return int(done.code or 0)
        return 0
    spec, where = parse_spec(argv)
    quiet_bench_output()
    command = "jetzoo bench " + " ".join(shlex.quote(a) for a in argv)
    out = run_bench(spec, command=command)
    print(Path(out, "leaderboard.md").read_text())
    failed = failed_runs(spec, out)
    if not failed:
        return 0
    total = sum(len(spec.seeds_of(m)) for m in spec.models)
    say(f"{len(failed)} of {total} run(s) failed: " + "; ".join(f"{label} seed {seed}: {error}" for label, seed, error in failed))
    if spec.allow_failures:
        say("--allow_failures true: exit 0 all the same; a re-run retries the failed runs")
        return 0
    return 1


def failed_runs(spec: BenchSpec, out: Path) -> list[tuple[str, int, str]]:
    """(label, seed, one-line error) of every run of `spec` whose record in `out` says it failed."""
    failed = []
    for model in spec.models:
        for seed in spec.seeds_of(model):
            record = store.read_record(store.record_path(out, spec.label(model), seed)) or {}
            if record.get("status") != "ok":
                failed.append((spec.label(model), seed, record.get("error", "no record")))
    return failed


def run_bench_command(args) -> int:
    """Programmatic entry with an argparse-style namespace of the old flags (models, data, data_arg,
    model_arg, max_epochs, seed, out): converted to a spec and run."""
    from jetzoo.bench.spec import TrainerSpec

    def pairs(items):
        out = {}
        for item in items:
            key, _, value = item.partition("=")
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                out[key] = value
        return out

    per_model: dict[str, dict] = {}
    for item in args.model_arg:
        name, _, pair = item.partition(":")
        per_model.setdefault(name, {}).update(pairs([pair]))
    spec = BenchSpec(
        models=[ModelSpec(n, per_model.get(n, {})) for n in args.models.split(",")],
        data=DataSpec(args.data, pairs(args.data_arg)), seeds=[args.seed], epochs=args.max_epochs,
        trainer=TrainerSpec(threads=args.threads), out=args.out,
    )
    run_bench(spec)
    return 0


def check_names(spec: BenchSpec) -> None:
    """Every model and the datamodule load (right Lightning type) before any training."""
    from jetzoo.registry import get_datamodule, get_model

    for model in spec.models:
        get_model(model.name)
    get_datamodule(spec.data.name)


def run_bench(spec: BenchSpec, command: str = "jetzoo bench") -> Path:
    """Every unfinished (model, seed) of `spec`, then the final table and plots; returns OUT."""
    import torch

    from jetzoo.bench.runs import DataCache
    from jetzoo.bench.table import headline_columns
    from jetzoo.bench.workers import finished_runs

    check_names(spec)
    if spec.trainer.threads:
        torch.set_num_threads(spec.trainer.threads)
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    data = DataCache(spec.data)
    dhash = data_hash(spec.data, data.manifest_sha256())
    dims = data.first().dims
    task = spec_task(spec)
    generation = task != "tagging"  # generative and anomaly boards: their own metrics and tables, no ranking test
    if task == "generation":  # the generative leaderboard (jetzoo.bench.generative)
        from jetzoo.bench.generative_table import COLUMNS as columns
    elif task == "anomaly":  # the anomaly-detection leaderboard (jetzoo.bench.anomaly): columns from the records
        columns = {}
    else:
        columns = headline_columns(dims["class_names"], dims.get("background_classes", []),
                                   dims.get("signal_efficiencies", (0.5, 0.3)))
    if not generation and spec.rank_by not in columns:
        from jetzoo.errors import UsageError

        raise UsageError(f"rank_by {spec.rank_by!r} is not a column of this data ({', '.join(columns)})")
    info = {"command": command, "data_hash": dhash, "torch": torch.__version__}
    store.write_json(out / "spec.json", asdict(spec))
    # seed-major: an interrupted bench has every model at its first seeds rather than the last models at none
    jobs = [(m, s) for s in sorted({s for m in spec.models for s in spec.seeds_of(m)}) for m in spec.models
            if s in spec.seeds_of(m)]
    records: dict[tuple[str, int], dict] = {}
    todo = []
    stale = []
    remake = []
    for model, seed in jobs:
        label, key = spec.label(model), spec.run_key(model, seed, dhash)
        record = store.read_record(store.record_path(out, label, seed))
        if record and record.get("key") == key and record.get("status") == "ok" and store.predictions_path(out, label, seed).is_file():
            reason = code_version.stale_reason(record)
            if reason and spec.rerun_stale:
                todo.append((model, seed, key))
                continue
            if reason:
                record["stale"] = reason  # shown in the table, never written back
                stale.append((f"{label} seed {seed}", reason))
            records[label, seed] = record
        else:
            todo.append((model, seed, key))
            if kept.kept_record(spec, model, seed, key):
                remake.append(f"{label} seed {seed}")
            if record and record.get("key") == key and record.get("status") == "failed":
                records[label, seed] = record  # shown until retried
    say(f"{len(jobs)} run(s): {len(jobs) - len(todo)} finished already, {len(todo)} to do; output in {out}")
    if remake:
        say(f"{len(remake)} of them finished before and have their weights but not their predictions: re-made from "
            f"the weights, not re-trained: {', '.join(remake)}")
    if stale:
        reasons = "; ".join(sorted({reason for _, reason in stale}))
        say(f"{len(stale)} finished run(s) were made by other code ({reasons}): kept and marked 'stale' in the "
            f"table; --rerun_stale true re-makes them: {', '.join(run for run, _ in stale)}")
    tables = {"generation": write_generative_tables, "anomaly": write_anomaly_tables}.get(task, write_tables)
    tables(spec, out, records, columns, info, significance=None)
    for model, seed, record in finished_runs(spec, todo, data):
        reason = record["status"] == "ok" and code_version.stale_reason(record)
        if reason:  # a kept stale run whose predictions were re-made
            record["stale"] = reason
        records[spec.label(model), seed] = record
        if record["status"] == "ok":
            named = columns or {k: k for k in record["metrics"] if k.startswith(("auc_", "baseline_auc_"))}
            shown = ", ".join(f"{c} {record['metrics'].get(n, float('nan')):.4g}" for c, n in named.items())
            say(f"{spec.label(model)} seed {seed}: done in {record['wall_s']:.1f} s: {shown}")
        tables(spec, out, records, columns, info, significance=None)
    if task == "anomaly":
        return out
    if generation:
        if spec.plots:
            for path in generative_plots(spec, out, records, data):
                say(f"plot: {path}")
        return out
    info["test_jets"] = next((r["test_jets"] for r in records.values() if r.get("status") == "ok"), "?")
    significance = final_significance(spec, out, records, columns)
    write_tables(spec, out, records, columns, info, significance)
    if spec.plots:
        from jetzoo.plots import bench_plots

        loaded = load_runs(spec, out, records)
        if loaded:
            for path in bench_plots(loaded, out / "plots", title=f"{spec.data.name}, {info['test_jets']} test jets"):
                say(f"plot: {path}")
        curves = {spec.label(m): [records[spec.label(m), s]["curve"] for s in spec.seeds_of(m)
                                  if records.get((spec.label(m), s), {}).get("curve")] for m in spec.models}
        curves = {label: seeds for label, seeds in curves.items() if seeds}
        if curves:
            from jetzoo.plots import plot_validation_curves

            for path in plot_validation_curves(curves, out / "plots" / "validation_loss", title=spec.data.name):
                say(f"plot: {path}")
    return out


def spec_task(spec: BenchSpec) -> str:
    """The one task of a spec's models: "tagging", "generation" or "anomaly" (one table, one protocol a bench)."""
    from jetzoo.errors import UsageError
    from jetzoo.registry import get_model

    tasks = {get_model(m.name).task for m in spec.models}
    if len(tasks) > 1:
        raise UsageError(f"the spec mixes {' and '.join(sorted(tasks))} models: one bench runs one kind (a tagging, "
                         "a generative or an anomaly-detection spec)")
    return tasks.pop()


def generative_plots(spec: BenchSpec, out: Path, records, data) -> list[Path]:
    """Real against each generator's first finished seed (MPGAN's figure), and validation W1M against CPU time."""
    import h5py
    import numpy as np

    from jetzoo.bench.generative import test_jets
    from jetzoo.plots.generated import plot_generated_distributions, plot_generator_curves

    samples, curves = {}, {}
    for model in spec.models:
        label = spec.label(model)
        done = [s for s in spec.seeds_of(model) if records.get((label, s), {}).get("status") == "ok"]
        if not done:
            continue
        curves[label] = [records[label, s]["curve"] for s in done if records[label, s].get("curve")]
        path = store.predictions_path(out, label, done[0])
        if path.is_file():
            with h5py.File(path) as f:
                particles = f["particle_features"][:]
            samples[label] = (particles[..., :3].astype(np.float64), particles[..., 3] > 0.5)
    paths = []
    if samples:
        cloud, mask, _ = test_jets(data.for_view("cloud"))
        title = f"{spec.data.name}, {', '.join(map(str, spec.data.args.get('classes') or []))}"
        paths += plot_generated_distributions((cloud[0::2], mask[0::2]), samples, out / "plots" / "distributions", title)
    curves = {k: v for k, v in curves.items() if v}
    if curves:
        paths += plot_generator_curves(curves, out / "plots" / "validation_w1m", spec.data.name)
    return paths


def write_generative_tables(spec: BenchSpec, out: Path, records, columns, info, significance) -> None:
    from jetzoo.bench import generative_table

    store.write_text(out / "leaderboard.md", generative_table.markdown(spec, records, info))
    store.write_json(out / "leaderboard.json", {
        "command": info["command"], "spec": asdict(spec), "data_hash": info["data_hash"], "columns": columns,
        "runs": [records[k] for k in sorted(records, key=lambda k: (k[0], k[1]))]})


def write_anomaly_tables(spec: BenchSpec, out: Path, records, columns, info, significance) -> None:
    from jetzoo.bench import anomaly_table

    store.write_text(out / "leaderboard.md", anomaly_table.markdown(spec, records, info))
    store.write_json(out / "leaderboard.json", {
        "command": info["command"], "spec": asdict(spec), "data_hash": info["data_hash"],
        "columns": anomaly_table.columns([r for r in records.values() if r.get("status") == "ok"]),
        "runs": [records[k] for k in sorted(records, key=lambda k: (k[0], k[1]))]})


def load_runs(spec: BenchSpec, out: Path, records) -> dict[str, list[dict]]:
    """label -> the predictions of its finished seeds (spec order), for significance and plots."""
    loaded = {}
    for model in spec.models:
        label = spec.label(model)
        items = []
        for seed in spec.seeds_of(model):
            if records.get((label, seed), {}).get("status") == "ok":
                p = store.read_predictions(store.predictions_path(out, label, seed))
                p["seed"] = seed
                p["signal_efficiencies"] = json.loads(p["attrs"].get("signal_efficiencies", "[0.5, 0.3]"))
                items.append(p)
        if items:
            loaded[label] = items
    return loaded


def final_significance(spec: BenchSpec, out: Path, records, columns) -> dict | None:
    """The paired-bootstrap test of every model against the best, cached by the runs it was made from."""
    from jetzoo.bench.significance import paired_bootstrap
    from jetzoo.bench.table import aggregate, ranked

    rows = aggregate(spec, records, columns)
    order = ranked(rows)
    with_runs = [r for r in order if "rank_value" in r]
    if len(with_runs) < 2:
        return {}
    best = with_runs[0]["model"]
    keys = sorted(r["key"] for r in records.values() if r.get("status") == "ok")
    cache_key = hashlib.sha256(json.dumps([SIGNIFICANCE_FORMAT, keys, spec.rank_by, spec.bootstrap_resamples, best]).encode()).hexdigest()[:16]
    cached = store.read_record(out / "significance.json")
    if cached and cached.get("cache_key") == cache_key:
        return with_seed_test(cached["results"], spec, with_runs, best)
    say(f"paired bootstrap of {len(with_runs) - 1} model(s) against {best} ({spec.bootstrap_resamples} resamples)")
    runs = load_runs(spec, out, records)
    try:
        results = paired_bootstrap(runs, columns[spec.rank_by], best, True, spec.bootstrap_resamples)
    except ValueError as err:
        say(f"no significance test: {err}")
        return None
    store.write_json(out / "significance.json", {"cache_key": cache_key, "best": best, "metric": columns[spec.rank_by],
                                                 "results": results})
    return with_seed_test(results, spec, with_runs, best)


def with_seed_test(results: dict, spec: BenchSpec, rows: list[dict], best: str) -> dict:
    """The paired-bootstrap results with each model's seed-level Welch p ("p_seeds_holm") added, from the
    aggregated rows' per-seed values of the ranking column."""
    from jetzoo.bench.significance import seed_welch

    seeds_p = seed_welch({row["model"]: row[spec.rank_by]["values"] for row in rows}, best)
    return {model: {**result, "p_seeds_holm": seeds_p.get(model, float("nan"))} for model, result in results.items()}


def write_tables(spec: BenchSpec, out: Path, records, columns, info, significance) -> None:
    from jetzoo.bench.table import aggregate, csv_text, markdown, ranked

    rows = aggregate(spec, records, columns)
    info = dict(info)
    ok = [r for r in records.values() if r.get("status") == "ok"]
    if ok:
        info.setdefault("test_jets", ok[0]["test_jets"])
        info["timing_batch"] = ok[0].get("timing_batch", "?")
    text = markdown(spec, rows, columns, info, significance)
    if spec.references:
        from jetzoo.bench import published as published_results

        dataset = getattr(published_results, REFERENCES[spec.references])
        text += "\n" + published_results.published_markdown(published_results.published_for(dataset))
    store.write_text(out / "leaderboard.md", text)
    store.write_text(out / "leaderboard.csv", csv_text(rows, columns, significance))
    store.write_json(out / "leaderboard.json", {
        "command": info["command"], "spec": asdict(spec), "data_hash": info["data_hash"], "columns": columns,
        "rank_by": spec.rank_by, "rows": ranked(rows), "significance": significance,
        "runs": [records[k] for k in sorted(records, key=lambda k: (k[0], k[1]))],
        "references": spec.references,
    }, strict=True)
