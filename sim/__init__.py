"""wfsim: open, stochastic, multi-level simulation of health and care workforce pipelines."""
from . import levers
from .api import expected, run
from .scenario import ScenarioError, load_scenario

__all__ = ["load_scenario", "run", "expected", "levers", "ScenarioError"]
