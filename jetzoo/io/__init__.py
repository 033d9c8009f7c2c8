"""Files jetzoo writes and reads safely: atomic writes and file hashes (`files`), and checkpoints that
are data, never code (`checkpoints`: weights-only loading, atomic saving, remote files refused).

May import: `jetzoo.errors` only (and torch/Lightning's checkpoint I/O). Every other room may import it.
"""
