"""A task module's `__init__` built from its backbone's: one signature, declared once, in the backbone.

A backbone is a plain `torch.nn.Module` (tensors in, no Lightning), whose `__init__` declares the
architecture's arguments and whose class docstring documents them (Google-style `Args:`). A task
module names it (`backbone_class = MLPBackbone`) and gets an `__init__` taking the backbone's arguments
followed by the task's shared ones (class names, lr, ...), with both docstrings' `Args:` merged
into its own docstring: LightningCLI's `--model.X` options, `--model.help` and the checkpoint's
hyperparameters then list every argument, as for a hand-written `__init__`.

`BackboneTask` is the mixin of the task bases (`JetTagger`, `AnomalyDetector`): its `__init_subclass__`
calls `install_backbone_init(task_cls, base_cls)` for every subclass that sets `backbone_class` and
does not write its own `__init__` (`base_cls`: the nearest class with a written `__init__`):

- `backbone_defaults` (dict) replaces defaults of the backbone's arguments (named variants such as
  `particlenet-lite` are `config="lite"`);
- `task_defaults` (dict) replaces defaults of the shared arguments (the perceptron's higher lr);
- the installed `__init__` binds its arguments to that signature (an unknown name is a TypeError,
  as for any function), calls the base's `__init__` with the shared ones, builds
  `self.backbone = backbone_class(**architecture_arguments)` and saves all of them as hyperparameters.
"""

from __future__ import annotations

import inspect
import typing
from typing import ClassVar

import docstring_parser
import torch
from torch import nn

# class attributes a backbone declares about itself and the task module shows (the registry-wide
# tests, the exporter and the compile checks read them from the registered class)
BACKBONE_FLAGS = ("input_view", "permutation_invariant", "exportable", "compile_supported", "compile_in_training")


def _parameters(function, defaults: dict, owner: type | None = None) -> list[inspect.Parameter]:
    """The named arguments of `function` (an `__init__` of `owner`), with `defaults` replaced; an
    `__init__` that passes `**kwargs` to its base also takes the base's (a backbone variant)."""
    signature = inspect.signature(function).parameters.values()
    # the annotations as types, not strings: the installed __init__ lives in this module, where a
    # postponed annotation (`Literal[...]`, `Activation`) cannot be resolved, and jsonargparse would
    # then accept any value unvalidated
    hints = typing.get_type_hints(function)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature
              if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if owner is not None and any(p.kind == p.VAR_KEYWORD for p in signature):
        parent = next(k for k in owner.__mro__[1:] if "__init__" in vars(k))
        if parent is not nn.Module and parent is not object:
            own = {p.name for p in params}
            params += [p for p in _parameters(parent.__init__, {}, parent) if p.name not in own]
    unknown = set(defaults) - {p.name for p in params}
    if unknown:
        raise TypeError(f"{function.__qualname__} has no argument(s) {', '.join(sorted(unknown))} to default")
    return [p.replace(default=defaults[p.name]) if p.name in defaults else p for p in params]


def merged_docstring(summary: str | None, backbone: type, base: type, names: list[str]) -> str:
    """`summary`, the backbone's description and one `Args:` section: the backbone's arguments, then the base's."""
    own, shared = docstring_parser.parse(backbone.__doc__ or ""), docstring_parser.parse(base.__doc__ or "")
    described = {p.arg_name: p.description for p in shared.params}
    for klass in reversed(backbone.__mro__[:-1]):  # a variant's own descriptions win
        described.update({p.arg_name: p.description for p in docstring_parser.parse(klass.__doc__ or "").params})
    head = " ".join(summary.split()) if summary else (own.short_description or backbone.__name__)  # one line: the short description
    lines = [head, ""]
    if own.long_description:
        lines += [own.long_description, ""]
    lines += [f"Network: `{backbone.__module__}.{backbone.__qualname__}` (tensors in, usable without Lightning).", "",
              "Args:"]
    for name in names:
        text = " ".join((described.get(name) or "").split())
        lines.append(f"    {name}: {text}")
    return "\n".join(lines) + "\n"


def install_backbone_init(task_cls: type, base_cls: type) -> None:
    """Give `task_cls` the `__init__`, signature, docstring and flags described in the module docstring."""
    backbone = task_cls.backbone_class
    architecture = _parameters(backbone.__init__, dict(task_cls.backbone_defaults), backbone)
    arch_names = [p.name for p in architecture]
    base_params = _parameters(base_cls.__init__, {})
    task_defaults = dict(task_cls.task_defaults)
    shared = [p for p in _parameters(base_cls.__init__, task_defaults) if p.name not in arch_names]
    base_names = [p.name for p in base_params]
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in architecture + shared]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = {k: v for k, v in bound.arguments.items() if k != "self"}
        base_cls.__init__(self, **{k: values[k] for k in base_names if k in values})
        self.backbone = backbone(**{k: values[k] for k in arch_names})
        self.save_hyperparameters(values)
        self.register_load_state_dict_pre_hook(_prefix_backbone_keys)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{task_cls.__qualname__}.__init__"
    __init__.installed_from_backbone = True
    __init__.__doc__ = None  # the class docstring documents the arguments (jsonargparse reads it)
    task_cls.__init__ = __init__
    own_doc = task_cls.__dict__.get("__doc__")
    task_cls.__doc__ = merged_docstring(own_doc, backbone, base_cls, [p.name for p in architecture + shared])
    for flag in BACKBONE_FLAGS:
        if flag in vars(backbone) or any(flag in vars(k) for k in backbone.__mro__[1:-1]):
            if flag not in task_cls.__dict__:
                setattr(task_cls, flag, getattr(backbone, flag))


def upgrade_state_dict_keys(model: nn.Module, state_dict: dict, prefix: str = "") -> dict:
    """`state_dict` with the names of a checkpoint written before the backbones (`head.weight`)
    renamed to this model's (`backbone.head.weight`); names it already has stay. In place; returned."""
    backbone = getattr(model, "_modules", {}).get("backbone")
    if backbone is None:
        return state_dict
    children = set(backbone._modules) | set(backbone._parameters) | set(backbone._buffers)
    for key in [k for k in state_dict if k.startswith(prefix)]:
        name = key[len(prefix):]
        if name.split(".", 1)[0] in children and not name.startswith("backbone."):
            state_dict[f"{prefix}backbone.{name}"] = state_dict.pop(key)
    return state_dict


def _prefix_backbone_keys(module, state_dict, prefix, *args) -> None:
    upgrade_state_dict_keys(module, state_dict, prefix)


class BackboneTask:
    """Mixin of the task modules: a subclass naming a `backbone_class` is that network in this task."""

    backbone_class: ClassVar[type[nn.Module] | None] = None  # the network (see the module docstring)
    backbone_defaults: ClassVar[dict] = {}  # a named variant's defaults of the backbone's arguments
    task_defaults: ClassVar[dict] = {}  # the architecture's defaults of the task's arguments (e.g. lr)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.backbone_class is not None and "__init__" not in cls.__dict__:
            base = next(k for k in cls.__mro__[1:] if "__init__" in vars(k)
                        and not getattr(vars(k)["__init__"], "installed_from_backbone", False))
            install_backbone_init(cls, base)
            if "forward" not in cls.__dict__ and getattr(cls.forward, "__isabstractmethod__", False):
                cls.forward = BackboneTask.backbone_forward

    def backbone_forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The backbone on the batch's tensors named by its `inputs`."""
        return self.backbone(*self.backbone_inputs(batch))

    def backbone_inputs(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """The batch's tensors named by the backbone's `inputs`, in its `forward`'s order."""
        return [batch[name] for name in self.backbone.inputs]

    def _backbone_module(self) -> nn.Module | None:
        return self.__dict__.get("_modules", {}).get("backbone")

    @property
    def dense_path(self) -> bool:
        """True: the network always takes its dense, sync-free path (jetzoo.zoo.dense); the backbone's flag."""
        holder = self._backbone_module()
        return bool(getattr(holder, "dense_path", False)) if holder is not None else self.__dict__.get("_dense_path", False)

    @dense_path.setter
    def dense_path(self, value: bool) -> None:
        holder = self._backbone_module()
        if holder is not None:
            holder.dense_path = bool(value)
        else:
            self.__dict__["_dense_path"] = bool(value)

    @property
    def export_blocker(self) -> str | None:
        """Why this configuration cannot be exported (one line), or None; the backbone's."""
        holder = self._backbone_module()
        return getattr(holder, "export_blocker", None) if holder is not None else None
