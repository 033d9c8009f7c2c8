"""A jet's identity, defined once, and the train/val/test split that follows from it (docs/DESIGN.md §4).

Identity:
- a generated jet (a file `jetzoo generate` wrote): (recipe, recipe version, seed, class, index of the
  jet within its class). The index within the class is chunk * chunk size + row in the chunk, so the
  same Pythia jet has the same identity in every file of that recipe and seed, whatever its `n`: the
  n = 2000 file's jets are also in the n = 4000 one, and they are recognised as the same jets;
- a jet of any other file: (the file's sha256, row);
- a table a plugin builds itself (no file behind it): (its `source` text, row).
Each identity is hashed to a 64-bit id (`jet_ids`).

Split: a jet's split is a hash of its id and the data seed (`split_of`), never its position: adding
files or shards never moves a jet between train, val and test, and two files sharing jets put them in
the same split under the same seed and fractions. Split sizes are therefore binomial, not exact.

A `Source` descriptor names where jets came from (kind, identity, row ranges); the list of them is a
table's manifest. Checkpoints store the manifest, its hash and the split rule (`SplitRule`), never
lists of ids; `training_ids` re-derives the training jets' ids from them for the overlap check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from jetzoo.io.files import file_sha256  # noqa: F401 - a source file's identity (re-exported)

SPLIT_RULE_NAME = "jetzoo-hash-v1"
TRAIN, VAL, TEST = 0, 1, 2
SPLIT_NAMES = {"train": TRAIN, "val": VAL, "test": TEST}
_CLASS_SHIFT = np.uint64(40)  # generated ids: class in the bits above the index within the class


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective, well-mixed uint64 -> uint64 hash, vectorised."""
    x = np.asarray(x, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def text_key(text: str) -> np.uint64:
    """64 bits of sha256(text): the base id of one source."""
    return np.uint64(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little"))


def ids_from(key: str, numbers: np.ndarray) -> np.ndarray:
    """Ids of the jets numbered `numbers` (rows, or class-shifted indices) of the source `key`."""
    with np.errstate(over="ignore"):
        return _mix64(np.asarray(numbers, dtype=np.uint64) + _mix64(np.array([text_key(key)]))[0])


# --- where jets came from ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """One file (or table) that jets were read from, and which of its rows.

    kind "generated": `key` is "<recipe>:v<version>:seed<seed>", `n` the file's jet count (its rows map
    to (class, index within class) through the generator's plan); kind "file": `key` is the sha256;
    kind "table": `key` is the table's source text. `rows` are half-open [start, stop) ranges.
    """

    kind: str
    key: str
    name: str
    rows: tuple[tuple[int, int], ...]
    n: int = 0
    num_classes: int = 0

    def to_json(self) -> dict:
        out = asdict(self)
        out["rows"] = [list(r) for r in self.rows]
        return out

    @staticmethod
    def from_json(data: dict) -> "Source":
        return Source(**{**data, "rows": tuple(tuple(int(v) for v in r) for r in data["rows"])})


def merge_sources(sources) -> tuple[Source, ...]:
    """One Source per origin, its row ranges sorted and coalesced (chunks of one file become one range)."""
    first: dict[tuple, Source] = {}  # origin -> its first Source (name), in order of appearance
    rows: dict[tuple, list] = {}
    for s in sources:  # rows gathered per origin and coalesced once: linear in the chunks, not quadratic
        origin = (s.kind, s.key, s.n, s.num_classes)
        first.setdefault(origin, s)
        rows.setdefault(origin, []).extend(s.rows)
    return tuple(Source(m.kind, m.key, m.name, _coalesce(rows[o]), m.n, m.num_classes) for o, m in first.items())


def _coalesce(rows) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for start, stop in sorted(rows):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], stop)
        else:
            out.append([start, stop])
    return tuple((a, b) for a, b in out)


def manifest_json(sources) -> list[dict]:
    return [s.to_json() for s in sources]


def manifest_hash(sources) -> str:
    return hashlib.sha256(json.dumps(manifest_json(sources), sort_keys=True).encode()).hexdigest()


# --- ids of each kind of source ----------------------------------------------------------------------
def row_ids(kind: str, key: str, rows: np.ndarray) -> np.ndarray:
    """Ids of rows of a plain file (kind "file", key = sha256) or table (kind "table")."""
    return ids_from(f"{kind}:{key}", rows)


def generated_class_and_index(n: int, seed: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(class, index within the class) of every row of a generated file of `n` jets and this seed.

    The generator's plan (jetzoo.generate.runner): class c holds n // K jets (+1 for the first n % K
    classes), chunks in plan order, then the rows are shuffled by `shuffle_permutation(n, seed)`.
    """
    from jetzoo.generate.runner import shuffle_permutation

    sizes = np.array([n // num_classes + (1 if c < n % num_classes else 0) for c in range(num_classes)])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    position = shuffle_permutation(n, seed)  # file row j holds the plan's jet position[j]
    cls = np.searchsorted(starts, position, side="right") - 1
    return cls, position - starts[cls]


def generated_ids(key: str, cls: np.ndarray, index: np.ndarray) -> np.ndarray:
    numbers = (np.asarray(cls, dtype=np.uint64) << _CLASS_SHIFT) + np.asarray(index, dtype=np.uint64)
    return ids_from(f"generated:{key}", numbers)


def generated_key(recipe: str, version: int, seed: int) -> str:
    return f"{recipe}:v{int(version)}:seed{int(seed)}"


def source_ids(source: Source) -> np.ndarray:
    """The ids of every jet a Source names (its row ranges), re-derived from the descriptor alone."""
    rows = np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in source.rows] or [np.zeros(0, np.int64)])
    if source.kind == "generated":
        cls, index = generated_class_and_index(source.n, int(source.key.rsplit("seed", 1)[1]), source.num_classes)
        return generated_ids(source.key, cls[rows], index[rows])
    return row_ids(source.kind, source.key, rows)


# --- the split ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SplitRule:
    """Which split each jet id falls in: a hash of (id, seed) against the val and test fractions."""

    seed: int
    val_fraction: float
    test_fraction: float
    rule: str = SPLIT_RULE_NAME

    def split_of(self, ids: np.ndarray) -> np.ndarray:
        """TRAIN (0), VAL (1) or TEST (2) for each id."""
        if self.rule != SPLIT_RULE_NAME:
            raise ValueError(f"unknown split rule {self.rule!r} (this jetzoo knows {SPLIT_RULE_NAME})")
        salt = _mix64(np.array([np.uint64(self.seed % 2**64) ^ np.uint64(0x9E3779B97F4A7C15)]))[0]
        u = (_mix64(np.asarray(ids, dtype=np.uint64) ^ salt) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        return np.where(u < self.test_fraction, TEST, np.where(u < self.test_fraction + self.val_fraction, VAL, TRAIN))

    def describe(self) -> str:
        return f"split seed {self.seed}, val {self.val_fraction:g}, test {self.test_fraction:g}"


def training_ids(sources, rule: SplitRule) -> np.ndarray:
    """Ids of every jet a manifest names that `rule` puts in the training split (sorted).

    Conservative: a jet the fit dropped afterwards (class selection, max_jets, balancing) still counts.
    """
    ids = np.concatenate([source_ids(s) for s in sources] or [np.zeros(0, np.uint64)])
    return np.sort(ids[rule.split_of(ids) == TRAIN])
