"""`jetzoo generate`: labelled jet samples from Pythia 8 + FastJet, exactly reproducible from (recipe, seed, n).

Also the writing of a generative model's jets to the same layout (`generated_output`).

May import: `jetzoo.metrics`, `jetzoo.physics`, `jetzoo.io`, `jetzoo.errors`. Never `jetzoo.datamodules`
or any room above it: the readers depend on the generator, not the reverse.
"""

from jetzoo.generate.api import cache_dir, default_dataset_path, ensure_generated, generate
from jetzoo.generate.cli import add_generate_arguments, run_generate_command
from jetzoo.generate.recipes import RECIPES, Recipe, stale_recipe_warning

__all__ = [
    "RECIPES",
    "Recipe",
    "add_generate_arguments",
    "cache_dir",
    "default_dataset_path",
    "ensure_generated",
    "generate",
    "run_generate_command",
    "stale_recipe_warning",
]
