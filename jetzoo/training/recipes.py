"""Each model's published training recipe as a named config (issue 23 §2): `jetzoo/training/recipes/NAME.yaml`.

A recipe is a LightningCLI config (so `jetzoo fit --model particlenet --recipe particlenet` reads it as a
`--config` placed right after `--model`; later options override it) with a header of comments that source
every value: the paper's section or table, or the authors' repository file and line. It sets:
- `model.init_args`: optimizer (jetzoo.zoo.optimizers: adamw, adam, ranger), lr, weight_decay, scheduler;
- `data.init_args.batch_size`;
- `trainer.max_epochs`, and an EarlyStopping callback on val/loss whose `patience` ends the fit.
`jetzoo bench` uses each model's own recipe (`default_recipe`: the class attribute `recipe`) unless the
spec says `recipes: false`; its run key holds the recipe's text.

An "epoch" here is one pass over the training split. The ParticleNet and ParT scripts count 2400 steps of
512 jets as their epoch, about one pass over the 1.2M Top Tagging training jets, so the two agree there.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml

from jetzoo.errors import OptionError

RECIPE_DIR = Path(__file__).with_name("recipes")
EARLY_STOPPING = "lightning.pytorch.callbacks.EarlyStopping"


@dataclass(frozen=True)
class Recipe:
    name: str
    path: Path
    model_args: dict
    data_args: dict  # batch_size, and num_particles / particle_features where the recipe sets the inputs
    max_epochs: int | None
    patience: int | None
    trainer_args: dict = None  # other Trainer options (gradient_clip_val, ...), for `jetzoo bench`
    callbacks: tuple = ()  # other callbacks, {class_path, init_args}: built by `build_callbacks`

    @property
    def sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPE_DIR.glob("*.yaml"))


def recipe_path(name: str) -> Path:
    """The file of recipe `name` (OptionError naming the known ones, and the closest)."""
    path = RECIPE_DIR / f"{name}.yaml"
    if not name or "/" in name or not path.is_file():
        close = difflib.get_close_matches(name, recipe_names(), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise OptionError(f"--recipe {name}: no such recipe{hint}; known: {', '.join(recipe_names())}")
    return path


def load_recipe(name: str) -> Recipe:
    path = recipe_path(name)
    config = yaml.safe_load(path.read_text()) or {}
    trainer = config.get("trainer", {}) or {}
    patience, callbacks = None, []
    for callback in trainer.get("callbacks", []) or []:
        if callback.get("class_path") == EARLY_STOPPING:
            patience = int(callback["init_args"]["patience"])
        else:
            callbacks.append(callback)
    return Recipe(
        name=name,
        path=path,
        model_args=dict((config.get("model", {}) or {}).get("init_args", {}) or {}),
        data_args=dict((config.get("data", {}) or {}).get("init_args", {}) or {}),
        max_epochs=trainer.get("max_epochs"),
        patience=patience,
        trainer_args={k: v for k, v in trainer.items() if k not in ("max_epochs", "callbacks")},
        callbacks=tuple(callbacks),
    )


def build_callbacks(recipe: Recipe | None) -> list:
    """The recipe's callbacks other than EarlyStopping, instantiated (Lightning's own classes only)."""
    import importlib

    built = []
    for callback in (recipe.callbacks if recipe else ()):
        module, _, name = callback["class_path"].rpartition(".")
        if not module.startswith("lightning."):
            raise OptionError(f"recipe {recipe.name}: callback {callback['class_path']} is not one of Lightning's")
        built.append(getattr(importlib.import_module(module), name)(**(callback.get("init_args") or {})))
    return built


def default_recipe(model_cls) -> str | None:
    """The recipe a model trains with in the bench: its class attribute `recipe`, else None."""
    return getattr(model_cls, "recipe", None)


def expand_recipe_option(argv: list[str]) -> list[str]:
    """`--recipe NAME` (or `--recipe=NAME`) becomes `--config <its file>` right after `--model X`, so the
    model is chosen before its init_args are read and every later option overrides the recipe."""
    out, recipe, i = [], None, 0
    while i < len(argv):
        flag, eq, value = argv[i].partition("=")
        if flag == "--recipe":
            if not eq:
                if i + 1 >= len(argv):
                    raise OptionError("--recipe: expected a recipe name")
                i += 1
                value = argv[i]
            recipe = value
        else:
            out.append(argv[i])
        i += 1
    if recipe is None:
        return argv
    path = str(recipe_path(recipe))
    for k, arg in enumerate(out):
        flag, eq, _ = arg.partition("=")
        if flag == "--model":
            at = k + (1 if eq else 2)
            return [*out[:at], "--config", path, *out[at:]]
    raise OptionError(f"--recipe {recipe}: name the model too (--model NAME): a recipe sets a model's options")
