"""An example jetzoo plugin: a model (`highway`, entry point group `jetzoo.models`) and a datamodule
(`hl-csv`, group `jetzoo.datamodules`)."""
