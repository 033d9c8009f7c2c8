"""Streaming: jets read chunk by chunk from the files where they are, with bounded memory.

Chosen over converting to litdata or Parquet (docs/DESIGN.md §4b): the format readers already
yield validated chunks (`iter_<format>(path, chunk_size, select)`), reading only the chunks a
selection picks, so the public files are read as published, with no conversion step and no copy.

- `StreamIndex.build` makes one pass over the data, chunk by chunk: which (file, chunk) blocks
  exist, how many jets of each class each block holds in each split (the split is the hash rule of
  jet_identity.py), the manifest, and a bounded training sample for the standardisation. Memory:
  a few integers per block, plus the sample.
- `StreamingJets` (an IterableDataset) reads blocks in an order drawn from (seed, epoch): every
  (DDP rank, DataLoader worker) slot reads only its own blocks (block i goes to slot i mod slots;
  with fewer blocks than slots, blocks are cut into interleaved parts), so validation and test
  count every jet exactly once across ranks. Training jets are shuffled
  within a buffer of blocks; every slot yields the same number of full batches (the smallest
  slot's), so DDP ranks stay in step; the few jets beyond it wait for another epoch's order.
- `StreamingLoader` (a DataLoader) tells the dataset the epoch before each pass: the order is a
  function of (seed, epoch) alone, as in the in-memory `EpochShuffleSampler`; its state (epoch,
  batches done) goes into checkpoints, so a run resumed from a mid-epoch checkpoint skips exactly
  the batches it had trained on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from jetzoo.datamodules.jet_identity import SPLIT_NAMES, SplitRule, merge_sources
from jetzoo.datamodules.table import JetTable

STREAM_CHUNK_JETS = 2048  # jets per block: the unit of reading, sharding and shuffling
SHUFFLE_BUFFER_BLOCKS = 4  # training jets are shuffled within this many blocks
STANDARDISATION_SAMPLE_JETS = 50_000  # training jets the standardisation is fitted on

ChunkReader = Callable[..., Iterator[JetTable]]  # (path, select) -> validated chunks with ids


@dataclasses.dataclass(frozen=True)
class Block:
    """One chunk of one file, and its jets per (split, class) in the source's class order."""

    file: str
    chunk: int
    counts: tuple[tuple[int, ...], ...]  # counts[split][class]

    def jets(self, split: int, classes: list[int]) -> int:
        return int(sum(self.counts[split][c] for c in classes))


@dataclasses.dataclass
class StreamIndex:
    """What one pass over the data learns: blocks, classes, features, manifest, a training sample."""

    blocks: list[Block]
    class_names: list[str]
    hl_names: list[str]
    jet_radius: float
    num_particles: int
    sources: tuple
    sample: JetTable | None  # up to STANDARDISATION_SAMPLE_JETS training jets (all classes)
    source: str

    @staticmethod
    def build(read: ChunkReader, path, rule: SplitRule, sample_jets: int = STANDARDISATION_SAMPLE_JETS) -> "StreamIndex":
        blocks, sources, sample, first = [], [], [], None
        kept = 0
        for chunk in read(path, None):
            first = first or chunk
            split = rule.split_of(chunk.jet_ids)
            k = len(chunk.class_names)
            counts = tuple(tuple(np.bincount(chunk.labels[split == code], minlength=k).tolist()) for code in range(3))
            blocks.append(Block(chunk.source, chunk.first_row // STREAM_CHUNK_JETS, counts))
            sources.extend(chunk.sources)
            if kept < sample_jets:
                train = np.flatnonzero(split == SPLIT_NAMES["train"])[: sample_jets - kept]
                sample.append(chunk.subset(train))
                kept += len(train)
        if first is None:
            raise ValueError("no chunks")
        return StreamIndex(
            blocks=blocks,
            class_names=list(first.class_names),
            hl_names=list(first.hl_names),
            jet_radius=first.jet_radius,
            num_particles=max(b.num_particles for b in sample) if sample else first.num_particles,
            sources=merge_sources(sources),
            sample=JetTable.concat(sample) if sample else None,
            source=", ".join(dict.fromkeys(b.file for b in blocks)),
        )

    def class_counts(self) -> np.ndarray:
        return np.sum([np.sum(b.counts, axis=0) for b in self.blocks], axis=0)

    def split_sizes(self, classes: list[int]) -> dict[str, int]:
        return {name: sum(b.jets(code, classes) for b in self.blocks) for name, code in SPLIT_NAMES.items()}


class StreamingJets(IterableDataset):
    """Batches (dicts of tensors) of one split, read block by block; see the module docstring.

    `prepare(chunk) -> chunk` selects the task's classes; `to_arrays(chunk) -> dict` makes the
    standardised view arrays plus `label`. `rank`/`world` are the DDP slot (0/1 without DDP).
    """

    def __init__(self, read_file: Callable[..., Iterator[JetTable]], blocks: list[Block], split: str,
                 classes: list[int], rule: SplitRule, prepare: Callable[[JetTable], JetTable],
                 to_arrays: Callable[[JetTable], dict], batch_size: int, shuffle: bool, seed: int,
                 rank: int = 0, world: int = 1, workers: int = 0):
        self.read_file, self.split, self.code = read_file, split, SPLIT_NAMES[split]
        self.blocks = [b for b in blocks if b.jets(self.code, classes) > 0]
        self.classes, self.rule, self.prepare, self.to_arrays = classes, rule, prepare, to_arrays
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.rank, self.world, self.workers, self.epoch = rank, world, max(1, workers), 0
        self.skip = 0  # batches of this epoch (all workers of this rank) already trained on: a resume

    def _units(self, slots: int) -> list[tuple[Block, int, int]]:
        """(block, part, parts) in this epoch's order: a block is cut into `parts` interleaved parts
        when there are fewer blocks than slots, so that every slot gets jets to read."""
        parts = max(1, -(-slots // max(1, len(self.blocks))))
        units = [(b, part, parts) for b in self.blocks for part in range(parts)]
        if not self.shuffle:
            return units
        generator = np.random.default_rng(np.random.SeedSequence([self.seed % 2**63, self.epoch]))
        return [units[i] for i in generator.permutation(len(units))]

    def _unit_jets(self, unit) -> int:
        block, part, parts = unit
        return len(range(part, block.jets(self.code, self.classes), parts))

    def _slot_jets(self, slots: int) -> list[int]:
        units = self._units(slots)
        return [sum(self._unit_jets(u) for u in units[s::slots]) for s in range(slots)]

    def batches_per_slot(self, slots: int) -> int:
        """Full training batches every slot yields this epoch: the smallest slot's count."""
        return min(self._slot_jets(slots)) // self.batch_size

    def __len__(self) -> int:
        """Batches this rank yields, all its workers together (Lightning's progress and schedules)."""
        slots = self.world * self.workers
        if self.shuffle:
            return self.batches_per_slot(slots) * self.workers
        jets = self._slot_jets(slots)[self.rank * self.workers : (self.rank + 1) * self.workers]
        return int(sum(-(-n // self.batch_size) for n in jets))

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        slots, slot = self.world * workers, self.rank * workers + worker
        units = self._units(slots)
        limit = self.batches_per_slot(slots) if self.shuffle else None
        rng = np.random.default_rng(np.random.SeedSequence([self.seed % 2**63, self.epoch, slot]))
        # the DataLoader takes batches from its workers in turn: this worker made every workers-th one
        skip = len(range(worker, self.skip, workers))
        emitted, pending = 0, []
        for arrays in self._read(units[slot::slots]):
            pending.append(arrays)
            if self.shuffle and len(pending) < SHUFFLE_BUFFER_BLOCKS:
                continue
            buffer = {k: np.concatenate([p[k] for p in pending]) for k in pending[0]}
            n = len(buffer["label"])
            order_in = rng.permutation(n) if self.shuffle else np.arange(n)
            full = n // self.batch_size * self.batch_size
            for start in range(0, full, self.batch_size):
                if limit is not None and emitted >= limit:
                    return
                if emitted >= skip:
                    yield self._tensors(buffer, order_in[start : start + self.batch_size])
                emitted += 1
            rest = order_in[full:]
            pending = [{k: v[rest] for k, v in buffer.items()}] if len(rest) else []
        if pending:
            buffer = {k: np.concatenate([p[k] for p in pending]) for k in pending[0]}
            n = len(buffer["label"])
            if self.shuffle:
                order_in = rng.permutation(n)
                for start in range(0, n - self.batch_size + 1, self.batch_size):
                    if emitted >= limit:
                        return
                    if emitted >= skip:
                        yield self._tensors(buffer, order_in[start : start + self.batch_size])
                    emitted += 1
            else:  # evaluation: every jet, the last batch short
                for start in range(0, n, self.batch_size):
                    yield self._tensors(buffer, np.arange(start, min(n, start + self.batch_size)))

    def _read(self, units) -> Iterator[dict[str, np.ndarray]]:
        """The split's jets of each unit (part of a block), as view arrays, in the order of `units`."""
        for block, part, parts in units:
            # one file at a time: its classes are mapped to the task's by name in `prepare`
            for chunk in self.read_file(block.file, lambda f, k, wanted=block.chunk: k == wanted):
                chunk = self.prepare(chunk)
                keep = np.flatnonzero(self.rule.split_of(chunk.jet_ids) == self.code)[part::parts]
                if len(keep):
                    yield self.to_arrays(chunk.subset(keep))

    @staticmethod
    def _tensors(buffer: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(np.ascontiguousarray(v[rows])) for k, v in buffer.items()}


def _as_numpy(batch: dict) -> dict:
    return {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def _as_tensors(batch: dict) -> dict:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in batch.items()}


class _NumpyInTransit:
    """collate_fn of a worker: the batch crosses to the main process as numpy arrays, pickled by value
    through the worker's pipe, rather than as tensors in per-tensor shared-memory segments, whose set-up
    (a segment and a file descriptor per tensor) limited the hl view to 0.7x the MLP's consumption
    (benchmarks/streaming_rate.md)."""

    def __init__(self, collate):
        self.collate = collate

    def __call__(self, items):
        return _as_numpy(self.collate(items))


class StreamingLoader(DataLoader):
    """A DataLoader over `StreamingJets` that sets the dataset's epoch before every pass, and
    resumes mid-epoch: Lightning saves its `state_dict` (epoch, batches trained on) in checkpoints
    and hands it back on resume, and the next pass skips those batches of that epoch's order.

    Workers are started for each pass (not persistent), so they see the epoch and the skip."""

    def __init__(self, dataset: StreamingJets, epoch_source: Callable[[], int] | None = None,
                 progress_source: Callable[[], int] | None = None, **kwargs):
        if kwargs.get("num_workers", 0) > 0 and kwargs.get("collate_fn") is not None:
            kwargs["collate_fn"] = _NumpyInTransit(kwargs["collate_fn"])
        super().__init__(dataset, batch_size=None, **kwargs)
        self.epoch_source, self.progress_source = epoch_source, progress_source
        self._resume: dict | None = None

    def state_dict(self) -> dict:
        batches = int(self.progress_source()) if self.progress_source is not None else 0
        return {"epoch": int(self.dataset.epoch), "batches": batches}

    def load_state_dict(self, state: dict) -> None:
        self._resume = dict(state)

    def __iter__(self):
        if self.epoch_source is not None:
            self.dataset.epoch = int(self.epoch_source())
        resume, self._resume = self._resume, None
        self.dataset.skip = resume["batches"] if resume and resume["epoch"] == self.dataset.epoch else 0
        if self.num_workers == 0:
            return super().__iter__()
        return map(_as_tensors, super().__iter__())
