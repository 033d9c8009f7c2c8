"""`jetzoo bench`: train and test several models on one dataset and write a leaderboard table.

    jetzoo bench --models perceptron,mlp,pfn --data pythia --data-arg n=70000 \
        --model-arg particlenet:config=lite --max-epochs 5 --out benchmarks/quality_table

Writes `<out>.md` (with the command that made it) and `<out>.csv`: accuracy, AUC,
1/eps_B at eps_S = 0.5 and 0.3 of the last non-background class (`headline_rejection`: against
the datamodule's background classes, or one-vs-rest without them; "> X" in the .md when it is a
lower bound, with `rej50_lower_bound` / `rej30_lower_bound` in the .csv), parameter count, and
training / inference jets per second on this machine.
"""

from __future__ import annotations

import csv
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from jetzoo.metrics import rejection_name
from jetzoo.registry import get_datamodule, get_model
from jetzoo.training import build, fit_and_test

COLUMNS = ["model", "params", "train_jets", "test_jets", "epochs", "acc", "auc", "rej50", "rej30", "train_jets_per_s", "infer_jets_per_s"]
CSV_COLUMNS = [*COLUMNS[:9], "rej50_lower_bound", "rej30_lower_bound", *COLUMNS[9:]]
REJECTION_COLUMNS = {"rej50": 0.5, "rej30": 0.3}


def headline_rejection(class_names: list[str], background_classes: list[str]) -> tuple[str, str]:
    """(signal class, convention) of the table's rejection columns: the last non-background class
    against the background classes, or the last class one-vs-rest when none is declared."""
    signals = [c for c in class_names if c not in background_classes]
    if background_classes and signals:
        return signals[-1], "vs_bkg"
    return class_names[-1], "vs_rest"


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_pairs(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key] = parse_value(value)
    return out


def inference_rate(model, loader) -> float:
    model.eval()
    n, start = 0, time.perf_counter()
    with torch.no_grad():
        for batch in loader:
            model(batch)
            n += len(batch["label"])
    return n / (time.perf_counter() - start)


def bench_model(name: str, data: str, data_kwargs: dict, model_kwargs: dict, max_epochs: int, seed: int) -> dict:
    model, datamodule = build(name, data, model_kwargs, data_kwargs)
    datamodule.view = model.input_view
    datamodule.setup("fit")
    start = time.perf_counter()
    metrics = fit_and_test(model, datamodule, max_epochs=max_epochs, seed=seed)
    fit_seconds = time.perf_counter() - start
    signal, convention = headline_rejection(model.class_names, datamodule.dims["background_classes"])
    rejections = {}
    for column, efficiency in REJECTION_COLUMNS.items():
        metric = "test/" + rejection_name(signal, efficiency, convention)
        rejections[column] = metrics.get(metric, float("nan"))
        rejections[f"{column}_lower_bound"] = bool(metrics.get(f"{metric}_lower_bound", 0.0))
    return {
        "model": name,
        "params": sum(p.numel() for p in model.parameters()),
        "train_jets": datamodule.split_sizes["train"],
        "test_jets": datamodule.split_sizes["test"],
        "epochs": max_epochs,
        "acc": metrics["test/acc"],
        "auc": metrics["test/auc"],
        **rejections,
        # fit time includes the per-epoch validation passes, so this is a lower bound
        "train_jets_per_s": datamodule.split_sizes["train"] * max_epochs / fit_seconds,
        "infer_jets_per_s": inference_rate(model, datamodule.test_dataloader()),
    }


def write_table(rows: list[dict], out: str, command: str) -> None:
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    fmt = {"acc": "{:.4f}", "auc": "{:.4f}", "rej50": "{:.1f}", "rej30": "{:.1f}", "train_jets_per_s": "{:.0f}", "infer_jets_per_s": "{:.0f}", "params": "{:,}"}
    lines = [
        f"Made by: `{command}`",
        f"on {torch.get_num_threads()} CPU thread(s), torch {torch.__version__}; jets/s include the data loader and,",
        "for training, the per-epoch validation passes.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [("> " if row.get(f"{c}_lower_bound") else "") + fmt.get(c, "{}").format(row[c]) for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    out_path.with_suffix(".md").write_text("\n".join(lines) + "\n")


def add_bench_arguments(parser) -> None:
    parser.add_argument("--models", required=True, help="comma-separated registry names")
    parser.add_argument("--data", default="pythia")
    parser.add_argument("--data-arg", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--model-arg", action="append", default=[], metavar="MODEL:KEY=VALUE")
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/leaderboard")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")


def run_bench_command(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    data_kwargs = parse_pairs(args.data_arg)
    per_model: dict[str, dict] = {}
    for item in args.model_arg:
        name, _, pair = item.partition(":")
        per_model.setdefault(name, {}).update(parse_pairs([pair]))
    names = args.models.split(",")
    # every name loads (and has the right Lightning type) before any training: a broken, clashing
    # or unknown plugin is the registry's one-line error now, not a traceback after the others ran
    for name in names:
        get_model(name)
    get_datamodule(args.data)
    rows = []
    for name in names:
        row = bench_model(name, args.data, data_kwargs, per_model.get(name, {}), args.max_epochs, args.seed)
        print(json.dumps(row), flush=True)
        rows.append(row)
    command = "jetzoo bench " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if sys.argv[1:2] == ["bench"] else "jetzoo bench"
    write_table(rows, args.out, command)
    print(Path(args.out).with_suffix(".md").read_text())
    return 0
