"""The model zoo: one model family per module, each registered through the `jetzoo.models` entry point."""
