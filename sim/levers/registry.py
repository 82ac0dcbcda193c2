"""The lever registry: the one source of truth for which levers exist.

Built-in levers register on import; third-party ones are loaded from the ``wfsim.levers``
entry-point group the first time the registry is read.
"""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import get_args

from .base import Lever

_REGISTRY: dict[str, type[Lever]] = {}
_entry_points_loaded = False


def lever_name(cls: type[Lever]) -> str:
    args = get_args(cls.model_fields["lever"].annotation)
    if len(args) != 1 or not isinstance(args[0], str):
        raise TypeError(f"{cls.__name__}.lever must be annotated Literal['name']")
    return args[0]


def register(cls: type[Lever]) -> type[Lever]:
    """Class decorator: add a lever plugin to the registry under its ``lever`` literal."""
    if not (isinstance(cls, type) and issubclass(cls, Lever)):
        raise TypeError("register expects a subclass of sim.levers.Lever")
    name = lever_name(cls)
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"a lever named {name!r} is already registered ({_REGISTRY[name].__module__})")
    _REGISTRY[name] = cls
    return cls


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group="wfsim.levers"):
        obj = ep.load()
        if isinstance(obj, type) and issubclass(obj, Lever) and lever_name(obj) not in _REGISTRY:
            register(obj)


def registry() -> dict[str, type[Lever]]:
    """Name → class of every lever plugin: the built-in ones and those of installed packages' ``wfsim.levers``
    entry points (loaded the first time it is read)."""
    _load_entry_points()
    return dict(_REGISTRY)
