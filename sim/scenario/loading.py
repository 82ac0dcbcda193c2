"""Load a scenario from YAML or a dict into a validated, frozen object, or explain every problem.

The scenario format does not know which levers exist: the caller hands over the lever registry
(``sim.load_scenario`` passes ``sim.levers.registry()``), so scenario loading imports nothing above it.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Mapping, Union

from pydantic import Field, ValidationError, create_model, model_validator

from . import action_plans
from .errors import ScenarioError, shown
from .reading import read_yaml
from .references import reference_problems
from .schema import ScenarioBase


@lru_cache(maxsize=4)
def _scenario_model(classes: tuple[type, ...]):
    item = Annotated[Union[classes], Field(discriminator="lever")] if classes else dict

    def _references(self):
        problems = reference_problems(self)
        if problems:
            raise ValueError("\n".join(f"{p}\t{m}" for p, m in problems))
        return self

    return create_model(
        "Scenario", __base__=ScenarioBase,
        __validators__={"_references": model_validator(mode="after")(_references)},
        levers=(list[item], Field([], description="the action plan: lever plugin instances")),
    )


def scenario_model(levers: Mapping[str, type]):
    """The Scenario model class whose ``levers`` items are the given lever plugins (name → class)."""
    return _scenario_model(tuple(levers[n] for n in sorted(levers)))


def _path(loc: tuple) -> str:
    return ".".join(str(x) for x in loc)


def validation_problems(err: ValidationError, lever_names=()) -> list[tuple[str, str]]:
    """(field path, message) for each problem pydantic found, in the scenario's words; ``lever_names``
    are the registered levers (a discriminated union adds the lever's name as a path step: it is dropped,
    the index says where)."""
    out = []
    for e in err.errors(include_url=False):
        loc = tuple(x for x in e["loc"] if x != "[key]")      # a bad key is named by the key itself
        if len(loc) >= 3 and loc[0] == "levers" and isinstance(loc[1], int) and isinstance(loc[2], str) \
                and loc[2] != "lever" and loc[2] in lever_names:
            loc = loc[:2] + loc[3:]
        msg = e["msg"]
        if e["type"] == "value_error" and "\t" in msg:       # problems with their own paths, one per line
            for line in msg.removeprefix("Value error, ").split("\n"):
                p, m = line.split("\t", 1)
                out.append((".".join(x for x in (_path(loc), p) if x), m))
            continue
        msg = msg.removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not part of the scenario format; check the spelling)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        elif e["type"] == "union_tag_invalid":
            msg = f"unknown lever {shown(e['input'].get('lever'))}; registered levers: " \
                  f"{', '.join(sorted(lever_names))}" \
                if isinstance(e.get("input"), dict) else msg
        elif e["type"] == "union_tag_not_found":
            msg = "each lever needs 'lever: NAME'; see `wfsim levers`"
        out.append((_path(loc), msg))
    return out


def load_scenario(source, *, levers: Mapping[str, type], name: str | None = None, plans=()):
    """A validated, frozen Scenario from a YAML path, a dict, or a Scenario (returned as is), with the
    lever plugins ``levers`` (name → class: the registry).

    ``plans``: action-plan files whose levers are appended (``wfsim run --plan``); ``{include: PATH}``
    items in ``levers`` are expanded from PATH relative to the scenario file (see ``action_plans``).
    """
    model = scenario_model(levers)
    if isinstance(source, model):
        if not plans:
            return source
        source = scenario_dict(source)
    label = name or (str(source) if isinstance(source, (str, Path)) else "scenario")
    data = read_yaml(source) if isinstance(source, (str, Path)) else source
    if data is None:
        raise ScenarioError([("", "the scenario is empty; expected a mapping of keys (name, start, years, …)")], label)
    if not isinstance(data, dict):
        raise ScenarioError([("", f"a scenario is a mapping of keys (name, start, years, …); got "
                                  f"{type(data).__name__}")], label)
    base = Path(source).absolute().parent if isinstance(source, (str, Path)) else Path.cwd()
    try:
        data, origins = action_plans.expand(data, base, read_yaml, plans)
    except ScenarioError as e:
        raise ScenarioError(e.problems, label) from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(action_plans.locate(validation_problems(e, levers), origins), label) from None


def scenario_dict(scenario) -> dict:
    """The resolved scenario as plain JSON-ready data (aliases as written in YAML)."""
    return scenario.model_dump(mode="json", by_alias=True)


def scenario_sha256(scenario) -> str:
    text = json.dumps(scenario_dict(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
