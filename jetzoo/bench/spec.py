"""The bench spec: one YAML file (or dotted flags) parsed by jsonargparse, as `jetzoo fit` parses its.

    models:                      # registry short names, each with its __init__ arguments
      - name: mlp
      - name: particlenet
        label: particlenet-lite  # the row's name and the predictions' file name (default: name)
        args: {config: lite}
      - name: part
        seeds: 1                 # a model's own seeds: a full-size variant once; its row says "one seed"
    data:                        # a registry datamodule and its __init__ arguments
      name: pythia
      args: {path: jets.h5, batch_size: 256}
    seeds: 3                     # 3 -> seeds 0, 1, 2; or a list, [0, 5]
    epochs: 5
    trainer: {threads: 2, kwargs: {gradient_clip_val: 1.0}}
    workers: 1                   # runs at once, each its own process on trainer.threads threads
    references: top-tagging      # optional: published rows appended as their own section
    out: benchmarks/leaderboard  # --out on the command line wins

The test set is the data's test split: a hash of each jet's identity and the data's `seed`
(jetzoo.datamodules.jet_identity), so the same spec always tests on the same jets, in the same
order. Training is seeded by the run's seed (weights, data order), on `trainer.threads` intra-op
threads: the same spec gives bit-identical predictions and metric columns; only timings vary.

A run is (model, seed). Its key hashes everything that decides its predictions: the model's
name and arguments, the seed, the epochs, the trainer options and the data (`data_hash`: the
datamodule's name and arguments and the manifest hash of the jets it reads). A finished run
whose key matches is never redone.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from jetzoo.errors import UsageError

REFERENCES = {"top-tagging": "TOP_TAGGING", "jetclass": "JETCLASS", "hls4ml": "HLS4ML_150P"}
# bounds of the spec's numbers: what a leaderboard can use, so a typo is an error rather than a run without end
MAX_SEEDS = 1000
MAX_WORKERS = 256
MAX_THREADS = 1024
BOUNDS = (  # (field, lowest, highest)
    ("epochs", 1, 100_000),
    ("patience", 1, 100_000),
    ("bootstrap_resamples", 10, 100_000),
    ("timing_seconds", 0.01, 600.0),
    ("cpu_budget_hours", 0.001, 10_000.0),
    ("eval_jets", 100, 10_000_000),  # jetzoo.metrics.generated.MIN_JETS: fewer and the metrics' batches are empty
    ("val_jets", 1, 10_000_000),
)
LEGACY_FLAGS = ("--data-arg", "--model-arg", "--max-epochs", "--seed")


@dataclass
class ModelSpec:
    """One model of the leaderboard: a registry short name and its __init__ arguments."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    label: Optional[str] = None  # the row name (default: `name`); must be unique in the spec
    seeds: Union[int, list[int], None] = None  # this model's own seeds (a full-size variant: 1); default the spec's
    recipe: Optional[str] = None  # its training recipe (jetzoo/training/recipes/); default the model's own, "none" for none
    epochs: Optional[int] = None  # this model's most epochs (default: its recipe's, else the spec's `epochs`)
    data_args: dict[str, Any] = field(default_factory=dict)  # data options for this model only (after its recipe's)
    trainer_kwargs: dict[str, Any] = field(default_factory=dict)  # its own Trainer options, over the spec's (precision)


@dataclass
class DataSpec:
    """The datamodule (registry short name) and its __init__ arguments; its test split is the test set."""

    name: str = "pythia"
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainerSpec:
    """`threads`: torch intra-op threads (fixed, so results are bit-identical); `kwargs`: more Trainer options."""

    threads: Optional[int] = 1
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingPlan:
    """What a bench run of one model trains with (BenchSpec.training_plan)."""

    recipe: Any  # jetzoo.training.recipes.Recipe or None
    model_args: dict
    data_args: dict
    max_epochs: int
    patience: Optional[int]


@dataclass
class BenchSpec:
    models: list[ModelSpec]
    data: DataSpec = field(default_factory=DataSpec)
    seeds: Union[int, list[int]] = 3
    epochs: int = 5  # the most epochs a run may train (with recipes: the cap of each recipe's own maximum)
    patience: Optional[int] = None  # to convergence: stop after this many epochs without a lower val loss (None: `epochs` exactly)
    recipes: bool = True  # train each model with its recipe (jetzoo.training.recipes); false: the spec's own settings
    trainer: TrainerSpec = field(default_factory=TrainerSpec)
    rank_by: str = "auc"  # acc, auc or rej<E> (e.g. rej30): the ranking and the significance test
    bootstrap_resamples: int = 1000  # median run's interval and the paired significance test
    timing_seconds: float = 0.5  # how long each throughput measurement runs after warm-up
    references: Optional[str] = None  # top-tagging | jetclass | hls4ml: published rows, a separate section
    plots: bool = True
    out: str = "bench"
    workers: int = 1  # runs trained at once, each in its own process on trainer.threads threads (not in the run key)
    allow_failures: bool = False  # exit 0 although some runs failed (they are listed either way; not in the run key)
    rerun_stale: bool = False  # re-make finished runs made by other code (jetzoo.bench.code_version); else kept, marked
    scheduler: Optional[str] = None  # runs as Dask tasks: tcp://HOST:PORT or local:N (jetzoo.bench.dask_runner; not in the key)
    cpu_budget_hours: Optional[float] = None  # generators (1.5) and anomaly detectors (none): each run's training CPU time
    eval_jets: Optional[int] = None  # generators: N of the metrics, at most (jetzoo.bench.generative; 50,000)
    val_jets: Optional[int] = None  # generators: validation jets a W1M point samples, at least (the whole split)

    @property
    def seed_list(self) -> list[int]:
        return seed_list(self.seeds)

    def seeds_of(self, model: ModelSpec) -> list[int]:
        """The model's own seeds if it has them (e.g. one for a full-size variant), else the spec's."""
        return self.seed_list if model.seeds is None else seed_list(model.seeds)

    def label(self, model: ModelSpec) -> str:
        return model.label or model.name

    def run_key(self, model: ModelSpec, seed: int, data_hash: str) -> str:
        """What decides a run's predictions, hashed (see the module docstring)."""
        payload = {
            "model": model.name, "args": model.args, "seed": seed, "epochs": self.epochs,
            "trainer": asdict(self.trainer), "data": data_hash,
        }
        if self.patience is not None:  # absent from the fixed-epochs runs' keys, which stay as they were
            payload["patience"] = self.patience
        if self.cpu_budget_hours is not None or self.eval_jets is not None:  # the generators' protocol
            payload.update(cpu_budget_hours=self.cpu_budget_hours, eval_jets=self.eval_jets)
        if self.val_jets is not None:  # absent from the older keys
            payload["val_jets"] = self.val_jets
        plan = self.training_plan(model)
        if plan.recipe is not None or model.epochs is not None or model.data_args:  # absent from the older keys too
            payload.update(recipe=plan.recipe and {"name": plan.recipe.name, "sha256": plan.recipe.sha256},
                           model_epochs=model.epochs, model_data_args=model.data_args)
        if model.trainer_kwargs:  # absent from the older keys too
            payload["model_trainer_kwargs"] = model.trainer_kwargs
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def training_plan(self, model: ModelSpec) -> "TrainingPlan":
        """How `model` trains: its recipe (unless `recipes` is false or its recipe is "none"), merged model and
        data arguments, the most epochs and the patience (at least the spec's, or 3, or the recipe's if larger)."""
        from jetzoo.registry import get_model
        from jetzoo.training.recipes import default_recipe, load_recipe

        name = model.recipe or (default_recipe(get_model(model.name)) if self.recipes else None)
        recipe = load_recipe(name) if name and name != "none" and self.recipes else None
        if recipe is None:
            return TrainingPlan(None, dict(model.args), dict(model.data_args), model.epochs or self.epochs, self.patience)
        patience = max(self.patience or 3, recipe.patience or 0)
        epochs = model.epochs or min(recipe.max_epochs or self.epochs, self.epochs)  # the spec's `epochs` caps all
        return TrainingPlan(recipe, {**recipe.model_args, **model.args}, {**recipe.data_args, **model.data_args},
                            epochs, patience)


def parse_scheduler(scheduler: str) -> tuple[str | None, int]:
    """`scheduler`: ("tcp://HOST:PORT", 0) for a running Dask scheduler, or (None, N) for "local:N"; UsageError otherwise."""
    if scheduler.startswith("local:"):
        count = scheduler.partition(":")[2]
        if not count.isdigit() or not 1 <= int(count) <= MAX_WORKERS:
            raise UsageError(f"--scheduler {scheduler}: local:N needs N between 1 and {MAX_WORKERS} worker processes")
        return None, int(count)
    if scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        return scheduler, 0
    raise UsageError(f"--scheduler {scheduler}: expected tcp://HOST:PORT (a running Dask scheduler) or local:N")


def seed_list(seeds: Union[int, list[int]]) -> list[int]:
    """3 -> [0, 1, 2]; a list as it is."""
    return list(range(seeds)) if isinstance(seeds, int) else list(seeds)


def data_hash(spec: DataSpec, manifest_sha256: str | None) -> str:
    payload = {"name": spec.name, "args": spec.args, "manifest": manifest_sha256}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_parser():
    from jsonargparse import ActionConfigFile, ArgumentParser

    parser = ArgumentParser(
        prog="jetzoo bench",
        exit_on_error=False,
        description="Train and test every (model, seed) of a spec and write a leaderboard; resumable.",
    )
    parser.add_argument("--config", action=ActionConfigFile, help="the bench spec (YAML)")
    parser.add_class_arguments(BenchSpec, nested_key=None, as_group=False)
    return parser


def legacy_error(argv: list[str]) -> str | None:
    """The one-line message for the old flags (`--models a,b --data-arg k=v --max-epochs N`), else None."""
    old = [a.split("=")[0] for a in argv if a.split("=")[0] in LEGACY_FLAGS]
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        if flag == "--models":
            value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
            if re.fullmatch(r"[\w\-.]+(,[\w\-.]+)*", value or ""):
                old.append(f"--models {value}")
    if not old:
        return None
    return (
        f"{', '.join(old)}: the old flags were replaced by a YAML spec: jetzoo bench --config SPEC.yaml "
        "[--out DIR] [--seeds 3] [--epochs 5] (models: [{name: mlp, args: {...}}], data: {name: pythia, "
        "args: {...}}; see benchmarks/leaderboard.yaml)"
    )


def parse_spec(argv: list[str]):
    """(BenchSpec, the parser's namespace, the spec file named by --config or None); UsageError on bad input."""
    from jsonargparse import ArgumentError

    message = legacy_error(argv)
    if message:
        raise UsageError(message)
    parser = build_parser()
    config_files = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--config"]
    config_files += [a.partition("=")[2] for a in argv if a.startswith("--config=")]
    where = config_files[-1] if config_files else "command line"
    for path in config_files:
        if not Path(path).is_file():
            raise UsageError(f"{path}: no such spec file")
    try:
        cfg = parser.parse_args(argv)
    except ArgumentError as err:
        from jetzoo.errors import one_line_parser_error

        raise UsageError(f"{where}: {one_line_parser_error(str(err), sorted(parser._option_string_actions))}") from err
    cfg.pop("config", None)
    spec = parser.instantiate(cfg)
    spec = BenchSpec(**{k: spec[k] for k in spec.keys() if "." not in k})
    check_spec(spec, where)
    return spec, where


def check_spec(spec: BenchSpec, where: str) -> None:
    """One-line UsageError (naming the spec) for a spec that cannot run."""
    if not spec.models:
        raise UsageError(f"{where}: no models")
    labels = [spec.label(m) for m in spec.models]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise UsageError(f"{where}: model label(s) {', '.join(dup)} appear twice; give each a distinct `label`")
    bad = [x for x in labels if not re.fullmatch(r"[\w\-.]+", x)]
    if bad:
        raise UsageError(f"{where}: model label {bad[0]!r} must be letters, digits, '-', '_' or '.' (it names files)")
    for owner, seeds in (("seeds", spec.seeds), *((f"{spec.label(m)}: seeds", m.seeds) for m in spec.models if m.seeds is not None)):
        if isinstance(seeds, int) and seeds > MAX_SEEDS or isinstance(seeds, list) and len(seeds) > MAX_SEEDS:
            raise UsageError(f"{where}: {owner}: at most {MAX_SEEDS} seeds, got {seeds if isinstance(seeds, int) else len(seeds)}")
        listed = seed_list(seeds)
        if not listed or len(set(listed)) != len(listed) or min(listed) < 0:
            raise UsageError(f"{where}: {owner} must be a positive count or a list of distinct non-negative seeds, got {seeds}")
        if max(listed) >= 2**32:
            raise UsageError(f"{where}: {owner}: a seed must be below 2**32 (numpy's and Lightning's limit), got {max(listed)}")
    for owner, args in ((f"{spec.label(m)}: args", m.args) for m in spec.models):
        named = _class_paths(args)
        if named:
            raise UsageError(f"{where}: {owner} names a class ({named[0]}); a model's args are its own plain values "
                             "(numbers, strings, lists), not classes")
    if _class_paths(spec.data.args):
        raise UsageError(f"{where}: data: args names a class ({_class_paths(spec.data.args)[0]}); give plain values")
    for name, low, high in BOUNDS:
        value = getattr(spec, name)
        if value is not None and not low <= value <= high:  # None: an optional number left out (patience)
            shown = (f"{x:,}" if isinstance(x, int) else f"{x:g}" for x in (low, high))
            raise UsageError(f"{where}: {name} must be between {next(shown)} and {next(shown)}, got {value}")
    if not re.fullmatch(r"acc|auc|rej[0-9.]+", spec.rank_by):
        raise UsageError(f"{where}: rank_by must be acc, auc or rej<E> (e.g. rej30), got {spec.rank_by!r}")
    if spec.references is not None and spec.references not in REFERENCES:
        raise UsageError(f"{where}: references must be one of {', '.join(REFERENCES)}, got {spec.references!r}")
    if spec.trainer.threads is not None and not 1 <= spec.trainer.threads <= MAX_THREADS:
        raise UsageError(f"{where}: trainer.threads must be between 1 and {MAX_THREADS}, got {spec.trainer.threads}")
    if spec.scheduler is not None:
        try:
            parse_scheduler(spec.scheduler)
        except UsageError as err:
            raise UsageError(f"{where}: {err}") from None
    if spec.val_jets is not None and "limit_val_batches" in spec.trainer.kwargs:
        raise UsageError(f"{where}: val_jets and trainer.kwargs.limit_val_batches both set how much validation a "
                         "generator runs: give one")
    if spec.workers < 1:
        raise UsageError(f"{where}: workers must be at least 1, got {spec.workers}")
    if spec.workers > MAX_WORKERS:
        raise UsageError(f"{where}: workers must be at most {MAX_WORKERS} (runs trained at once on this machine), got {spec.workers}")


def _class_paths(value) -> list[str]:
    """The class paths named anywhere inside spec args (a `class_path` key, or what jsonargparse made of one)."""
    if isinstance(value, dict) or hasattr(value, "__dict__") and "class_path" in vars(value):
        items = value.items() if isinstance(value, dict) else vars(value).items()
        found = [str(v) for k, v in items if k == "class_path"]
        return found + [c for _, v in items for c in _class_paths(v)]
    if isinstance(value, (list, tuple)):
        return [c for v in value for c in _class_paths(v)]
    return []
