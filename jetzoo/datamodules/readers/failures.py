"""Turning every way a jet file can be bad into one JetDataError that names the file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from jetzoo.errors import JetDataError


HDF5_TRACE_END = "End of HDF5 error back trace"
MAX_DETAIL = 240


def one_line(exc: BaseException) -> str:
    """`Type: message` of an exception from h5py, PyTables, pandas, uproot or numpy, on one short line.

    PyTables' HDF5 back traces are reduced to their conclusion and innermost cause.
    """
    text = str(exc).strip()
    if HDF5_TRACE_END in text:
        trace, _, conclusion = text.partition(HDF5_TRACE_END)
        lines = [line.strip() for line in trace.splitlines()[1:]]
        causes = [line for line in lines if line and not line.startswith("File ")]
        text = f"{conclusion.strip()}: {causes[-1]}" if causes else conclusion.strip()
    text = " ".join(text.split())
    if len(text) > MAX_DETAIL:
        text = text[: MAX_DETAIL - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def reading(path, what: str) -> Iterator[None]:
    """Re-raise any library error met while reading `path` as a one-line JetDataError.

    `what` names the format expected, e.g. "an hls4ml HDF5 file".
    """
    try:
        yield
    except JetDataError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise JetDataError(f"{path}: cannot read as {what} ({one_line(exc)})") from exc


def require_jets(n: int, path) -> None:
    if n == 0:
        raise JetDataError(f"{path}: contains no jets")


def require_finite(values: np.ndarray, path, what: str) -> None:
    """Reject NaN/inf before any conversion or masking could hide it."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        return
    finite = np.isfinite(values)
    if not finite.all():
        bad = int((~finite.reshape(len(values), -1)).any(axis=1).sum()) if values.ndim > 1 else int((~finite).sum())
        raise JetDataError(f"{path}: {bad} jets have NaN or inf {what}")


def require_rows(values: np.ndarray, n: int, path, what: str) -> None:
    if len(values) != n:
        raise JetDataError(f"{path}: {what} has {len(values)} rows but there are {n} jets")


def labels_from_one_hot(one_hot: np.ndarray, path, class_names: list[str]) -> np.ndarray:
    """Class index of each row of a one-hot (N, K) array; every row must hold exactly one 1."""
    one_hot = np.asarray(one_hot, dtype=np.float64)
    good = ((one_hot == 0) | (one_hot == 1)).all(axis=1) & (one_hot.sum(axis=1) == 1)
    if not good.all():
        raise JetDataError(
            f"{path}: {int((~good).sum())} jets do not have exactly one class label among {class_names}"
        )
    return one_hot.argmax(axis=1).astype(np.int64)


def binary_labels(values: np.ndarray, path, what: str) -> np.ndarray:
    """0/1 labels as int64; anything else (NaN, 0.5, 2) is an error."""
    values = np.asarray(values)
    good = (values == 0) | (values == 1)
    if not good.all():
        raise JetDataError(f"{path}: {int((~good).sum())} jets have {what} labels other than 0 and 1")
    return values.astype(np.int64)


def text(value) -> str:
    """HDF5 strings come back as bytes or str depending on how they were written."""
    return value.decode() if isinstance(value, bytes) else str(value)
