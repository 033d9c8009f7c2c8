"""Datamodules: every jet source read into one JetTable, served in the view a model declares."""
