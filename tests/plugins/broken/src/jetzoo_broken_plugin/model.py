"""A plugin module that fails on import, as a plugin with a missing dependency would."""

import jetzoo_dependency_that_is_not_installed  # noqa: F401

Model = None
