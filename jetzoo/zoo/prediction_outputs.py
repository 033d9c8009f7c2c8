"""What the anomaly detectors' and the generators' `write_predictions` take from Lightning's predict loop:
the per-batch outputs joined into arrays, and the file they are written to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


def flatten_outputs(outputs) -> list[dict]:
    """predict outputs are a list per batch, or a list of such lists with several dataloaders."""
    flat = []
    for item in outputs:
        flat.extend(flatten_outputs(item) if isinstance(item, (list, tuple)) else [item])
    return flat


def concat_outputs(outputs) -> dict[str, np.ndarray]:
    flat = flatten_outputs(outputs)
    if not flat:
        raise ValueError("no predictions to write (the predict dataloader was empty)")
    return {k: torch.cat([o[k].detach().cpu() for o in flat]).numpy() for k in flat[0]}


def output_file(path: str | Path, default_name: str) -> Path:
    """`path` ending in .h5/.hdf5 is the file; anything else is a directory to write `default_name` in."""
    path = Path(path)
    if path.suffix.lower() not in (".h5", ".hdf5"):
        path = path / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
