"""Readers for the public jet data formats; each returns a validated JetTable (docs/DESIGN.md section 2).

READERS maps a format name (the datamodule names of pyproject's entry points) to its reader.
"""

from jetzoo.datamodules.readers.hls4ml import read_hls4ml
from jetzoo.datamodules.readers.jetclass import read_jetclass
from jetzoo.datamodules.readers.jetnet import read_jetnet
from jetzoo.datamodules.readers.paths import expand_paths
from jetzoo.datamodules.readers.quark_gluon import read_quark_gluon
from jetzoo.datamodules.readers.top_tagging import read_top_tagging

READERS = {
    "hls4ml": read_hls4ml,
    "top-tagging": read_top_tagging,
    "jetclass": read_jetclass,
    "jetnet": read_jetnet,
    "quark-gluon": read_quark_gluon,
}

__all__ = [
    "READERS",
    "expand_paths",
    "read_hls4ml",
    "read_jetclass",
    "read_jetnet",
    "read_quark_gluon",
    "read_top_tagging",
]
