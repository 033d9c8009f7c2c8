"""The plugin registry: which models and datamodules exist, found through Python entry points
(`entries`), whether each plugin loads (`health`, checked in a child process), and a registered
model reloaded from its checkpoint by name (`checkpoints`).

May import: `jetzoo.zoo` (a checkpoint's weight names), `jetzoo.io`, `jetzoo.errors`. Never the
training, bench, export or cli rooms above it.

The names plugins and users import stay here: `jetzoo.registry.get_model`, `list_models`,
`load_checkpoint`, ... Importing this package reads entry-point metadata only (no torch).
"""

from __future__ import annotations

from jetzoo.registry.entries import (  # noqa: F401 - the registry's public names
    DATAMODULE_GROUP,
    DEPRECATED_NAMES,
    KIND,
    MODEL_GROUP,
    REQUIRED_BASE,
    Entry,
    PluginError,
    RegistryError,
    create_datamodule,
    create_model,
    datamodule_entries,
    describe,
    get_datamodule,
    get_model,
    import_class_path,
    list_datamodules,
    list_models,
    model_entries,
    renamed,
    resolve_cli_value,
    short_name_of,
)


def load_checkpoint(name: str, checkpoint_path: str, allow_remote: bool = False, **kwargs):
    """Reload a trained model by its registry short name, weights-only (`jetzoo.registry.checkpoints`).

    A checkpoint of another model is an error naming both; a URL is refused unless `allow_remote`.
    """
    from jetzoo.registry.checkpoints import load_model_checkpoint  # torch only when a checkpoint is loaded

    return load_model_checkpoint(get_model(name), checkpoint_path, allow_remote=allow_remote, **kwargs)
