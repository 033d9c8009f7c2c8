"""Datamodules over the public jet datasets, each reading `--data.path` (a file, directory or glob)
in the format as it is published.

A format is declared once, in `jetzoo.datamodules.readers.READERS`; each class here only names
it (`format_name`, also its entry-point name in pyproject, checked by tests/test_datamodule_contract.py),
and the classes that are background in its published signal-vs-background rejection tables
(`background_classes`, jetzoo.metrics)."""

from __future__ import annotations

from jetzoo.datamodules import readers
from jetzoo.datamodules.base import JetDataModule
from jetzoo.datamodules.streaming import STREAM_CHUNK_JETS
from jetzoo.datamodules.table import JetTable
from jetzoo.errors import JetDataError


class FileDataModule(JetDataModule):
    """A datamodule whose jets come from files in one published format."""

    format_name = ""  # a key of `readers.READERS`, and the name of its entry point

    def read_file(self, path: str) -> JetTable:
        """The jets of `path` (a file, directory or glob), read by the format's registered reader."""
        reader = readers.READERS[self.format_name]
        return reader(path, **readers.reader_options(reader, self.allow_external))

    def chunk_reader(self, hl_only: bool = False):
        """Streams: the format's chunk iterator over `--data.path` (see StreamingMixin)."""
        if not self.path:
            raise JetDataError(f"<no path>: the {self.format_name} datamodule needs --data.path FILE|DIR|GLOB")
        iterate = readers.CHUNK_READERS[self.format_name]
        options = readers.reader_options(iterate, self.allow_external)
        if hl_only and self.format_name in readers.HL_ONLY_READERS:
            options["hl_only"] = True
        return (lambda path, select: iterate(path, STREAM_CHUNK_JETS, select, **options)), self.path

    def read_table(self) -> JetTable:
        if not self.path:
            raise JetDataError(f"<no path>: the {self.format_name} datamodule needs --data.path FILE|DIR|GLOB")
        return self.read_file(self.path)


class HLS4MLDataModule(FileDataModule):
    """hls4ml LHC jet dataset HDF5 (g, q, W, Z, t), and files written by `jetzoo generate`."""

    format_name = "hls4ml"
    background_classes = ("g", "q")


class TopTaggingDataModule(FileDataModule):
    """Top Tagging Reference dataset: pandas HDF5, key `table`, 200 particles (E, PX, PY, PZ)."""

    format_name = "top-tagging"
    background_classes = ("QCD",)


class JetClassDataModule(FileDataModule):
    """JetClass ROOT files (tree `tree`, `part_*`, `jet_*`, `label_*` branches)."""

    format_name = "jetclass"
    background_classes = ("QCD",)


class JetNetDataModule(FileDataModule):
    """JetNet HDF5 (`particle_features` etaRel, phiRel, ptRel, mask; `jet_features`)."""

    format_name = "jetnet"
    background_classes = ("g", "q")


class QuarkGluonDataModule(FileDataModule):
    """energyflow quark-gluon `.npz` (`X` = pt, y, phi, pid; `y` = 1 for quark)."""

    format_name = "quark-gluon"
    background_classes = ("g",)  # energyflow labels quarks 1: quark is the signal
