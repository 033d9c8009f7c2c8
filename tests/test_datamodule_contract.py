"""jetzoo's own run of the datamodule contract (jetzoo/testing/datamodule_contract.py, the kit plugins
run with `jetzoo check-plugin`) on every registered datamodule, and the checks of the built-in formats.
The built-in formats' samples are in tests/conftest.py (`jetzoo_builtin_samples`)."""

from __future__ import annotations

from jetzoo import registry
from jetzoo.testing.datamodule_contract import *  # noqa: F401,F403 - the contract's tests, collected here


def test_each_format_is_declared_once_and_registered_under_its_name():
    """readers.READERS declares the formats; each file datamodule names one, under that entry point."""
    from jetzoo.datamodules.file_formats import FileDataModule
    from jetzoo.datamodules.readers import CHUNK_READERS, READERS

    entries = registry.datamodule_entries()
    file_modules = {}
    for name, entry in entries.items():
        if entry.distribution == "jetzoo":
            cls = registry.get_datamodule(name)
            if issubclass(cls, FileDataModule):
                file_modules[name] = cls.format_name
    assert file_modules == {name: name for name in READERS}
    assert set(CHUNK_READERS) == set(READERS)
