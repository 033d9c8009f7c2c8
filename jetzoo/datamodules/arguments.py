"""The shared datamodule options checked when the datamodule is built, before any jet is generated or read.

Each bad value is a one-line `OptionError` naming the option as the command line spells it
(`--data.batch_size: ...`); before, `--data.batch_size 0` ended in a DataLoader traceback and
`--data.val_fraction -0.1` was accepted.
"""

from __future__ import annotations

from jetzoo.errors import OptionError


def _integer(name: str, value, low: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise OptionError(f"--data.{name}: must be {what}, got {value!r}")


def check_data_options(*, batch_size, num_particles, image_size, val_fraction, test_fraction, max_jets,
                       max_train_jets, num_workers, memory_budget, views, view, particle_features=None, points=None,
                       known_features=()) -> None:
    _integer("batch_size", batch_size, 1, "a positive number of jets")
    _integer("num_particles", num_particles, 1, "a positive number of particles per jet")
    _integer("image_size", image_size, 1, "a positive number of pixels")
    _integer("num_workers", num_workers, 0, "0 (load in this process) or a positive number of loader processes")
    for name, value in (("max_jets", max_jets), ("max_train_jets", max_train_jets)):
        if value is not None:
            _integer(name, value, 1, "a positive number of jets (or null for all of them)")
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise OptionError(f"--data.{name}: must be a fraction in [0, 1), got {value!r}")
    # a sum of exactly 1 leaves no training jets, which a file only tested or predicted on needs none of
    # (a fit of it stops at setup: the train split holds no jets)
    if val_fraction + test_fraction > 1:
        raise OptionError(f"--data.val_fraction {val_fraction} + --data.test_fraction {test_fraction} = "
                          f"{val_fraction + test_fraction:g}: the splits cannot take more than all the jets")
    if not memory_budget > 0:
        raise OptionError(f"--data.memory_budget: must be a positive number of GB, got {memory_budget!r}")
    if view is not None and view not in views:
        raise OptionError(f"--data.view: unknown view '{view}' ({', '.join(views)})")
    for name, value in (("particle_features", particle_features), ("points", points)):
        unknown = [f for f in value or () if f not in known_features]
        if unknown:
            raise OptionError(f"--data.{name}: unknown particle feature(s) {', '.join(unknown)} "
                              f"(choose from {', '.join(sorted(known_features))})")
    if points is not None and len(points) != 2:
        raise OptionError(f"--data.points: takes two coordinates (default deta, dphi), got {list(points)}")
