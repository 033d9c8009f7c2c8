"""Turn a reader's `path` argument (a file, a directory, a glob, or a list of these) into files."""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from jetzoo.datamodules.jet_identity import Source, row_ids
from jetzoo.io.files import file_sha256
from jetzoo.datamodules.table import JetTable
from jetzoo.errors import JetDataError

GLOB_CHARACTERS = set("*?[")
DEFAULT_CHUNK_SIZE = 65536  # jets per chunk: bounds the memory a read needs beyond its result


def expand_paths(path: str | Path | Iterable[str | Path], suffixes: Iterable[str]) -> list[Path]:
    """Files named by `path`, sorted; a directory contributes its files ending in one of `suffixes`.

    A plain file is returned whatever its suffix (the reader then decides whether it can read it).
    Raises JetDataError when nothing matches.
    """
    if not isinstance(path, (str, Path)):
        files = [f for p in path for f in expand_paths(p, suffixes)]
        if not files:
            raise JetDataError("(no paths given): nothing to read")
        return list(dict.fromkeys(files))
    suffixes = tuple(s.lower() for s in suffixes)
    text = str(Path(path).expanduser())
    candidate = Path(text)
    if candidate.is_dir():
        files = sorted(f for f in candidate.iterdir() if f.is_file() and f.name.lower().endswith(suffixes))
        if not files:
            raise JetDataError(f"{candidate}: directory holds no {'/'.join(suffixes)} files")
        return files
    if candidate.is_file():
        return [candidate]
    if GLOB_CHARACTERS & set(text):
        files = sorted(Path(f) for f in glob.glob(text) if Path(f).is_file())
        if not files:
            raise JetDataError(f"{text}: pattern matches no files")
        return files
    raise JetDataError(f"{text}: no such file or directory")


def chunk_bounds(n: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive chunks of at most `chunk_size` of `n` rows."""
    for start in range(0, n, chunk_size):
        yield start, min(n, start + chunk_size)


ChunkSelection = Callable[[Path, int], bool]  # (file, chunk index) -> read it?


def iter_files(path, suffixes: Iterable[str], iter_one: Callable[..., Iterator[JetTable]],
               chunk_size: int = DEFAULT_CHUNK_SIZE, select: ChunkSelection | None = None) -> Iterator[JetTable]:
    """Validated chunks of every file `path` names (file, directory or glob), file after file.

    `select(file, k)` (streaming) picks which chunks k of each file are read; the others are skipped
    without being read where the format allows it (all but the sequential quark-gluon .npz)."""
    if int(chunk_size) < 1:
        raise JetDataError(f"{path}: chunk_size must be at least 1, got {chunk_size}")
    for f in expand_paths(path, suffixes):
        chosen = None if select is None else (lambda k, f=f: select(f, k))
        yield from with_file_identity(f, iter_one(f, int(chunk_size), chosen))


def selected_bounds(n: int, chunk_size: int, chosen: Callable[[int], bool] | None) -> Iterator[tuple[int, int]]:
    """(start, stop) of the chunks of `n` rows that `chosen(k)` picks (all when it is None)."""
    for k, bounds in enumerate(chunk_bounds(n, chunk_size)):
        if chosen is None or chosen(k):
            yield bounds


def with_file_identity(path: Path, chunks: Iterable[JetTable]) -> Iterator[JetTable]:
    """The chunks of one file, in file order, with (file sha256, row) ids where the reader set none.

    A reader that knows better ids (a generated file's, or the content hash of a file with external
    storage: `identify_by_content`) sets `jet_ids` and `sources` itself; every reader sets its chunks'
    `first_row`."""
    sha = None
    for chunk in chunks:
        if chunk.jet_ids is None:
            sha = sha or file_sha256(path)
            identify_rows(chunk, sha, Path(path).name)
        yield chunk


def identify_rows(chunk: JetTable, key: str, name: str) -> JetTable:
    """`chunk`'s jets identified as rows of the file whose identity is `key` (its sha256, or the hash of
    what was read from it)."""
    start, stop = chunk.first_row, chunk.first_row + len(chunk)
    chunk.jet_ids = row_ids("file", key, np.arange(start, stop))
    chunk.sources = (Source("file", key, name, ((start, stop),)),)
    return chunk


def identify_by_content(path: Path, key: str | None, chunks: Iterable[JetTable]) -> Iterator[JetTable]:
    """With `key` (an HDF5 file with external storage, allowed: hdf5.content_sha256), every chunk's jets
    identified by what was read, whatever ids the reader gave; else the chunks unchanged."""
    for chunk in chunks:
        yield chunk if key is None else identify_rows(chunk, key, f"{Path(path).name} (+external data)")


def reader_options(reader: Callable, allow_external: bool) -> dict:
    """`allow_external=True` for a reader that takes it (the HDF5 formats) when allowed; the others read nothing
    external, so they get nothing."""
    import inspect

    return {"allow_external": True} if allow_external and "allow_external" in inspect.signature(reader).parameters else {}


def join_chunks(chunks: Iterable[JetTable]) -> JetTable:
    """One validated table from the chunks of one or several files."""
    return JetTable.concat(list(chunks)).validate()
