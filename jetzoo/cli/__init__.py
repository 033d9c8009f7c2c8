"""The `jetzoo` command: the entry point and its sub-commands (`main`), Lightning's CLI with jetzoo's
data flow and safety rails (`lightning`), the `models` / `datasets` tables (`catalog`), `jetzoo sample`
(`sample`) and `jetzoo export`'s arguments (`export_arguments`).

May import every other room; nothing imports it. `jetzoo --version` imports only this package's
`main` and the registry's entry-point metadata.
"""

from jetzoo.cli.main import (  # noqa: F401 - `jetzoo = jetzoo.cli:main`
    LIGHTNING_SUBCOMMANDS,
    give_loggers_a_save_dir,
    main,
    resolve_short_names,
    run_lightning,
)
