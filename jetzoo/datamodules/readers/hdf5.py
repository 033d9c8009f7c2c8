"""HDF5 datasets checked before they are read: present, numeric, of the expected rank, really stored, and
stored in the file named (no external link, external raw storage or virtual dataset)."""

from __future__ import annotations

import os

import h5py

from jetzoo.datamodules.readers.validation import require_numeric, require_plausible_size
from jetzoo.errors import JetDataError


def numeric_dataset(f: h5py.File, key: str, path, ndim: int | None = None, shape_hint: str = "",
                    not_format: str = "") -> h5py.Dataset:
    """f[key] when it is a dataset of numbers of rank `ndim` whose declared size the file can back."""
    if key not in f:
        suffix = f"; not {not_format}" if not_format else ""
        raise JetDataError(f"{path}: no dataset '{key}' (found {sorted(f.keys())}){suffix}")
    dset = f[key]
    if not isinstance(dset, h5py.Dataset):
        raise JetDataError(f"{path}: '{key}' is a group, expected a dataset")
    if h5py.check_string_dtype(dset.dtype) is not None:
        kind = "bytes" if dset.dtype.kind == "S" else "string"
        raise JetDataError(f"{path}: '{key}' holds {kind} values, expected numbers")
    require_numeric(dset.dtype, path, f"'{key}'")
    if ndim is not None and dset.ndim != ndim:
        raise JetDataError(f"{path}: '{key}' has shape {dset.shape}, expected {shape_hint or f'{ndim} dimensions'}")
    require_backed(dset, path, f"'{key}'")
    return dset


def external_objects(f: h5py.File) -> list[str]:
    """What of `f` lives outside it, one description each: external links, datasets whose bytes are in
    external raw files, virtual datasets mapping other files. h5py follows all three silently."""
    found: list[str] = []

    def link(name, link_obj):
        if isinstance(link_obj, h5py.ExternalLink):
            found.append(f"'{name}' is an external link to {link_obj.filename}:{link_obj.path}")

    def dataset(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.external:
            files = ", ".join(sorted({str(entry[0]) for entry in obj.external}))
            found.append(f"dataset '{name}' is stored in external raw file(s) {files}")
        elif obj.is_virtual:
            files = ", ".join(sorted({source.file_name for source in obj.virtual_sources()}))
            found.append(f"dataset '{name}' is a virtual dataset mapping {files}")

    f.visititems_links(link)
    f.visititems(dataset)  # does not follow external links: those are listed above
    return found


def require_self_contained(f: h5py.File, path, allow: bool = False) -> list[str]:
    """A one-line error when any object of `f` lives outside it (external_objects), unless `allow`
    (`--data.allow_external true`): then the list of them, so that the reader identifies the jets by
    what it read (`content_sha256`), not by the container file alone.

    Refused by default: a file could make jetzoo read another file's bytes as jets (`/etc/passwd` was
    read so), and the jet identity, a hash of the file named, would not cover what was read."""
    found = external_objects(f)
    if found and not allow:
        raise JetDataError(f"{path}: {found[0]}; jetzoo reads jets only from the file named (copy the data "
                           "into it, or pass --data.allow_external true)")
    return found


def content_sha256(f: h5py.File, block_bytes: int = 1 << 24) -> str:
    """sha256 of everything h5py reads through `f`, external links, raw files and virtual maps followed:
    each dataset's path, dtype, shape and bytes (in row blocks), groups in name order.

    The identity of a file with external storage (issue 24 §2): two containers pointing at the same bytes
    are the same jets; one container whose external target changed is different jets."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()

    def visit(group: h5py.Group, prefix: str, depth: int) -> None:
        if depth > 32:  # a link cycle through external files
            raise JetDataError(f"{f.filename}: groups nested deeper than 32 levels (a link cycle?)")
        for name in sorted(group.keys()):
            obj = group.get(name)
            where = f"{prefix}/{name}"
            if isinstance(obj, h5py.Group):
                visit(obj, where, depth + 1)
            elif isinstance(obj, h5py.Dataset):
                digest.update(f"{where}|{obj.dtype.str}|{obj.shape}".encode())
                if obj.shape is None or obj.size == 0:
                    continue
                if obj.ndim == 0:
                    digest.update(np.ascontiguousarray(obj[()]).tobytes())
                    continue
                row_bytes = max(1, obj.dtype.itemsize * int(np.prod(obj.shape[1:], dtype=np.int64)))
                step = max(1, block_bytes // row_bytes)
                for start in range(0, obj.shape[0], step):
                    digest.update(np.ascontiguousarray(obj[start:start + step]).tobytes())

    visit(f, "", 0)
    return digest.hexdigest()


def require_backed(dset: h5py.Dataset, path, what: str) -> None:
    """The bytes `dset`'s shape declares exist in the file (a patched or resized shape is refused); for an
    allowed virtual or externally stored dataset, the files it maps exist (h5py would read fill values)."""
    if dset.is_virtual:
        missing = sorted({s.file_name for s in dset.virtual_sources() if not _exists_beside(s.file_name, path)})
        if missing:
            raise JetDataError(f"{path}: {what} is a virtual dataset mapping {', '.join(missing)}, which does not exist")
        return
    if dset.external:
        for name, offset, size in dset.external:
            found = _exists_beside(name, path)
            if not found or (size != h5py.h5f.UNLIMITED and os.path.getsize(found) < offset + size):
                raise JetDataError(f"{path}: {what} is stored in {name}, which is missing or shorter than declared")
        return
    compressed = dset.id.get_create_plist().get_nfilters() > 0
    stored = dset.id.get_storage_size()
    if dset.chunks is None and not compressed:
        offset = dset.id.get_offset()
        if offset is not None and offset + stored > os.path.getsize(dset.file.filename):  # an allowed link: its own file
            raise JetDataError(f"{path}: {what} extends past the end of the file; the file is truncated")
    if dset.size == 0:
        return
    require_plausible_size(path, what, dset.shape, dset.dtype.itemsize, stored, compressed)


def _exists_beside(name, path) -> str | None:
    """`name` as given, or relative to the directory of the HDF5 file `path`, if it exists."""
    name = name.decode() if isinstance(name, bytes) else str(name)
    for candidate in (name, os.path.join(os.path.dirname(str(path)), name)):
        if name in (".", "") or not os.path.exists(candidate):
            continue
        return candidate
    return None


def require_all_backed(path, skip: str = "/_i_", allow_external: bool = False) -> str | None:
    """Every dataset of an HDF5 file is backed (for files a library such as pandas reads), except those
    whose name contains `skip` (PyTables' lazily filled index arrays). With `allow_external` and a file
    that has external storage: its `content_sha256` (the identity of its jets), else None."""
    problems: list[JetDataError] = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not problems and skip not in f"/{name}":
            try:
                require_backed(obj, path, f"'{name}'")
            except JetDataError as exc:
                problems.append(exc)

    with h5py.File(path, "r") as f:
        external = require_self_contained(f, path, allow_external)
        f.visititems(visit)
        key = content_sha256(f) if external else None
    if problems:
        raise problems[0]
    return key


def names_dataset(f: h5py.File, key: str, path, not_format: str = "") -> list[str]:
    """A 1-d dataset of names (bytes or str), decoded and stripped."""
    if key not in f:
        suffix = f"; not {not_format}" if not_format else ""
        raise JetDataError(f"{path}: no dataset '{key}' (found {sorted(f.keys())}){suffix}")
    dset = f[key]
    if not isinstance(dset, h5py.Dataset) or dset.ndim > 1:
        raise JetDataError(f"{path}: '{key}' is not a list of names")
    require_backed(dset, path, f"'{key}'")
    values = dset[()]
    values = [values] if dset.ndim == 0 else list(values)
    return [(v.decode(errors="replace") if isinstance(v, bytes) else str(v)).strip() for v in values]
