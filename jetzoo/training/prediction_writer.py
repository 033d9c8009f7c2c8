"""Writes what `jetzoo predict` returns to HDF5: per-jet class probabilities and truth labels.

Modules with their own output (generators) define `write_predictions(outputs, path)` and are
called instead. Each process writes its own part (`<name>.rank<k>.h5`) in a DDP run.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from jetzoo.io.files import atomic_write


def write_probabilities(outputs: list[dict[str, torch.Tensor]], path: str | Path, class_names: list[str]) -> None:
    probs = torch.cat([o["probs"] for o in outputs]).numpy()
    labels = torch.cat([o["label"] for o in outputs]).numpy()

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            f["probs"] = probs.astype(np.float32)
            f["label"] = labels.astype(np.int64)
            f.attrs["class_names"] = list(class_names)

    # temp file + rename; a writer killed mid-write (kill -9) leaves `.<name>.tmp-<host>-<pid>`, which the
    # next write of the same file removes once that process is dead (jetzoo.io.files)
    atomic_write(Path(path), write)


class JetPredictionWriter(BasePredictionWriter):
    def __init__(self, output_path: str = "predictions.h5"):
        super().__init__(write_interval="epoch")
        self.output_path = output_path

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices):
        if not predictions:
            return
        outputs = predictions[0] if isinstance(predictions[0], list) else predictions
        path = Path(self.output_path)
        if trainer.world_size > 1:
            path = path.with_name(f"{path.stem}.rank{trainer.global_rank}{path.suffix}")
        if hasattr(pl_module, "write_predictions"):
            pl_module.write_predictions(outputs, str(path))
        else:
            write_probabilities(outputs, path, getattr(pl_module, "class_names", []))
        print(f"jetzoo: wrote {sum(len(o['label']) for o in outputs)} jets' predictions to {path}")
