"""jetzoo: a PyTorch Lightning model zoo for jet tagging and jet generation.

The package root holds only this file, `errors.py` and `__main__.py`; everything else lives in a
room of its own role (docs/DESIGN.md, "The map"). Old module paths of jetzoo 0.1.0 keep working,
with a DeprecationWarning, until 0.4 (`jetzoo.compat`).
"""

__version__ = "0.1.0"

from jetzoo import compat as _compat  # noqa: E402

_compat.install()
