"""`JetDataModule`: one base turning any jet source into the view a model declares.

Subclasses implement `read_table() -> JetTable`. The base splits it deterministically by
`seed` into train/val/test, fits standardisation on the training split only, optionally
balances the training classes, and serves batches of the model's `input_view` (read from
`trainer.lightning_module` in `setup`, or given as `view=` outside a Trainer). See
docs/DESIGN.md §4 for the batch layout of each view.
"""

from __future__ import annotations

import dataclasses
import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

import lightning as L
import numpy as np
import torch
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader

from jetzoo.datamodules import views
from jetzoo.datamodules.arguments import check_data_options
from jetzoo.datamodules.datasets import DictDataset, EpochShuffleSampler
from jetzoo.datamodules.jet_identity import SPLIT_RULE_NAME, SPLIT_NAMES, SplitRule, manifest_hash, manifest_json
from jetzoo.datamodules.leakage import identified, refuse_overlap
from jetzoo.datamodules.streaming_datamodule import StreamingMixin, relabel
from jetzoo.datamodules.table import JetTable
from jetzoo.errors import JetDataError

VIEWS = ("hl", "image", "particles", "cloud")


def select_classes(table: JetTable, classes: list[str] | None) -> JetTable:
    """The task's classes: `classes` in that order (jets of other classes dropped, a listed class
    may have no jets), or by default the classes that have jets, in the source's order.

    A source's declared label set (JetClass declares 10) never defines the task by itself: a
    class with no jets would enter every macro average as AUC 0.
    """
    if classes is None:
        counts = np.bincount(table.labels, minlength=len(table.class_names))
        classes = [name for name, count in zip(table.class_names, counts) if count > 0]
        if classes == list(table.class_names):
            return table
    unknown = [c for c in classes if c not in table.class_names]
    if unknown:
        raise JetDataError(f"{table.source}: no class {', '.join(map(repr, unknown))} in the data (classes: {', '.join(table.class_names)})")
    return relabel(table, list(classes))


class JetDataModule(StreamingMixin, L.LightningDataModule, ABC):
    # the views this source can serve (docs/DESIGN.md §4); a source without constituents sets ("hl",)
    supported_views: ClassVar[tuple[str, ...]] = VIEWS
    # classes that are background in ParT-style signal-vs-background rejection (those present in the
    # data are used), and the signal efficiencies at which 1/eps_B is reported; subclasses override
    background_classes: ClassVar[tuple[str, ...]] = ("QCD",)
    signal_efficiencies: ClassVar[tuple[float, ...]] = (0.5, 0.3)

    def __init__(
        self,
        path: str | None = None,
        batch_size: int = 256,
        num_particles: int = 64,
        particle_features: list[str] | None = None,
        points: list[str] | None = None,
        image_size: int = 32,
        image_center: bool = True,
        image_rotate: bool = True,
        image_flip: bool = True,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        seed: int = 42,
        balance_classes: bool = False,
        max_jets: int | None = None,
        max_train_jets: int | None = None,
        num_workers: int = 0,
        view: str | None = None,
        classes: list[str] | None = None,
        streaming: bool | Literal["auto"] = "auto",
        memory_budget: float = 4.0,
        allow_external: bool = False,
    ):
        super().__init__()
        check_data_options(batch_size=batch_size, num_particles=num_particles, image_size=image_size,
                           val_fraction=val_fraction, test_fraction=test_fraction, max_jets=max_jets,
                           max_train_jets=max_train_jets, num_workers=num_workers, memory_budget=memory_budget,
                           views=VIEWS, view=view, particle_features=particle_features, points=points,
                           known_features=views.PARTICLE_FEATURES)
        self.path = path
        self.batch_size = batch_size
        self.num_particles = num_particles
        self.particle_features = list(particle_features or views.DEFAULT_PARTICLE_FEATURES)
        self.points = list(points or views.DEFAULT_POINTS)
        self.image_options = dict(size=image_size, center=image_center, rotate=image_rotate, flip=image_flip)
        self.val_fraction, self.test_fraction, self.seed = val_fraction, test_fraction, seed
        self.balance_classes, self.max_jets, self.num_workers = balance_classes, max_jets, num_workers
        # training-size curves on one fixed test set: at most this many training jets, a random subset of
        # the train split (fixed by `seed`, and nested: a smaller size keeps a subset of a larger one's);
        # val and test are unchanged. `max_jets` instead shrinks the whole sample, test included.
        self.max_train_jets = max_train_jets
        self.view = view
        self.classes = list(classes) if classes else None
        # streaming (streaming_datamodule.py): "auto" streams sources larger on disk than memory_budget GB
        self.streaming, self.memory_budget = streaming, float(memory_budget)
        # HDF5 data stored outside the file named (external links, raw files, virtual datasets): refused
        # unless allowed, and then identified by the hash of what was read (readers/hdf5.py)
        self.allow_external = bool(allow_external)
        self._streaming: bool | None = None
        self._stream_index = None
        self._table: JetTable | None = None
        self.checkpoint_record: dict | None = None  # see evaluate_for_checkpoint
        self.allow_overlap = False
        self.datasets: dict[str, DictDataset] = {}
        self.standardisation: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # --- what subclasses provide --------------------------------------------------------------
    @abstractmethod
    def read_table(self) -> JetTable:
        """All jets of the source, read into one JetTable."""

    # --- the table and what the data determines -----------------------------------------------
    @property
    def table(self) -> JetTable:
        if self._table is None:
            table = select_classes(identified(self.read_table().validate()), self.classes)
            if self.max_jets is not None and len(table) > self.max_jets:
                order = np.random.default_rng(self.seed).permutation(len(table))[: self.max_jets]
                table = table.subset(np.sort(order))
            self._table = table
        return self._table

    def reuse_jets_of(self, other: "JetDataModule") -> None:
        """Take the jets `other` has read: the same source and arguments, read once and viewed several ways."""
        if getattr(other, "_table", None) is not None:
            self._table = other._table

    @property
    def dims(self) -> dict[str, Any]:
        """Values the data determines; the CLI passes each to a model parameter of that name."""
        class_names = self.stream_classes() if self.is_streaming else list(self.table.class_names)
        return {
            "num_classes": len(class_names),
            "class_names": class_names,
            "num_hl_features": len(self._hl_names()),
            "num_particle_features": len(self.particle_features),
            "num_particles": self.num_particles,
            "image_size": self.image_options["size"],
            "background_classes": [c for c in self.background_classes if c in class_names],
            "signal_efficiencies": list(self.signal_efficiencies),
        }

    def _hl_names(self) -> list[str]:
        if self.is_streaming and self.stream_index.hl_names:
            return self.stream_index.hl_names
        if not self.is_streaming and self.table.hl is not None:
            return self.table.hl_names
        from jetzoo.physics.features import HL_FEATURE_NAMES

        return list(HL_FEATURE_NAMES)

    def _hl_array(self, table: JetTable) -> np.ndarray:
        if table.hl is not None:
            return table.hl
        from jetzoo.physics.features import high_level_features

        return high_level_features(table.p4, table.mask, table.jet_radius)

    # --- splitting and views -------------------------------------------------------------------
    @property
    def split_rule(self) -> SplitRule:
        """This data's split, by the rule a checkpoint being evaluated recorded (an older one: its own test split)."""
        recorded = ((self.checkpoint_record or {}).get("data") or {}).get("split") or {}
        return SplitRule(self.seed, self.val_fraction, self.test_fraction, recorded.get("rule", SPLIT_RULE_NAME))

    def split_indices(self) -> dict[str, np.ndarray]:
        """Train/val/test indices: each jet's split is a hash of its identity and `seed`
        (jet_identity.py), so adding files never moves a jet between splits."""
        split = self.split_rule.split_of(self.table.jet_ids)
        return {name: np.flatnonzero(split == code) for name, code in SPLIT_NAMES.items()}

    def data_provenance(self) -> dict:
        """What a checkpoint records of its training data: the manifest, its hash and the split rule."""
        sources = self.stream_index.sources if self.is_streaming else self.table.sources
        return {
            "manifest": manifest_json(sources),
            "manifest_sha256": manifest_hash(sources),
            "split": dataclasses.asdict(self.split_rule),
        }

    def evaluate_for_checkpoint(self, recorded: dict, allow_overlap: bool = False) -> None:
        """Evaluate (test/predict/validate) for the checkpoint whose `checkpoint["jetzoo"]` is `recorded`:
        jets of its training split are refused (printed instead with `allow_overlap`), and the data
        is standardised with the constants it was trained with. The CLI calls this for --ckpt_path."""
        self.checkpoint_record, self.allow_overlap = dict(recorded or {}), allow_overlap

    def _model_attribute(self, name: str):
        trainer = getattr(self, "trainer", None)
        module = getattr(trainer, "lightning_module", None) if trainer is not None else None
        return getattr(module, name, None)

    def _keep_classes(self, idx: np.ndarray, class_names: list[str] | None) -> np.ndarray:
        if not class_names:
            return idx
        keep = [i for i, c in enumerate(self.table.class_names) if c in class_names]
        if not keep:
            raise ValueError(f"{self.table.source}: none of the classes {class_names} in {self.table.class_names}")
        return idx[np.isin(self.table.labels[idx], keep)]

    def _balance(self, idx: np.ndarray) -> np.ndarray:
        labels = self.table.labels[idx]
        present = np.unique(labels)
        n_min = min((labels == c).sum() for c in present)
        rng = np.random.default_rng(self.seed + 1)
        kept = [rng.choice(idx[labels == c], n_min, replace=False) for c in present]
        return np.sort(np.concatenate(kept))

    def _view_arrays(self, table: JetTable, view: str) -> dict[str, np.ndarray]:
        if view == "hl":
            return {"hl": self._hl_array(table).astype(np.float32)}
        p4, mask = table.p4[:, : self.num_particles], table.mask[:, : self.num_particles]
        if p4.shape[1] < self.num_particles:
            pad = self.num_particles - p4.shape[1]
            p4, mask = np.pad(p4, ((0, 0), (0, pad), (0, 0))), np.pad(mask, ((0, 0), (0, pad)))
        if view == "particles":
            return views.particle_arrays(p4, mask, self.particle_features, self.points)
        if view == "cloud":
            return views.cloud_arrays(table.p4, table.mask)
        if view == "image":
            return {"image_inputs": views.image_inputs(table.p4, table.mask)}
        raise ValueError(f"unknown view '{view}' ({', '.join(VIEWS)})")

    def _fit_standardisation(self, arrays: dict[str, np.ndarray]) -> None:
        self.standardisation = {}
        if "hl" in arrays:
            hl = arrays["hl"]
            self.standardisation["hl"] = (hl.mean(0), hl.std(0) + 1e-6)
        if "features" in arrays:
            real = arrays["features"][arrays["mask"]]
            self.standardisation["features"] = (real.mean(0), real.std(0) + 1e-6)

    def standardisation_record(self) -> dict[str, list[list[float]]]:
        """The fitted standardisation as plain lists, for `checkpoint["jetzoo"]["standardisation"]`:
        `test`/`predict` from that checkpoint reuse it instead of fitting their own data's."""
        return {k: [m.tolist(), sd.tolist()] for k, (m, sd) in self.standardisation.items()}

    def feature_names_record(self) -> dict[str, list[str]]:
        """The inputs' names, in order, for `checkpoint["jetzoo"]["feature_names"]`: what `jetzoo export`
        writes beside the constants, and what `--init_from` checks a checkpoint's inputs against."""
        return {"hl": self._hl_names(), "features": list(self.particle_features), "points": list(self.points)}

    def _use_recorded_standardisation(self) -> bool:
        """Take the constants the model was trained with (`standardisation_record`, from the checkpoint
        being evaluated) instead of this data's own; False when the checkpoint has none."""
        recorded = (self.checkpoint_record or {}).get("standardisation")
        if recorded:
            self.standardisation = {k: (np.asarray(m, np.float32), np.asarray(sd, np.float32)) for k, (m, sd) in recorded.items()}
        return bool(recorded)

    def _standardise(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = dict(arrays)
        if "hl" in out:
            mean, std = self.standardisation["hl"]
            out["hl"] = (out["hl"] - mean) / std
        if "features" in out:
            mean, std = self.standardisation["features"]
            out["features"] = ((out["features"] - mean) / std) * out["mask"][..., None]
        return out

    def setup(self, stage: str | None = None) -> None:
        view = self.view or self._model_attribute("input_view") or "hl"
        if view not in VIEWS:
            raise ValueError(f"unknown view '{view}' ({', '.join(VIEWS)})")
        if view not in self.supported_views:
            raise JetDataError(
                f"{self.path or type(self).__name__}: serves the {', '.join(self.supported_views)} view(s), not '{view}'"
            )
        train_classes = self._model_attribute("train_classes")
        key = (view, tuple(train_classes or ()))
        if self.datasets and getattr(self, "_setup_key", None) == key:
            return
        self._setup_key = key
        if self.is_streaming:
            return self._setup_streaming(view, train_classes, stage)
        splits = self.split_indices()
        evaluating = stage in ("test", "predict", "validate") and self.checkpoint_record
        if evaluating and self.checkpoint_record.get("data"):
            evaluated = "val" if stage == "validate" else "test"
            refuse_overlap(self.table, splits[evaluated], evaluated, self.checkpoint_record["data"], self.split_rule,
                           self.allow_overlap)
        for name in ("train", "val"):
            splits[name] = self._keep_classes(splits[name], train_classes)
        if self.balance_classes:
            splits["train"] = self._balance(splits["train"])
        splits["train"] = self._at_most_train_jets(splits["train"])
        self.split_sizes = {k: len(v) for k, v in splits.items()}
        if stage in (None, "fit") and not len(splits["train"]):
            raise JetDataError(f"{self.path or type(self).__name__}: the train split holds no jets ({self.split_sizes}); "
                               "use more jets (--data.max_jets, --data.n) or smaller --data.val_fraction/--data.test_fraction")
        arrays = {k: self._view_arrays(self.table.subset(v), view) for k, v in splits.items()}
        if not (evaluating and self._use_recorded_standardisation()):
            self._fit_standardisation(arrays["train"])
        for name, idx in splits.items():
            data = self._standardise(arrays[name])
            data["label"] = self.table.labels[idx]
            self.datasets[name] = DictDataset({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in data.items()})

    def _at_most_train_jets(self, train: np.ndarray) -> np.ndarray:
        """The first `max_train_jets` of one seeded permutation of the train split, in file order."""
        if self.max_train_jets is None or len(train) <= self.max_train_jets:
            return train
        order = np.random.default_rng([self.seed, 0x7261696E]).permutation(len(train))[: self.max_train_jets]
        return train[np.sort(order)]

    # --- loaders --------------------------------------------------------------------------------
    def _collate(self, items) -> dict[str, torch.Tensor]:
        batch = items if isinstance(items, dict) else torch.utils.data.default_collate(items)
        if "image_inputs" in batch:
            radius = self.stream_index.jet_radius if self.is_streaming else self.table.jet_radius
            batch["image"] = views.jet_images(batch.pop("image_inputs"), extent=radius, **self.image_options)
        return batch

    def _shuffle_seed(self) -> int:
        # the order depends on the data seed and on `seed_everything` (Lightning exports it), so runs
        # with different seeds see different orders and a resumed run sees the same one
        return self.seed * 1_000_003 + int(os.environ.get("PL_GLOBAL_SEED", 0))

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if self.is_streaming:
            return self._stream_loader(split)
        dataset = self.datasets[split]
        shuffle_seed = self._shuffle_seed()
        trainer = getattr(self, "trainer", None)
        epoch_source = (lambda: trainer.fit_loop.epoch_progress.current.processed) if trainer is not None else None
        sampler = EpochShuffleSampler(dataset, shuffle_seed, epoch_source) if shuffle else None
        if not shuffle and trainer is not None and trainer.world_size > 1:
            # every jet evaluated exactly once across processes: no padding duplicates
            sampler = UnrepeatedDistributedSampler(dataset, trainer.world_size, trainer.global_rank, shuffle=False)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            # the loader's own generator seeds its workers: loaders never draw from the global state
            generator=torch.Generator().manual_seed(shuffle_seed % 2**63),
            drop_last=shuffle and len(dataset) > self.batch_size,
            collate_fn=self._collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
