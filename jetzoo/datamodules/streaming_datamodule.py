"""What `JetDataModule` does when it streams (`--data.streaming`, docs/DESIGN.md §4b).

`--data.streaming auto` (the default) streams when the source can (`chunk_reader()`: every file
datamodule and `pythia`) and the memory it would take in memory, estimated as IN_MEMORY_EXPANSION x
its bytes on disk, exceeds `--data.memory_budget` GB; `true`/`false` force the choice. Streaming keeps the in-memory path's rules: the hash split, the task's classes,
the model's `train_classes`, standardisation fitted on training jets (a bounded sample) or taken
from the checkpoint, and the overlap check against a checkpoint's training jets.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np

from jetzoo.datamodules.jet_identity import SPLIT_NAMES, Source, SplitRule, training_ids
from jetzoo.datamodules.leakage import overlap_message
from jetzoo.datamodules.streaming import STREAM_CHUNK_JETS, StreamIndex, StreamingJets, StreamingLoader
from jetzoo.datamodules.table import JetTable
from jetzoo.errors import JetDataError


# peak memory of an in-memory fit / bytes of its files on disk, as measured (benchmarks/streaming_memory.md:
# 1.6M jets, a 2.7 GB uncompressed file, peaked at 13.6 GB in memory for ParticleNet-lite)
IN_MEMORY_EXPANSION = 5.0


def bytes_on_disk(path) -> int:
    """Size of the files `path` (a file, a directory, a glob, or a list of these) names."""
    if path is None:
        return 0
    if not isinstance(path, (str, Path)):
        return sum(bytes_on_disk(p) for p in path)
    text = str(Path(path).expanduser())
    if os.path.isdir(text):
        return sum(f.stat().st_size for f in Path(text).iterdir() if f.is_file())
    return sum(os.path.getsize(f) for f in (glob.glob(text) or [text]) if os.path.isfile(f))


def relabel(chunk: JetTable, classes: list[str]) -> JetTable:
    """`chunk` with labels in the task's class order; jets of other classes dropped."""
    index = {name: i for i, name in enumerate(classes)}
    new = np.array([index.get(name, -1) for name in chunk.class_names], dtype=np.int64)
    keep = np.flatnonzero(new[chunk.labels] >= 0)
    sub = chunk.subset(keep)
    sub.labels, sub.class_names = new[sub.labels], list(classes)
    return sub


def task_chunk(chunk: JetTable, classes: list[str], kept: list[str]) -> JetTable:
    """`chunk` labelled in the task's classes, keeping only jets of the classes `kept` (a split's)."""
    chunk = relabel(chunk, classes)
    if kept != classes:
        chunk = chunk.subset(np.flatnonzero(np.isin(chunk.labels, [classes.index(c) for c in kept])))
    return chunk


class StreamingMixin:
    """The streaming half of JetDataModule; the attributes it uses are set in JetDataModule.__init__."""

    def chunk_reader(self, hl_only: bool = False):
        """(read(path, select) -> validated chunks with ids, path) for a source that can stream, else
        None (a table built in memory by `read_table`, such as a plugin's, cannot stream).

        `hl_only`: the hl view is read; a format that stores high-level features may then leave the
        constituents unread (chunks with p4 of shape (n, 0, 4)). Sources may ignore it."""
        return None

    @property
    def is_streaming(self) -> bool:
        if self._streaming is None:
            reader = self.chunk_reader()
            if self.streaming in (True, "true") and reader is None:
                raise JetDataError(f"{type(self).__name__}: this source cannot stream; use --data.streaming false")
            if self.streaming == "auto":
                estimate = IN_MEMORY_EXPANSION * bytes_on_disk(reader[1]) if reader is not None else 0
                self._streaming = estimate > self.memory_budget * 1e9
            else:
                self._streaming = self.streaming in (True, "true")
            if self._streaming and (self.balance_classes or self.max_jets is not None):
                raise JetDataError(f"{reader[1]}: --data.balance_classes and --data.max_jets need the data in memory; "
                                   "use --data.streaming false")
        return self._streaming

    @property
    def stream_index(self) -> StreamIndex:
        if self._stream_index is None:
            read, path = self.chunk_reader()
            self._stream_index = StreamIndex.build(read, path, self.split_rule)
        return self._stream_index

    def stream_classes(self) -> list[str]:
        index = self.stream_index
        if self.classes is not None:
            unknown = [c for c in self.classes if c not in index.class_names]
            if unknown:
                raise JetDataError(f"{index.source}: no class {', '.join(map(repr, unknown))} in the data "
                                   f"(classes: {', '.join(index.class_names)})")
            return list(self.classes)
        counts = index.class_counts()
        return [name for name, n in zip(index.class_names, counts) if n > 0]

    def _setup_streaming(self, view: str, train_classes, stage) -> None:
        if getattr(self, "max_train_jets", None) is not None:
            from jetzoo.errors import JetDataError

            raise JetDataError(f"{self.path}: --data.max_train_jets needs the in-memory path (--data.streaming false); "
                               "streaming serves the whole train split")
        index, classes = self.stream_index, self.stream_classes()
        read, _ = self.chunk_reader(hl_only=view == "hl")
        evaluating = stage in ("test", "predict", "validate") and self.checkpoint_record
        if evaluating and self.checkpoint_record.get("data"):
            self._refuse_stream_overlap("val" if stage == "validate" else "test", classes)
        split_classes = {
            name: [c for c in classes if name == "test" or not train_classes or c in train_classes]
            for name in SPLIT_NAMES
        }
        counted = {name: [index.class_names.index(c) for c in kept] for name, kept in split_classes.items()}
        self.split_sizes = index.split_sizes(counted["test"]) | {
            name: index.split_sizes(counted[name])[name] for name in ("train", "val")
        }
        if not (evaluating and self._use_recorded_standardisation()):
            sample = None if index.sample is None else task_chunk(index.sample, classes, split_classes["train"])
            if sample is None or not len(sample):
                raise JetDataError(f"{index.source}: no training jets to fit the standardisation on")
            self._fit_standardisation(self._view_arrays(sample, view))

        def to_arrays(chunk: JetTable) -> dict[str, np.ndarray]:
            data = self._standardise(self._view_arrays(chunk, view))
            data["label"] = chunk.labels
            return data

        for name in SPLIT_NAMES:
            self.datasets[name] = StreamingJets(
                read, index.blocks, name, counted[name], self.split_rule,
                prepare=lambda chunk, kept=split_classes[name]: task_chunk(chunk, classes, kept),
                to_arrays=to_arrays, batch_size=self.batch_size, shuffle=name == "train",
                seed=self._shuffle_seed(), workers=self.num_workers,
            )

    def _refuse_stream_overlap(self, split: str, classes: list[str]) -> None:
        """The overlap check of `leakage.refuse_overlap`, one chunk at a time."""
        record = self.checkpoint_record["data"]
        trained_rule = SplitRule(**record["split"])
        trained = training_ids([Source.from_json(s) for s in record["manifest"]], trained_rule)
        read, path = self.chunk_reader()
        seen = total = 0
        for chunk in read(path, None):
            ids = relabel(chunk, classes).jet_ids
            ids = ids[self.split_rule.split_of(ids) == SPLIT_NAMES[split]]
            seen, total = seen + int(np.isin(trained_rule.key_of(ids), trained).sum()), total + len(ids)
        overlap_message(self.stream_index.source, seen, total, split, record, self.split_rule, self.allow_overlap)

    def _stream_loader(self, split: str) -> StreamingLoader:
        dataset = self.datasets[split]
        trainer = getattr(self, "trainer", None)
        if trainer is not None:
            dataset.rank, dataset.world = trainer.global_rank, trainer.world_size
        epoch_source = (lambda: trainer.fit_loop.epoch_progress.current.processed) if trainer is not None else None
        if dataset.shuffle and len(dataset) == 0:
            raise JetDataError(
                f"{self.stream_index.source}: {len(dataset.blocks)} blocks of up to {STREAM_CHUNK_JETS} training jets "
                f"cannot give every one of {dataset.world * dataset.workers} loader slots (ranks x workers) a batch "
                f"of {self.batch_size}; use fewer workers, a smaller batch or --data.streaming false"
            )
        # batches of the epoch trained on, this one included: what a checkpoint written now has seen
        progress = (lambda: trainer.fit_loop.epoch_loop.batch_progress.current.processed) if trainer is not None else None
        return StreamingLoader(dataset, epoch_source=epoch_source, progress_source=progress, collate_fn=self._collate,
                               num_workers=self.num_workers, persistent_workers=False)


__all__ = ["STREAM_CHUNK_JETS", "StreamingMixin", "bytes_on_disk", "relabel", "task_chunk"]
