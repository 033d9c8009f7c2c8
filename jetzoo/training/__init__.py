"""Training machinery: building a model for a datamodule and its Trainer (`build`), checkpoints on the
Lightning side (`checkpoints`), exact resume (`resume`), fine-tuning (`fine_tuning`), the test ROC
and prediction callbacks, run directories (`run_dirs`), what a run prints (`output`) and its model
summary (`summary`).

May import: `jetzoo.registry`, `jetzoo.zoo`, `jetzoo.datamodules`, `jetzoo.plots`, `jetzoo.metrics`,
`jetzoo.io`, `jetzoo.errors`. Never `jetzoo.bench`, `jetzoo.export` or `jetzoo.cli`, which use it.
"""

from jetzoo.training.build import (  # noqa: F401 - one fit + test, shared by the CLI, the bench and the tests
    build,
    fit_and_test,
    init_parameters,
    jetzoo_trainer_extras,
    model_kwargs_from_data,
    quiet_trainer,
)
