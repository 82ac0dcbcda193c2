"""Scenario loading with the lever plugins registered now: the registry is handed to the scenario layer
here, so ``sim.scenario`` never imports ``sim.levers``."""
from __future__ import annotations

from pathlib import Path

from ..levers import registry
from ..scenario import ScenarioError, jsonschema, loading
from ..scenario.reading import read_yaml


def load_scenario(source, *, name: str | None = None, plans=()):
    """A validated, frozen Scenario from a YAML path, a dict, or a Scenario (returned as is).

    ``plans``: action plans whose levers are added to the scenario's (``wfsim run --plan``): files, or the
    names of shipped plans (``train``); ``{include: PATH}`` items in ``levers`` are expanded from PATH
    relative to the scenario file. Raises ``ScenarioError`` listing every problem."""
    return loading.load_scenario(source, levers=registry(), name=name, plans=plans)


def scenario_model():
    """The Scenario model class for the levers registered now."""
    return loading.scenario_model(registry())


def schema_text() -> str:
    """The JSON schema of the scenario format with the levers registered now (``wfsim schema``)."""
    return jsonschema.schema_text(registry())


def check_action_plan(path: str | Path, scenario: str | Path):
    """Validate an action-plan file against a scenario (its own levers left out, so that problems are
    numbered as in the plan: ``levers.0`` is the plan's first lever); a ScenarioError names each problem."""
    data = read_yaml(scenario)
    if not isinstance(data, dict):
        raise ScenarioError([("--scenario", f"{scenario} is not a scenario (a mapping of keys)")], str(path))
    return load_scenario({**data, "levers": []}, name=str(path), plans=(Path(path),))
