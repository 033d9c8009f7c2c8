"""Checkpoints on the Lightning side: jetzoo's atomic, weights-only checkpoint I/O for the Trainer, and
the provenance record every checkpoint carries.

The file-level rules (weights-only loading, atomic saving, remote checkpoints refused) are
`jetzoo.io.checkpoints`; checking that a checkpoint holds the model asked for is
`jetzoo.registry.checkpoints`. This module re-exports both, so `jetzoo.training.checkpoints` is the
one place a training script needs.
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.callbacks import Callback

from jetzoo.io.checkpoints import (  # noqa: F401 - re-exported
    CheckpointError,
    SafeCheckpointIO,
    checkpoint_model_class,
    class_path_of,
    is_remote,
    load_checkpoint_file,
    local_checkpoint_path,
    save_checkpoint_atomically,
)
from jetzoo.io.files import remove_stale_temp_files  # noqa: F401 - re-exported
from jetzoo.registry.checkpoints import (  # noqa: F401 - re-exported
    check_model_class,
    check_shapes_fit,
    load_model_checkpoint,
    registry_name,
)


class CheckpointProvenance(Callback):
    """Writes `checkpoint["jetzoo"]`: the network's registry name and class path, jetzoo's version, and
    the training data's provenance (`data`: manifest, its hash, split rule), the standardisation
    constants the model was trained with (`standardisation`) and its inputs' names (`feature_names`)."""

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        from jetzoo import __version__

        class_path = class_path_of(pl_module)
        checkpoint["jetzoo"] = {
            "model_class": class_path,
            "model_name": registry_name(class_path) or "",
            "jetzoo_version": __version__,
        }
        datamodule = getattr(trainer, "datamodule", None)
        if hasattr(datamodule, "data_provenance"):
            # the training data's manifest and split rule (never lists of ids): the overlap check of
            # `test`/`predict` re-derives the training jets from them (jetzoo/datamodules/leakage.py)
            checkpoint["jetzoo"]["data"] = datamodule.data_provenance()
        if hasattr(datamodule, "standardisation_record"):
            checkpoint["jetzoo"]["standardisation"] = datamodule.standardisation_record()
            checkpoint["jetzoo"]["feature_names"] = datamodule.feature_names_record()
