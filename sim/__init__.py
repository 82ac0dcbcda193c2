"""wfsim: open, stochastic, multi-level simulation of health and care workforce pipelines."""
from . import levers
from .runs import expected, load_scenario, run
from .scenario import ScenarioError

__all__ = ["load_scenario", "run", "expected", "levers", "ScenarioError"]
