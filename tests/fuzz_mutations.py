"""Mutations of jet files for tests/test_reader_fuzz.py: each format as a dict of named arrays
(load/save), generic operations on such dicts, and byte-level damage (truncation, bit flips).
"""

from __future__ import annotations

import awkward as ak
import h5py
import numpy as np
import pandas as pd
import uproot

HUGE_ROWS = 2**40


# --- formats as dicts of arrays ----------------------------------------------------------------
def load_h5(path) -> dict:
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in f}


def save_h5(path, arrays: dict, huge: str | None = None) -> None:
    """Plain contiguous, uncompressed datasets; `huge` is written chunked and resized to 2^40 rows."""
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            v = np.asarray(v)
            if v.dtype.kind == "U":
                f.create_dataset(k, data=v.astype(object), dtype=h5py.string_dtype())
            elif k == huge:
                d = f.create_dataset(k, data=v, maxshape=(None, *v.shape[1:]), chunks=True)
                d.resize(HUGE_ROWS, axis=0)
            else:
                f[k] = v


def load_npz(path) -> dict:
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files}


def save_npz(path, arrays: dict, huge: str | None = None) -> None:
    np.savez(path, **arrays)  # uncompressed, so bit flips reach the numbers
    if huge is not None:
        patch_npz_rows(path, huge)


def patch_npz_rows(path, key: str) -> None:
    """Rewrite the .npy header of `key` to declare 2^40 rows, keeping its data."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    raw = members[f"{key}.npy"]
    header_len = int.from_bytes(raw[8:10], "little") + 10
    header = raw[10:header_len].decode("latin1")
    shape = eval(header.split("'shape': ")[1].split("), ")[0] + ")")  # noqa: S307 - our own header
    new = header.replace(f"'shape': {shape}", f"'shape': {(HUGE_ROWS, *shape[1:])}")
    new = new.rstrip().ljust(header_len - 11) + "\n"
    members[f"{key}.npy"] = raw[:8] + len(new).to_bytes(2, "little") + new.encode("latin1") + raw[header_len:]
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)


def load_top(path) -> dict:
    frame = pd.read_hdf(path, key="table")
    return {str(c): np.array(frame[c].to_numpy()) for c in frame.columns}


def save_top(path, arrays: dict, huge: str | None = None) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.DataFrame({k: list(v) if np.asarray(v).ndim > 1 else v for k, v in arrays.items()}).to_hdf(
            path, key="table", format="fixed", mode="w")


def load_root(path) -> dict:
    with uproot.open(path) as f:
        tree = f["tree"]
        names = [k for k in tree.keys() if not (k.startswith("n") and k[1:] in tree.keys())]
        names = [k for k in names if k != "npart"]
        return {k: tree[k].array(library="ak") for k in names}


def save_root(path, arrays: dict, huge: str | None = None) -> None:
    def kind(v):
        return "var * float32" if isinstance(v, ak.Array) and v.ndim == 2 else np.asarray(v).dtype

    data = {k: (v if isinstance(v, ak.Array) and v.ndim == 2 else np.asarray(v)) for k, v in arrays.items()}
    with uproot.recreate(path) as f:
        f.mktree("tree", {k: kind(v) for k, v in data.items()})
        f["tree"].extend(data)


# --- operations on one array ---------------------------------------------------------------------
def numeric(a):
    return np.asarray(ak.to_numpy(ak.flatten(a)) if isinstance(a, ak.Array) and a.ndim == 2 else a)


def rebuild(a, values):
    if isinstance(a, ak.Array) and a.ndim == 2:
        return ak.unflatten(values.astype(np.float32), ak.num(a, axis=1))
    return values


def set_values(where: str, value):
    """Put `value` at one random element ("one"), a random tenth ("some") or all ("all")."""
    def op(a, rng):
        v = numeric(a).astype(np.float64 if numeric(a).dtype.kind != "f" else numeric(a).dtype).copy()
        flat = v.reshape(-1)
        count = {"one": 1, "some": max(1, flat.size // 10), "all": flat.size}[where]
        flat[rng.choice(flat.size, count, replace=False)] = value
        return rebuild(a, v)
    return op


def scale(factor):
    return lambda a, rng: rebuild(a, numeric(a) * factor)


def as_dtype(dtype):
    return lambda a, rng: numeric(a).astype(dtype)


def drop_rows(a, rng):
    return a[: max(len(a) // 2, 1)]


def drop_last_column(a, rng):
    return numeric(a)[..., :-1]


def flatten_to_2d(a, rng):
    v = numeric(a)
    return v.reshape(len(v), -1) if v.ndim > 1 else v[:, None]


def add_axis(a, rng):
    return numeric(a)[:, None]


# --- byte-level damage ---------------------------------------------------------------------------
def truncate(fraction):
    def op(path, rng):
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
    return op


def flip_random_bits(count):
    def op(path, rng):
        data = bytearray(path.read_bytes())
        for _ in range(count):
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(data))
    return op


def flip_in_dataset(key: str, how: str):
    """Flip bits in the stored numbers of a contiguous HDF5 dataset: turn zero (padding) float32/64
    values into denormals ("denormal") or ~1e11 ("huge"), or flip one random bit ("random")."""
    def op(path, rng):
        with h5py.File(path, "r") as f:
            d = f[key]
            offset, values, itemsize = d.id.get_offset(), d[()].reshape(-1), d.dtype.itemsize
        data = bytearray(path.read_bytes())
        zeros = np.flatnonzero(values == 0)
        if how == "random" or not len(zeros):
            i = offset + int(rng.integers(values.size * itemsize))
            data[i] ^= 1 << int(rng.integers(8))
        else:
            for z in rng.choice(zeros, min(len(zeros), 5), replace=False):
                at = offset + int(z) * itemsize
                if how == "denormal":
                    data[at] |= 1
                else:  # a set exponent bit in the most significant byte: ~1e11 (float32) or ~1e19 (float64)
                    data[at + itemsize - 1] |= 0x52 if itemsize == 4 else 0x44
        path.write_bytes(bytes(data))
    return op
