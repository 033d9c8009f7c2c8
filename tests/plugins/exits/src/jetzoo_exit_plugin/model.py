"""A plugin module that ends the process on import, as a script-style module might."""

import sys

sys.exit(3)
