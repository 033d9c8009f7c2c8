"""jetzoo: a PyTorch Lightning model zoo for jet tagging and jet generation."""

__version__ = "0.1.0"
