"""A jet's identity, defined once, and the train/val/test split that follows from it (docs/DESIGN.md §4).

Identity:
- a generated jet (a file `jetzoo generate` wrote): its generated event, (recipe, recipe version, seed,
  class, chunk, event number in that chunk's Pythia run), and its rank among that event's selected jets
  (`generated_event_ids`; the file's `generatorEvent`). The detector is a property of the view, not of the
  jet: the same event passed through no detector or the ATLAS-like one is the same identity, and the same
  Pythia jet has it in every file of that recipe and seed, whatever its `n` or detector. The rank sits in
  the id's low 3 bits (`EVENT_BITS`), so the split and the overlap check, which use the event alone
  (`SplitRule.key_of`), put every jet of an event, and its detector-level twin, on the same side.
  Files written before the generator stored events keep the older identity, (recipe, version, seed, class,
  index of the jet within its class), and checkpoints that recorded the older split rule keep it;
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

SPLIT_RULE_NAME = "jetzoo-event-v1"  # the split of the event a jet came from (issue 23 §6)
JET_SPLIT_RULE_NAME = "jetzoo-hash-v1"  # the older rule: the split of each jet's own id (checkpoints that recorded it)
EVENT_BITS = 3  # an id's low bits hold the jet's rank in its event; the split and the overlap check ignore them
_EVENT_MASK = ~np.uint64((1 << EVENT_BITS) - 1)
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
    `events`: for a generated file with events, (class, chunk, highest event number) of each chunk it
    holds jets of, so that the events a training file covered are known from the manifest alone.
    """

    kind: str
    key: str
    name: str
    rows: tuple[tuple[int, int], ...]
    n: int = 0
    num_classes: int = 0
    events: tuple[tuple[int, int, int], ...] = ()

    def to_json(self) -> dict:
        out = asdict(self)
        out["rows"] = [list(r) for r in self.rows]
        if self.events:
            out["events"] = [list(e) for e in self.events]
        else:
            del out["events"]  # the manifests (and hashes) of data without events stay as they were
        return out

    @staticmethod
    def from_json(data: dict) -> "Source":
        data = dict(data)
        events = tuple(tuple(int(v) for v in e) for e in data.pop("events", ()))
        return Source(**{**data, "rows": tuple(tuple(int(v) for v in r) for r in data["rows"]), "events": events})


def merge_sources(sources) -> tuple[Source, ...]:
    """One Source per origin, its row ranges sorted and coalesced (chunks of one file become one range), its
    events the highest event number per (class, chunk) of all of them (the shards of one dataset)."""
    first: dict[tuple, Source] = {}  # origin -> its first Source (name), in order of appearance
    rows: dict[tuple, list] = {}
    events: dict[tuple, dict] = {}
    for s in sources:  # rows gathered per origin and coalesced once: linear in the chunks, not quadratic
        origin = (s.kind, s.key, s.n, s.num_classes)
        first.setdefault(origin, s)
        rows.setdefault(origin, []).extend(s.rows)
        most = events.setdefault(origin, {})
        for c, i, e in s.events:
            most[c, i] = max(e, most.get((c, i), -1))
    return tuple(Source(m.kind, m.key, m.name, _coalesce(rows[o]), m.n, m.num_classes,
                        tuple((c, i, e) for (c, i), e in sorted(events[o].items())))
                 for o, m in first.items())


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


def generated_event_ids(key: str, cls, chunk, event, rank) -> np.ndarray:
    """Ids of generated jets identified by their event: (class, chunk, event) hashed, the rank in the low bits."""
    cls, chunk, event, rank = (np.asarray(a, dtype=np.uint64) for a in (cls, chunk, event, rank))
    if len(rank) and int(rank.max()) >= 1 << EVENT_BITS:
        raise ValueError(f"a generated event with more than {1 << EVENT_BITS} selected jets")
    numbers = (cls << np.uint64(56)) | (chunk << np.uint64(32)) | event
    return (ids_from(f"event:{key}", numbers) & _EVENT_MASK) | rank


def events_summary(cls, chunk, event) -> tuple[tuple[int, int, int], ...]:
    """(class, chunk, highest event number) of every (class, chunk) among these jets."""
    most: dict[tuple[int, int], int] = {}
    for c, i, e in zip(np.asarray(cls).tolist(), np.asarray(chunk).tolist(), np.asarray(event).tolist()):
        most[c, i] = max(e, most.get((c, i), -1))
    return tuple((c, i, e) for (c, i), e in sorted(most.items()))


def generated_key(recipe: str, version: int, seed: int) -> str:
    return f"{recipe}:v{int(version)}:seed{int(seed)}"


def source_ids(source: Source) -> np.ndarray:
    """The ids of every jet a Source names (its row ranges), re-derived from the descriptor alone.

    A generated Source with events: the ids (rank 0) of every event of every chunk it holds jets of, up to the
    highest it used; conservative, as an event that gave no jet, or a row the fit did not use, still counts."""
    if source.kind == "generated" and source.events:
        parts = [(np.full(e + 1, c), np.full(e + 1, i), np.arange(e + 1)) for c, i, e in source.events]
        cls, chunk, event = (np.concatenate(p) for p in zip(*parts))
        return generated_event_ids(source.key, cls, chunk, event, np.zeros(len(event), np.int64))
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
        """TRAIN (0), VAL (1) or TEST (2) for each id (under the event rule, of its event: `key_of`)."""
        salt = _mix64(np.array([np.uint64(self.seed % 2**64) ^ np.uint64(0x9E3779B97F4A7C15)]))[0]
        u = (_mix64(self.key_of(ids) ^ salt) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        return np.where(u < self.test_fraction, TEST, np.where(u < self.test_fraction + self.val_fraction, VAL, TRAIN))

    def key_of(self, ids: np.ndarray) -> np.ndarray:
        """What the split and the overlap check compare: the event's part of each id (event rule), or the id."""
        ids = np.asarray(ids, dtype=np.uint64)
        if self.rule == SPLIT_RULE_NAME:
            return ids & _EVENT_MASK
        if self.rule == JET_SPLIT_RULE_NAME:
            return ids
        raise ValueError(f"unknown split rule {self.rule!r} (this jetzoo knows {SPLIT_RULE_NAME}, {JET_SPLIT_RULE_NAME})")

    def describe(self) -> str:
        return f"split seed {self.seed}, val {self.val_fraction:g}, test {self.test_fraction:g}"


def training_ids(sources, rule: SplitRule) -> np.ndarray:
    """Ids of every jet a manifest names that `rule` puts in the training split (sorted).

    Conservative: a jet the fit dropped afterwards (class selection, max_jets, balancing) still counts.
    """
    ids = np.concatenate([source_ids(s) for s in sources] or [np.zeros(0, np.uint64)])
    return np.unique(rule.key_of(ids[rule.split_of(ids) == TRAIN]))
