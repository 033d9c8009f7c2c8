"""Test fixture: claims `mlp`, which jetzoo itself provides."""

from jetzoo.zoo.mlp import MLP as OtherMLP  # noqa: F401
