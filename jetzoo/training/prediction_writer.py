"""Writes what `jetzoo predict` returns to HDF5: per-jet logits, class probabilities and truth labels.

Modules with their own output (generators) define `write_predictions(outputs, path)` and are
called instead; in a DDP run each process then writes its own part (`<name>.rank<k>.h5`).

A tagger's DDP predict writes the one file asked for, in the order a single process writes it: each
rank writes its jets with their dataset indices to a hidden part file, and rank 0 merges them by index
(the distributed sampler's padding, which repeats a few jets, dropped) and removes the parts. Before
(issue 24 §4) a 2-process predict left `scores.rank0.h5` and `scores.rank1.h5` and no `scores.h5`.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from jetzoo.io.files import atomic_write
from jetzoo.zoo.finite import raise_held


COLUMNS = {"logits": np.float32, "probs": np.float32, "label": np.int64, "index": np.int64}  # what a file may hold


def write_probabilities(outputs: list[dict[str, torch.Tensor]], path: str | Path, class_names: list[str],
                        index: np.ndarray | None = None) -> None:
    """`logits` (when the model's predict_step gives them), `probs` and `label`; `index` for a DDP part file."""
    arrays = {key: torch.cat([o[key] for o in outputs]).numpy() for key in COLUMNS if key in outputs[0]}
    write_arrays(path, {**arrays, **({} if index is None else {"index": index})}, class_names)


def write_arrays(path: Path, arrays: dict[str, np.ndarray], class_names: list[str]) -> None:
    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            for key, dtype in COLUMNS.items():
                if key in arrays:
                    f[key] = arrays[key].astype(dtype)
            f.attrs["class_names"] = list(class_names)

    # temp file + rename; a writer killed mid-write (kill -9) leaves `.<name>.tmp-<host>-<pid>`, which the
    # next write of the same file removes once that process is dead (jetzoo.io.files)
    atomic_write(Path(path), write)


def merge_rank_parts(parts: list[Path], path: Path, class_names: list[str]) -> int:
    """The ranks' part files as one file in dataset order, each jet once; the parts removed. Returns the jets."""
    columns: dict[str, list[np.ndarray]] = {}
    for part in parts:
        with h5py.File(part, "r") as f:
            for key in COLUMNS:
                if key in f:
                    columns.setdefault(key, []).append(f[key][:])
    index = np.concatenate(columns["index"])
    _, first = np.unique(index, return_index=True)  # sorted by dataset index; a padded repeat kept once
    write_arrays(path, {key: np.concatenate(values)[first] for key, values in columns.items() if key != "index"},
                 class_names)
    for part in parts:
        part.unlink()
    return len(first)


class JetPredictionWriter(BasePredictionWriter):
    def __init__(self, output_path: str = "predictions.h5"):
        super().__init__(write_interval="epoch")
        self.output_path = output_path

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices):
        raise_held(pl_module)  # under DDP a non-finite batch was skipped (None): nothing is written, on any rank
        if not predictions:
            return
        outputs = predictions[0] if isinstance(predictions[0], list) else predictions
        path = Path(self.output_path)
        names = getattr(pl_module, "class_names", [])
        if hasattr(pl_module, "write_predictions"):
            if trainer.world_size > 1:
                path = path.with_name(f"{path.stem}.rank{trainer.global_rank}{path.suffix}")
            pl_module.write_predictions(outputs, str(path))
        elif trainer.world_size == 1:
            write_probabilities(outputs, path, names)
        else:
            batches = batch_indices[0] if batch_indices and isinstance(batch_indices[0][0], list) else batch_indices
            index = np.concatenate([np.asarray(b, dtype=np.int64) for b in batches])
            parts = [path.with_name(f".{path.stem}.rank{k}{path.suffix}") for k in range(trainer.world_size)]
            write_probabilities(outputs, parts[trainer.global_rank], names, index=index)
            trainer.strategy.barrier("jetzoo-predictions-written")
            if trainer.is_global_zero:
                n = merge_rank_parts(parts, path, names)
                print(f"jetzoo: wrote {n} jets' predictions ({trainer.world_size} processes) to {path}")
            trainer.strategy.barrier("jetzoo-predictions-merged")
            return
        print(f"jetzoo: wrote {sum(len(o['label']) for o in outputs)} jets' predictions to {path}")
