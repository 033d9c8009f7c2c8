"""`python -m jetzoo` is the `jetzoo` command."""

import os
import sys

from jetzoo.cli.main import main

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
