"""The in-memory splits' dataset and training order: `DictDataset` (rows of equal-length tensors, fetched a
batch at a time) and `EpochShuffleSampler` (an order that is a function of (seed, epoch) alone, so a
resumed fit replays it). The streamed splits have their own (streaming.py)."""

from __future__ import annotations

from typing import Callable

import torch
from torch.utils.data import Dataset, RandomSampler


class DictDataset(Dataset):
    """Rows of a dict of equal-length tensors."""

    def __init__(self, arrays: dict[str, torch.Tensor]):
        self.arrays = arrays
        self.length = len(next(iter(arrays.values())))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i] for k, v in self.arrays.items()}

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        """A whole batch in one indexing operation per tensor (DataLoader's batched fetch)."""
        index = torch.as_tensor(indices)
        return {k: v[index] for k, v in self.arrays.items()}


class EpochShuffleSampler(RandomSampler):
    """A random order that is a function of (seed, epoch) alone, never of the global random state.

    The epoch is read when iteration starts: from `epoch_source` (the trainer's fit loop) when
    given, else from the last `set_epoch`. Lightning creates the training iterator (and, with
    workers, prefetches from it) before it calls `set_epoch`, and on resume it keeps that
    iterator, so the loop's own counter is what makes a resumed fit replay the same order.
    Under DDP Lightning replaces this sampler (a RandomSampler) by its DistributedSampler.
    """

    def __init__(self, data_source, seed: int, epoch_source: Callable[[], int] | None = None):
        super().__init__(data_source)
        self.seed, self.epoch, self.epoch_source = seed, 0, epoch_source

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        epoch = self.epoch_source() if self.epoch_source is not None else self.epoch
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        return iter(torch.randperm(len(self.data_source), generator=generator).tolist())
