"""wfsim: open, stochastic, multi-level simulation of health and care workforce pipelines.

The public API (``sim.load_scenario``, ``sim.run``, ``sim.expected``, ``sim.levers``, ``sim.ScenarioError``)
is imported when first used, so that ``import sim`` (and the ``wfsim`` command's start) stays fast and
Ctrl-C is handled from the first moment of a command.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:                    # for type checkers and the API reference (griffe); at run time, lazily
    from . import levers
    from .runs import expected, load_scenario, run
    from .scenario import ScenarioError

__all__ = ["load_scenario", "run", "expected", "levers", "ScenarioError"]
_HOME = {"load_scenario": "sim.runs", "run": "sim.runs", "expected": "sim.runs", "ScenarioError": "sim.scenario"}


def __getattr__(name: str):
    if name == "levers":
        return importlib.import_module("sim.levers")
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
