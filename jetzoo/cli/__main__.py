"""`python -m jetzoo.cli` is the `jetzoo` command (as `python -m jetzoo`)."""

import os
import sys

from jetzoo.cli.main import main

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
