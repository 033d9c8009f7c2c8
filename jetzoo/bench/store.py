"""What a bench writes, each file atomically (a temp file beside it, then os.replace).

    OUT/runs/<label>-seed<k>.json         one record per run: key, status, metrics, timings (or error)
    OUT/predictions/<label>-seed<k>.h5    probs, logits, labels (+ class names, background classes)
    OUT/models/<label>-seed<k>.pt         the weights the run tested (its best epoch): committed with the record
    OUT/leaderboard.{md,csv,json}         rewritten after every run
    OUT/plots/                            ROC and score plots, when the bench ends

A run is finished when its record says "ok", its key matches the spec's, and its predictions
exist: the predictions are written before the record, so a bench killed in between redoes
only that run. The predictions are large and not committed; the tested weights are small and are.
A finished run whose predictions are gone (a fresh clone, another machine) has them re-made from
its weights, not re-trained (jetzoo.bench.kept), so a clone rebuilds every table and plot.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from jetzoo.io.files import atomic_write


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def write_json(path: Path, obj, strict: bool = False) -> None:
    """`obj` as JSON. `strict`: standard JSON for other tools, a NaN or infinity written as null (a
    one-seed row's σ, a metric of a class absent from the test set); the run records keep NaN,
    which Python's json reads back as a float."""
    if strict:
        obj = _finite_or_null(json.loads(json.dumps(obj, default=_json_default)))
    write_text(path, json.dumps(obj, indent=1, sort_keys=False, default=_json_default, allow_nan=not strict) + "\n")


def _finite_or_null(obj):
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite_or_null(v) for v in obj]
    return obj


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def run_name(label: str, seed: int) -> str:
    return f"{label}-seed{seed}"


def record_path(out: Path, label: str, seed: int) -> Path:
    return Path(out) / "runs" / f"{run_name(label, seed)}.json"


def predictions_path(out: Path, label: str, seed: int) -> Path:
    return Path(out) / "predictions" / f"{run_name(label, seed)}.h5"


def model_path(out: Path, label: str, seed: int) -> Path:
    return Path(out) / "models" / f"{run_name(label, seed)}.pt"


def write_model(path: Path, model, attrs: dict) -> None:
    """The weights a run tested (its state_dict, on the CPU) and `attrs` (run key, model, seed), as data:
    read back with `torch.load(weights_only=True)` (jetzoo.io.checkpoints)."""
    from jetzoo.io.checkpoints import save_checkpoint_atomically

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    save_checkpoint_atomically({"state_dict": state, "jetzoo_bench": dict(attrs)}, path)


def read_model(path: Path) -> dict:
    """{"state_dict", "jetzoo_bench"} of a kept run's weights (a one-line CheckpointError if unreadable)."""
    from jetzoo.io.checkpoints import load_checkpoint_file

    return load_checkpoint_file(path)


def _write_run_arrays(path: Path, arrays: dict[str, np.ndarray], labels, class_names, background_classes,
                      attrs: dict) -> None:
    """One run's per-jet arrays, its labels, class names and attributes, in one HDF5 file written atomically."""

    def write(tmp: Path):
        with h5py.File(tmp, "w") as f:
            for name, values in arrays.items():
                f.create_dataset(name, data=values)
            f.create_dataset("labels", data=np.asarray(labels, dtype=np.int64))
            f.attrs["class_names"] = json.dumps(list(class_names))
            f.attrs["background_classes"] = json.dumps(list(background_classes))
            for k, v in attrs.items():
                f.attrs[k] = v if isinstance(v, (int, float, str)) else json.dumps(v)

    atomic_write(path, write)


def write_predictions(path: Path, logits: np.ndarray, labels: np.ndarray, class_names, background_classes, attrs: dict) -> None:
    logits = np.asarray(logits, dtype=np.float32)
    _write_run_arrays(path, {"logits": logits, "probs": torch_softmax(logits)}, labels, class_names,
                      background_classes, attrs)


def write_scores(path: Path, scores: np.ndarray, labels: np.ndarray, class_names, background_classes, attrs: dict) -> None:
    """An anomaly detector's test scores (higher: more anomalous) and the jets' labels."""
    _write_run_arrays(path, {"scores": np.asarray(scores, dtype=np.float64)}, labels, class_names, background_classes,
                      attrs)


def torch_softmax(logits: np.ndarray) -> np.ndarray:
    """float32 probabilities as the model's predict_step gives them (metrics use the logits)."""
    import torch

    return torch.from_numpy(logits).float().softmax(-1).numpy()


def read_predictions(path: Path) -> dict:
    """logits (float32 as written), probs, labels, class_names, background_classes and the attrs."""
    with h5py.File(path, "r") as f:
        out = {k: f[k][()] for k in ("logits", "probs", "labels")}
        attrs = dict(f.attrs)
    out["class_names"] = json.loads(attrs.pop("class_names"))
    out["background_classes"] = json.loads(attrs.pop("background_classes"))
    out["attrs"] = attrs
    return out


def read_record(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
