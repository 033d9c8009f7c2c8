"""`hl-csv`: jets as rows of a CSV file, high-level features plus a label column (the `hl` view only).

    j_pt,j_eta,j_mass,...,j_multiplicity,label
    512.3,0.41,171.8,...,48,top

Every column but the label column is a feature (a number). Labels are class names; the
classes are sorted by name unless `class_names` fixes their order. The file holds no
constituents, so the datamodule serves only the `hl` view (`supported_views`): the jets get one
all-padding constituent slot (p4 zero, mask false), which is what `JetTable` needs.

    python -m jetzoo_example_plugin.hl_csv jets.h5 jets.csv   # a `jetzoo generate` file -> CSV
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np

from jetzoo.datamodules.base import JetDataModule
from jetzoo.datamodules.table import JetTable
from jetzoo.errors import JetDataError


class HLCSVDataModule(JetDataModule):
    """CSV of high-level jet features with a label column (hl view only)."""

    supported_views: ClassVar[tuple[str, ...]] = ("hl",)

    def __init__(
        self, path: str | None = None, label_column: str = "label", class_names: list[str] | None = None, **kwargs
    ):
        super().__init__(path=path, **kwargs)
        self.label_column = label_column
        self.class_names = list(class_names) if class_names else None

    def read_table(self) -> JetTable:
        if not self.path:
            raise JetDataError("<no path>: the hl-csv datamodule needs --data.path FILE.csv")
        feature_names, hl, labels = read_csv(self.path, self.label_column)
        class_names = self.class_names or sorted(set(labels))
        unknown = sorted(set(labels) - set(class_names))
        if unknown:
            raise JetDataError(f"{self.path}: labels {unknown} are not among the classes {class_names}")
        n = len(labels)
        return JetTable(
            p4=np.zeros((n, 1, 4), np.float32),
            mask=np.zeros((n, 1), bool),
            labels=np.array([class_names.index(label) for label in labels], np.int64),
            class_names=class_names,
            source=str(self.path),
            hl=hl,
            hl_names=feature_names,
        )

    @classmethod
    def contract_sample(cls, directory: str | Path) -> dict:
        """Init kwargs building this datamodule on a small sample written into `directory`, for the
        registry-wide datamodule tests: the high-level features of 40 real generated jets."""
        from jetzoo.generate import ensure_generated

        jets = ensure_generated("top-landscape", n=40, seed=0, workers=1, progress=False)
        path = Path(directory) / "jets.csv"
        write_csv_from_generated(jets, path)
        return {"path": str(path), "batch_size": 8}


def read_csv(path: str, label_column: str) -> tuple[list[str], np.ndarray, list[str]]:
    """(feature names, features (N, F) float32, labels) of the CSV at `path`."""
    try:
        with open(path, newline="") as f:
            rows = [row for row in csv.reader(f) if row]
    except OSError as err:
        raise JetDataError(f"{path}: {err.strerror or err}") from err
    if not rows:
        raise JetDataError(f"{path}: empty file, expected a header line")
    header, body = rows[0], rows[1:]
    if label_column not in header:
        raise JetDataError(f"{path}: no '{label_column}' column (columns: {', '.join(header)})")
    label_at = header.index(label_column)
    features = [i for i in range(len(header)) if i != label_at]
    hl = np.zeros((len(body), len(features)), np.float32)
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise JetDataError(f"{path}: line {line} has {len(row)} values, the header has {len(header)}")
        try:
            hl[line - 2] = [float(row[i]) for i in features]
        except ValueError as err:
            raise JetDataError(f"{path}: line {line}: {err}") from err
    return [header[i] for i in features], hl, [row[label_at] for row in body]


def write_csv_from_generated(generated: str | Path, out: str | Path) -> Path:
    """Write the high-level features and class names of a `jetzoo generate` file as an hl-csv file."""
    from jetzoo.datamodules.readers import read_hls4ml

    table = read_hls4ml(str(generated))
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*table.hl_names, "label"])
        for features, label in zip(table.hl, table.labels):
            writer.writerow([*(f"{x:.7g}" for x in features), table.class_names[label]])
    return Path(out)


if __name__ == "__main__":  # python -m jetzoo_example_plugin.hl_csv jets.h5 jets.csv
    print(write_csv_from_generated(*sys.argv[1:3]))
