"""Experiment files: a base scenario, named variants and futures, and the grid of runs they make.

An experiment YAML (``experiments/*.yaml``)::

    name: hee_supply_levers
    question: What do more training places ... do to the 2031 gap, with what certainty, at what cost?
    scenario: default                  # or a scenario YAML, relative to this file
    replicates: 1000
    seed: 20261123
    every: year                        # output step stored: month, quarter or year
    level: place                       # areas stored: provider, place, ics, region or nation
    block: 250                         # replicates per unit of work (a block)
    baseline: baseline                 # the variant every other is compared with
    variants:                          # what the planners choose
      baseline: {}
      train: {plans: [../configs/levers/train.yaml]}
      places: {levers: [{lever: training_places, programme: nursing_degree, change: 0.1}]}
      slower_leaving: {set: {professions.registered_nurse.leave_rate: 0.08}}
    futures:                           # what they do not choose; every variant runs under each
      central: {}
      high_demand: {set: {population.growth.all: 0.01}}
    compare: {professions: [registered_nurse], at: [2031-03, 2036-03]}

The runs are the grid variants × futures, labelled ``variant`` (one future) or ``variant@future``.
Every run shares the seed and replicate numbers, so replicate r of two runs uses the same random
numbers (common random numbers) and their difference is paired.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..limits import BLOCK, REPLICATES, SEED, YEARS
from ..runs import load_scenario
from ..scenario import ScenarioError, scenario_dict, scenario_sha256, shipped
from ..scenario.errors import shown
from ..scenario.loading import validation_problems
from ..scenario.reading import include_path, read_yaml
from ..scenario.types import Whole, YearMonth, describe_ranges
from ..vocabulary import (DEFAULT_ENGINE, DEFAULT_LEVEL, DEFAULT_SCENARIO, ENGINES, LEVELS, OUTPUT_STEPS, last_month,
                          month_index)

Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, json_schema_extra=describe_ranges)


class Change(Model):
    """How a variant or future differs from the base scenario."""
    description: str = ""
    plans: list[str] = Field([], description="action-plan YAML files whose levers are added (relative to the "
                                             "experiment file), or shipped plans' names (train)")
    levers: list[dict] = Field([], description="levers added, written as in a scenario's levers list")
    set: dict[str, object] = Field({}, description="scenario fields replaced: dotted path (lists by index, e.g. "
                                                   "geography.places.0.population) → value")


class Compare(Model):
    professions: list[str] = Field([], description="professions whose gap is compared; default: all")
    at: list[YearMonth] = Field([], description="months (YYYY-MM) at which gaps are compared; default: the "
                                                "end of plan year 5 (if within the horizon) and the last month")


class ExperimentSpec(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="used for the output folder")
    question: str = Field(min_length=1, description="the planning question the experiment answers")
    description: str = ""
    scenario: str = Field("default", description="base scenario YAML relative to this file, or 'default'")
    replicates: Whole(1, REPLICATES, "Monte Carlo replicates of every run") = 1000
    seed: Whole(0, SEED, "the random seed shared by every run") = 0
    years: Whole(1, YEARS, "horizon of every run; default: the scenario's") | None = None
    every: Literal[OUTPUT_STEPS] = "year"
    level: Literal[LEVELS] = Field(DEFAULT_LEVEL, description="the areas results are summed to and stored by: "
                                   "provider, place, ics, region or nation")
    engine: Literal[ENGINES] = DEFAULT_ENGINE
    block: Whole(1, BLOCK, "replicates per block, the unit of work and of resuming") = 250
    baseline: Label = "baseline"
    variants: dict[Label, Change] = Field(min_length=1)
    futures: dict[Label, Change] = {}
    compare: Compare = Compare()

    @model_validator(mode="after")
    def _baseline_is_a_variant(self):
        if self.baseline not in self.variants:
            raise ValueError(f"baseline {shown(self.baseline)} is not one of the variants ({', '.join(self.variants)})")
        return self


@dataclass(frozen=True)
class Run:
    """One cell of the grid: a variant under a future, as a validated scenario."""
    label: str
    variant: str
    future: str
    scenario: object
    file_years: int         # the horizon the scenario was validated with (``years:`` may shorten it)

    def data(self) -> dict:
        """The scenario as plain data that validates again in a worker process (with its file's horizon)."""
        return {**scenario_dict(self.scenario), "years": self.file_years}

    @property
    def sha256(self) -> str:
        return scenario_sha256(self.scenario)


@dataclass(frozen=True)
class Experiment:
    spec: ExperimentSpec
    path: Path | None
    runs: tuple[Run, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    def fingerprint(self) -> str:
        """What must match for a stored experiment to be resumed: every run's scenario and the layout."""
        s = self.spec
        key = {"runs": [(r.label, r.sha256) for r in self.runs], "replicates": s.replicates, "seed": s.seed,
               "every": s.every, "engine": s.engine, "block": s.block}
        if s.level != DEFAULT_LEVEL:        # (stores made before levels existed keep their fingerprint)
            key["level"] = s.level
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _set_path(data: dict, dotted: str, value, field: str) -> None:
    """Replace one scenario field; every step but the last must exist (so a typo is caught here, and a
    new last key is checked by the scenario's own validation)."""
    keys = dotted.split(".")
    node = data
    for i, k in enumerate(keys):
        last = i == len(keys) - 1
        where = ".".join(keys[:i + 1])
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ScenarioError([(field, f"{where}: expected a list index 0 to {len(node) - 1}")], "experiment")
            k = int(k)
        elif isinstance(node, dict):
            if not last and k not in node:
                raise ScenarioError([(field, f"{where}: no such field in the base scenario; it has "
                                             f"{', '.join(map(str, node)) or 'none'}")], "experiment")
        else:
            raise ScenarioError([(field, f"{where}: cannot set inside a {type(node).__name__} value")], "experiment")
        if last:
            node[k] = copy.deepcopy(value)
        else:
            node = node[k]


def _apply(data: dict, change: Change, field: str, base: Path) -> dict:
    data = copy.deepcopy(data)
    for k, v in change.set.items():
        _set_path(data, k, v, f"{field}.set.{k}")
    added = [copy.deepcopy(x) for x in change.levers]
    for i, action_plan in enumerate(change.plans):
        if isinstance(action_plan, str) and shipped.action_plan(action_plan, base) != base / action_plan:
            p = shipped.action_plan(action_plan, base)     # the bare name of a shipped plan (train)
        else:
            try:
                p = include_path(action_plan, base)
            except ValueError as e:
                raise ScenarioError([(f"{field}.plans.{i}", str(e))], "experiment") from None
        if not p.is_file():
            raise ScenarioError([(f"{field}.plans.{i}", shipped.not_found("action plan", p, shipped.action_plans()))],
                                "experiment")
        added.append({"include": str(p)})
    levers = data.get("levers", [])
    if isinstance(levers, list):        # anything else is reported by the scenario's own validation
        data["levers"] = levers + added
    return data


def _label(variant: str, future: str, futures: dict) -> str:
    return variant if len(futures) <= 1 else f"{variant}@{future}"


def is_experiment(data) -> bool:
    """Whether a file's data looks like an experiment (it has variants or a question) and not a scenario."""
    return isinstance(data, dict) and ("variants" in data or "question" in data)


def load_experiment(source) -> Experiment:
    """Validate an experiment file (or dict) and every run it makes; ScenarioError lists all problems."""
    if isinstance(source, (str, Path)):
        source = shipped.experiment(source)      # a file, or a shipped experiment's name (hee_supply_levers)
    label = str(source) if isinstance(source, (str, Path)) else "experiment"
    if isinstance(source, Path) and not source.exists():
        raise ScenarioError([("", shipped.not_found("experiment", source, shipped.experiments()))], label)
    data = read_yaml(source) if isinstance(source, (str, Path)) else source
    if not isinstance(data, dict):
        raise ScenarioError([("", "an experiment is a mapping with name, question, variants, …")], label)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(validation_problems(e), label) from None
    base = Path(source).absolute().parent if isinstance(source, (str, Path)) else Path.cwd()
    scenario_path, base_data = _base_scenario(spec, base, label)
    futures = spec.futures or {"central": Change()}
    runs, problems = [], []
    for v_name, variant in spec.variants.items():
        for f_name, future in futures.items():
            run_label = _label(v_name, f_name, futures)
            try:
                d = _apply(_apply(base_data, future, f"futures.{f_name}", base), variant, f"variants.{v_name}", base)
                # levers and includes resolve relative to the base scenario's folder
                scenario = load_scenario(_absolute_includes(d, scenario_path.parent), name=run_label)
                file_years = scenario.years
                if spec.years is not None:      # as `wfsim run --years`: a shorter run of the same plan
                    scenario = scenario.model_copy(update={"years": spec.years})
            except ScenarioError as e:
                problems += [(p if e.source == "experiment" else f"{run_label}: {p}", m) for p, m in e.problems]
                continue
            runs.append(Run(run_label, v_name, f_name, scenario, file_years))
    if problems:
        raise ScenarioError(problems, label)
    exp = Experiment(spec, Path(source) if isinstance(source, (str, Path)) else None, tuple(runs))
    _check_runs(exp, label)
    return exp


def _base_scenario(spec: ExperimentSpec, base: Path, label: str) -> tuple[Path, dict]:
    """The base scenario's file and its data (a mapping), or a ScenarioError at ``scenario``."""
    if spec.scenario == "default":
        scenario_path = DEFAULT_SCENARIO
    else:
        try:
            scenario_path = include_path(spec.scenario, base)
        except ValueError as e:
            raise ScenarioError([("scenario", str(e))], label) from None
    if not scenario_path.is_file() and scenario_path.exists():
        raise ScenarioError([("scenario", f"{scenario_path} is not a regular file")], label)
    if not scenario_path.exists():
        raise ScenarioError([("scenario", f"scenario file not found: {scenario_path}")], label)
    try:
        data = read_yaml(scenario_path)
    except ScenarioError as e:
        raise ScenarioError([("scenario", f"{scenario_path}: {m}") for _, m in e.problems], label) from None
    if not isinstance(data, dict):
        held = type(data).__name__ if data is not None else "nothing"
        raise ScenarioError([("scenario", f"{scenario_path} holds {held}, not a scenario (a mapping of keys: name, "
                                          "start, years, …)")], label)
    return scenario_path, data


def _absolute_includes(data: dict, folder: Path) -> dict:
    levers = data.get("levers", [])
    if not isinstance(levers, list):
        return data
    levers = [{"include": str(folder / x["include"])} if isinstance(x, dict) and set(x) == {"include"}
              and isinstance(x["include"], str) and x["include"] and not Path(x["include"]).is_absolute() else x
              for x in levers]
    return {**data, "levers": levers}


def _check_runs(exp: Experiment, label: str) -> None:
    """Compared professions exist, and every run keeps the layout of the one store they share."""
    first = exp.runs[0].scenario
    problems = [(f"compare.professions.{i}", f"{shown(p)} is not a profession of the scenario "
                                             f"({', '.join(first.professions)})")
                for i, p in enumerate(exp.spec.compare.professions) if p not in first.professions]
    start, months = first.start, first.years * 12
    for i, when in enumerate(exp.spec.compare.at):
        if not 0 <= month_index(start, when) < months:
            problems.append((f"compare.at.{i}",
                             f"{when} is outside the horizon {start} to {last_month(start, months)}"))
    for r in exp.runs[1:]:
        s = r.scenario
        areas = lambda sc: sc.geography.names()  # noqa: E731
        if (list(s.professions), list(s.programmes), s.start, s.years, areas(s)) != \
                (list(first.professions), list(first.programmes), first.start, first.years, areas(first)):
            problems.append((r.label, "variants and futures must keep the base scenario's professions, programmes, "
                                      "geography (providers, places, ICSs, regions), start and years (they share "
                                      "one results store)"))
    if problems:
        raise ScenarioError(problems, label)


def resolved(exp: Experiment) -> dict:
    """The experiment as stored in its provenance: spec plus each run's resolved scenario."""
    return {"experiment": exp.spec.model_dump(mode="json"),
            "runs": {r.label: scenario_dict(r.scenario) for r in exp.runs}}
