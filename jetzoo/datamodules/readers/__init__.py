"""Readers for the public jet data formats (docs/DESIGN.md section 2).

Each format has `iter_<format>(path, chunk_size)`, yielding validated JetTables of at most
`chunk_size` jets file after file, and `read_<format>(path)`, their concatenation.
READERS maps a format name (the datamodule names of pyproject's entry points) to its reader,
CHUNK_READERS to its chunk iterator. The formats in HL_ONLY_READERS store high-level features and
can stream them without the constituents (`hl_only=True`, the hl view).
"""

from jetzoo.datamodules.readers.hls4ml import iter_hls4ml, read_hls4ml
from jetzoo.datamodules.readers.jetclass import iter_jetclass, read_jetclass
from jetzoo.datamodules.readers.jetnet import iter_jetnet, read_jetnet
from jetzoo.datamodules.readers.paths import DEFAULT_CHUNK_SIZE, expand_paths, reader_options
from jetzoo.datamodules.readers.quark_gluon import iter_quark_gluon, read_quark_gluon
from jetzoo.datamodules.readers.top_tagging import iter_top_tagging, read_top_tagging

READERS = {
    "hls4ml": read_hls4ml,
    "top-tagging": read_top_tagging,
    "jetclass": read_jetclass,
    "jetnet": read_jetnet,
    "quark-gluon": read_quark_gluon,
}

CHUNK_READERS = {
    "hls4ml": iter_hls4ml,
    "top-tagging": iter_top_tagging,
    "jetclass": iter_jetclass,
    "jetnet": iter_jetnet,
    "quark-gluon": iter_quark_gluon,
}

HL_ONLY_READERS = {"hls4ml"}

__all__ = [
    "CHUNK_READERS",
    "HL_ONLY_READERS",
    "DEFAULT_CHUNK_SIZE",
    "READERS",
    "expand_paths",
    "reader_options",
    "iter_hls4ml",
    "iter_jetclass",
    "iter_jetnet",
    "iter_quark_gluon",
    "iter_top_tagging",
    "read_hls4ml",
    "read_jetclass",
    "read_jetnet",
    "read_quark_gluon",
    "read_top_tagging",
]
