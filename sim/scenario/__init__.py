"""Scenario files: the format (schema), validation and loading (given the lever registry).

``ScenarioError`` is imported at once; the loading functions (pydantic and the whole schema) on first
use, so that a command's ``--help`` does not pay for them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ScenarioError

if TYPE_CHECKING:
    from .loading import load_scenario, scenario_dict, scenario_model, scenario_sha256

_LOADING = ("load_scenario", "scenario_dict", "scenario_model", "scenario_sha256")


def __getattr__(name: str):
    if name in _LOADING:
        from . import loading

        return getattr(loading, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ScenarioError", "load_scenario", "scenario_dict", "scenario_model", "scenario_sha256"]
