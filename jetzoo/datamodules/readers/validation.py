"""Physical sanity of what a reader hands on, and checks of declared sizes before anything is allocated.

Every reader runs `physical_constituents` on each chunk it yields:
  - values are finite;
  - every real constituent has E >= TINY (no zero or negative energies; real particles carry energy);
  - E >= |p| (1 - ENERGY_RTOL): no tachyons beyond float rounding (inputs given as massless
    (pT, eta, phi) satisfy it by construction, (px, py, pz, E) inputs must);
  - E and |p| <= MAX_MOMENTUM_GEV (default 100 TeV, beyond any LHC jet; env JETZOO_MAX_MOMENTUM_GEV);
  - pT > 0: a constituent without transverse momentum has no direction in eta and cannot have been
    clustered into the jet (a Top Tagging padding slot given E = 2 GeV and p = 0 was read as one);
  - every jet keeps at least one real constituent: a jet without constituents has no direction,
    pT or features, and no published file holds one (readers of hl-only sources do not call this).
Padding is *not* decided here: `zero_padding_mask` implements the convention of the formats whose
padding is an all-zero row (hls4ml, Top Tagging), where values below TINY (denormals, e.g. from a
flipped bit) count as zero. Formats with an explicit mask (JetNet's mask column, JetClass's jagged
lists, quark-gluon's pT = 0) apply theirs, and a denormal there is a real, invalid value.

ENABLED (env JETZOO_READER_VALIDATION=0 turns it off) switches the physical checks off, for
benchmarks/validation_overhead.py; the structural checks (keys, shapes, dtypes, sizes) always run.
"""

from __future__ import annotations

import math
import os

import numpy as np

from jetzoo.errors import JetDataError

ENABLED = os.environ.get("JETZOO_READER_VALIDATION", "1").strip().lower() not in ("0", "false", "no", "off")
MAX_MOMENTUM_GEV = float(os.environ.get("JETZOO_MAX_MOMENTUM_GEV", "1e5"))
ENERGY_RTOL = 1e-3
TINY = float(np.finfo(np.float32).tiny)  # smallest normal float32; below it is a denormal
MAX_COMPRESSION = 1000  # no real jet file compresses better than this (zlib's ceiling is ~1032:1)
NUMERIC_KINDS = "biuf"


def zero_padding_mask(p4: np.ndarray) -> np.ndarray:
    """Real constituents of a zero-padded (N, P, 4) array: |E| >= TINY or |p|^2 >= TINY (|p| >~ 1e-19 GeV).

    Anything smaller, denormals from a flipped bit included, is the all-zero padding row."""
    px, py, pz, e = (p4[..., i] for i in range(4))
    return (np.abs(e) >= TINY) | (px * px + py * py + pz * pz >= TINY)


def physical_constituents(p4: np.ndarray, mask: np.ndarray, where: str, first_jet: int = 0) -> None:
    """Raise a one-line JetDataError (prefixed by `where`, the file) unless every rule above holds.

    `first_jet` is the index of the chunk's first jet in the file, so messages give file-wide indices.
    NaN/inf are left to the callers' `require_finite` and JetTable.validate (an inf breaks the bound).
    One vectorised pass in float32 over the whole chunk; the details are only worked out on failure.
    """
    if not ENABLED:
        return
    empty = ~mask.any(axis=1)
    if empty.any():
        fail(where, f"{int(empty.sum())} of {len(mask)} jets have no constituents", empty, first_jet)
    px, py, pz, e = (p4[..., i] for i in range(4))
    pt2 = px * px + py * py
    p2 = pt2 + pz * pz
    with np.errstate(over="ignore", invalid="ignore"):
        broken = ((e < TINY) | (e * e < p2 * np.float32((1 - ENERGY_RTOL) ** 2)) | (e > MAX_MOMENTUM_GEV)
                  | (p2 > np.float32(MAX_MOMENTUM_GEV) ** 2) | (pt2 <= 0))
    broken &= mask
    if broken.any():
        explain(p4, mask, where, first_jet)


def explain(p4: np.ndarray, mask: np.ndarray, where: str, first_jet: int) -> None:
    """The first broken rule, with counts and an example, as a JetDataError."""
    real = p4[mask].astype(np.float64)
    energy, momentum = real[:, 3], np.sqrt((real[:, :3] ** 2).sum(axis=1))
    rules = [
        (energy < TINY, "constituents with energy <= 0"),
        (energy < momentum * (1 - ENERGY_RTOL), "constituents with E < |p| (negative mass squared)"),
        (np.maximum(energy, momentum) > MAX_MOMENTUM_GEV, f"constituents with E or |p| above {MAX_MOMENTUM_GEV:g} GeV"),
        ((real[:, 0] ** 2 + real[:, 1] ** 2) <= 0,
         "constituents without transverse momentum (pT = 0: no direction in eta, e.g. a padding slot given an energy)"),
    ]
    for broken, what in rules:
        if broken.any():
            jets = np.zeros(mask.shape, bool)
            jets[mask] = broken
            jets = jets.any(axis=1)
            worst = real[broken][0]
            fail(where, f"{int(broken.sum())} {what} in {int(jets.sum())} jets "
                        f"(e.g. px, py, pz, E = {', '.join(f'{v:.4g}' for v in worst)})", jets, first_jet)
    fail(where, "constituents break the physical sanity rules (float32 rounding)", mask.any(axis=1), first_jet)


def require_positive(values: np.ndarray, mask: np.ndarray, where: str, what: str, first_jet: int = 0) -> None:
    """`values` (e.g. a pT given by the file, before a conversion that could hide its sign) are >= TINY
    wherever `mask` is True; `mask` and `values` have the jets on their first axis."""
    if not ENABLED:
        return
    broken = mask & ~(values >= TINY)
    if broken.any():
        jets = broken.reshape(len(broken), -1).any(axis=1)
        fail(where, f"{int(broken.sum())} {what} <= 0 in {int(jets.sum())} jets", jets, first_jet)


def fail(where: str, problem: str, jets: np.ndarray, first_jet: int) -> None:
    first = int(np.argmax(jets)) + first_jet
    raise JetDataError(f"{where}: {problem}, first jet {first}")


def require_numeric(dtype, where, what: str) -> None:
    """Numbers only: strings, bytes, objects and compound records are refused before any conversion."""
    dtype = np.dtype(dtype)
    if dtype.kind not in NUMERIC_KINDS:
        raise JetDataError(f"{where}: {what} holds {dtype_name(dtype)} values, expected numbers")


def dtype_name(dtype: np.dtype) -> str:
    return {"S": "bytes", "U": "string", "O": "object", "V": "compound/raw"}.get(dtype.kind, str(dtype))


def memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 40


def require_plausible_size(where, what: str, shape, itemsize: int, stored: int | None = None,
                           compressed: bool = False) -> None:
    """Refuse a declared shape the file cannot hold, or this machine cannot hold, before allocating.

    `stored`: bytes the file really keeps for it (None when unknown); uncompressed data must be all
    there, compressed data cannot be more than MAX_COMPRESSION times larger than what is stored.
    """
    declared = math.prod(int(d) for d in shape) * int(itemsize)
    if declared > memory_bytes():
        raise JetDataError(
            f"{where}: {what} declares shape {tuple(int(d) for d in shape)} ({human(declared)}), "
            f"more than this machine's memory ({human(memory_bytes())}); the file is corrupt"
        )
    if stored is None:
        return
    limit = stored * (MAX_COMPRESSION if compressed else 1)
    if declared > limit:
        raise JetDataError(
            f"{where}: {what} declares shape {tuple(int(d) for d in shape)} ({human(declared)}) but the file "
            f"stores only {human(stored)} of it{' compressed' if compressed else ''}; the file is truncated or corrupt"
        )


def human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"
