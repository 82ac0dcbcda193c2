"""Scenario files: the format (schema), validation and loading."""
from .loading import ScenarioError, load_scenario, scenario_dict, scenario_model, scenario_sha256

__all__ = ["ScenarioError", "load_scenario", "scenario_dict", "scenario_model", "scenario_sha256"]
