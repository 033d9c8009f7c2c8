"""Datamodules: every jet source read into one JetTable, served in the view a model declares.

Readers for the published layouts (`readers/`), jet identity and splits, streaming.

May import: `jetzoo.generate` (the generator's plan, for a generated jet's identity), `jetzoo.physics`,
`jetzoo.io`, `jetzoo.errors`. Never `jetzoo.zoo` or any room above it.
"""
