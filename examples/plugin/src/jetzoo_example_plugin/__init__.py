"""An example jetzoo plugin: one model registered through the `jetzoo.models` entry point."""
