"""A bench run killed mid-training resumes where it was (issue 23: a board trains for days, in pieces).

Before, a killed bench lost every run in flight: a part-lite run of the leaderboard (up to ~7 CPU-hours) could
never finish in pieces shorter than itself. Now each run writes its state after every epoch to
OUT/checkpoints/<label>-seed<k>/last.ckpt: jetzoo's exact resume (weights, optimiser and schedule, loop
position, random states) plus the bench's own callbacks (the best epoch's weights and the validation curve,
early stopping, the CPU seconds trained so far, a generator's W1M curve). Beside it, `run.json` holds the run
key and the code that wrote the checkpoint (jetzoo.bench.code_version).

A re-run of the bench resumes an unfinished run from its checkpoint when both still hold: the same run key,
and no change in the jetzoo source the run had imported. Otherwise it says why and starts the run again. A
finished run's checkpoint is deleted once its record is written. Checkpoints are written at epoch ends only:
the in-memory loaders keep no position inside an epoch, so that is where the resumed run is exactly the
uninterrupted one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from jetzoo.bench import code_version, store
from jetzoo.bench.console import say
from jetzoo.training.resume import LatestModelCheckpoint

SIDECAR = "run.json"


def checkpoint_dir(out, label: str, seed: int) -> Path:
    return Path(out) / "checkpoints" / store.run_name(label, seed)


class RunCheckpoint(LatestModelCheckpoint):
    """`last.ckpt` of one bench run after every epoch, and `run.json` (key, code) beside it."""

    def __init__(self, directory: Path, key: str):
        # after each epoch's validation where there is one (the best epoch and early stopping have seen it), else
        # at the end of its training (Lightning's choice when save_on_train_epoch_end is None)
        super().__init__(dirpath=str(directory), save_last=True, save_top_k=0, monitor=None, every_n_epochs=1)
        self.directory, self.key = Path(directory), key

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        store.write_json(self.directory / SIDECAR, {"key": self.key, "code": code_version.identity(),
                                                    "epoch": int(trainer.current_epoch) + 1})


def resume_point(directory: Path, key: str, prefix: str) -> str | None:
    """The checkpoint to resume the run from, or None (and a stale one removed, saying why)."""
    last, meta = directory / "last.ckpt", store.read_record(directory / SIDECAR)
    if not last.is_file() or not meta:
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
        return None
    reason = "it is of another run key" if meta.get("key") != key else code_version.stale_reason(meta)
    if reason:
        say(f"{prefix}: its checkpoint is not resumed ({reason}): training from the start")
        shutil.rmtree(directory, ignore_errors=True)
        return None
    say(f"{prefix}: resuming from its checkpoint after epoch {meta.get('epoch', '?')}")
    return str(last)


def fit(spec, model_spec, seed: int, key: str | None, prefix: str, model, datamodule, callbacks: list, **trainer_kwargs):
    """Lightning's fit of one bench run, resumable when it has a run `key` (from its checkpoint, if one holds);
    returns (trainer, whether it resumed). The spec's own Trainer options come after the caller's, the model's own
    (`ModelSpec.trainer_kwargs`, e.g. its precision) last."""
    trainer, ckpt_path = prepared_trainer(spec, model_spec, seed, key, prefix, callbacks, **trainer_kwargs)
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer, ckpt_path is not None


def prepared_trainer(spec, model_spec, seed: int, key: str | None, prefix: str, callbacks: list, **trainer_kwargs):
    """(the Trainer of one bench run, the checkpoint it resumes from or None): `fit` without the fit, for a caller
    that handles the fit's errors itself (a generator that diverges keeps its best epoch, bench/generative.py)."""
    from jetzoo.training import quiet_trainer

    ckpt_path = None
    if key is not None:
        directory = checkpoint_dir(spec.out, spec.label(model_spec), seed)
        ckpt_path = resume_point(directory, key, prefix)
        callbacks = [*callbacks, RunCheckpoint(directory, key)]
        trainer_kwargs["enable_checkpointing"] = True
    options = {**trainer_kwargs, **spec.trainer.kwargs, **model_spec.trainer_kwargs}  # the model's own come last
    return quiet_trainer(callbacks=callbacks, **options), ckpt_path


def finished(spec, label: str, seed: int) -> None:
    """A run's record is written: its checkpoint is no longer needed."""
    shutil.rmtree(checkpoint_dir(spec.out, label, seed), ignore_errors=True)
