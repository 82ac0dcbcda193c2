"""Scenario files: the format (schema), validation and loading (given the lever registry)."""
from .errors import ScenarioError
from .loading import load_scenario, scenario_dict, scenario_model, scenario_sha256

__all__ = ["ScenarioError", "load_scenario", "scenario_dict", "scenario_model", "scenario_sha256"]
