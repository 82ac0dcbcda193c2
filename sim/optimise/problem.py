"""The optimisation problem checked against its scenario: each decision resolved to a lever field with
a type and bounds, each goal to a scenario goal, and a point of the search turned into an action plan.

Futures are applied by the caller (``wfsim optimise`` uses the experiment machinery, so futures mean
exactly what they mean in experiment files) and handed in as plain scenario data, one per future.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

from .. import runs
from ..levers import registry
from ..scenario import ScenarioError
from ..scenario.schema import Goal
from ..vocabulary import OUTPUT_STEP_MONTHS, absolute_month, last_month, month_index, month_text
from .spec import Decision, GoalSpec, OptimisationSpec


@dataclass(frozen=True)
class Variable:
    """A decision resolved: kind float, int or month (months as absolute month numbers)."""
    name: str
    decision: Decision
    lever_index: int            # in the candidate plan
    kind: str
    low: float
    high: float
    step: float | None

    def value(self, x) -> object:
        """The lever field's value at search value ``x``."""
        if self.kind == "month":
            return month_text(int(x))
        return int(x) if self.kind == "int" else float(x)

    def shown(self, x) -> object:
        return self.value(x) if self.kind != "float" else round(float(x), 10)


@dataclass(frozen=True)
class Problem:
    spec: OptimisationSpec
    folder: Path                        # the optimisation file's folder (compare plans are relative to it)
    scenario_path: Path
    bases: dict[str, dict]              # future → the base scenario's data under that future
    start: str
    months: int                         # the scenario's horizon
    goals: tuple[Goal, ...]             # constraints' goals first, then the gap goal if it is not one of them
    gap_goal: int                       # index into goals (-1: none)
    variables: tuple[Variable, ...]
    years: int                          # horizon the search simulates (enough for every date it judges)
    every: str                          # output step that has a period ending at each of those dates

    @property
    def futures(self) -> list[str]:
        return list(self.bases)

    @property
    def spend_to(self) -> str:
        return self.spec.objective.to or last_month(self.start, self.months)

    def plan_levers(self, point: dict) -> list[dict]:
        """The candidate action plan with the decisions at ``point`` (name → search value)."""
        levers = copy.deepcopy(self.spec.levers)
        for v in self.variables:
            x = point[v.name]
            lever = levers[v.lever_index]
            lever[v.decision.field] = v.value(x)
            t = (float(x) - v.low) / (v.high - v.low)
            for field, link in v.decision.linked.items():
                lever[field] = link.at_low + t * (link.at_high - link.at_low)
        return levers

    def written(self) -> dict:
        """The candidate plan as written in the file (each decision's value there, within its bounds; its low
        bound where the file leaves the field out): the search's first trial, usually "do little"."""
        point = {}
        for v in self.variables:
            x = self.spec.levers[v.lever_index].get(v.decision.field)
            if isinstance(x, str) and v.kind == "month":
                x = absolute_month(x)
            ok = isinstance(x, (int, float)) and not isinstance(x, bool)
            point[v.name] = snap(v, float(x) if ok else v.low)
        return point

    def midpoint(self) -> dict:
        return {v.name: snap(v, (v.low + v.high) / 2) for v in self.variables}

    def shown(self, point: dict) -> dict:
        return {v.name: v.shown(point[v.name]) for v in self.variables}


def snap(v: Variable, x: float) -> float:
    """``x`` on the variable's grid (whole numbers and months: a step of at least 1)."""
    step = v.step if v.step is not None else (1.0 if v.kind != "float" else None)
    if step is None:
        return min(max(x, v.low), v.high)
    k = math.floor((x - v.low) / step + 0.5)
    k = min(max(k, 0), math.floor((v.high - v.low) / step + 1e-9))
    return v.low + k * step


def _label(lever: dict, i: int, levers: list[dict]) -> str:
    if lever.get("id"):
        return str(lever["id"])
    same = [k for k, x in enumerate(levers) if x.get("lever") == lever.get("lever") and not x.get("id")]
    return str(lever.get("lever")) if len(same) == 1 else f"{lever.get('lever')}#{same.index(i) + 1}"


def _numeric(prop: dict) -> str | None:
    """'int' or 'float' if a lever field's JSON schema admits a plain number, else None."""
    options = prop.get("anyOf", [prop])
    kinds = {o.get("type") for o in options}
    if "integer" in kinds and "number" not in kinds:
        return "int"
    return "float" if "number" in kinds else None


def _variables(spec: OptimisationSpec) -> tuple[list[Variable], list[tuple[str, str]]]:
    levers, problems, out = spec.levers, [], []
    known = registry()
    labels = {}
    for i, lever in enumerate(levers):
        name = lever.get("lever") if isinstance(lever, dict) else None
        if not isinstance(name, str) or name not in known:
            problems.append((f"levers.{i}.lever", f"unknown lever {name!r}; registered levers: "
                                                  f"{', '.join(sorted(known))}"))
            continue
        labels[_label(lever, i, levers)] = i
    seen = set()
    for name, d in spec.decisions.items():
        where = f"decisions.{name}"
        if d.lever not in labels:
            problems.append((f"{where}.lever", f"unknown lever {d.lever!r}; the levers of the candidate plan: "
                                               f"{', '.join(labels) or 'none'}"))
            continue
        i = labels[d.lever]
        cls = known[levers[i]["lever"]]
        props = cls.model_json_schema(by_alias=True)["properties"]
        numbers = {k: _numeric(p) for k, p in props.items()}
        allowed = sorted([k for k, kind in numbers.items() if kind] + ["from", "until"])
        if d.field not in allowed:
            problems.append((f"{where}.field", f"{d.field!r} is not a number or month parameter of lever "
                                               f"{levers[i]['lever']}; allowed: {', '.join(allowed)}"))
            continue
        for field in d.linked:
            if field not in allowed or field in ("from", "until") or field == d.field:
                problems.append((f"{where}.linked.{field}", f"expected another number parameter of lever "
                                 f"{levers[i]['lever']}; allowed: {', '.join(a for a in allowed if a != d.field)}"))
        if (i, d.field) in seen:
            problems.append((f"{where}.field", f"{d.lever}.{d.field} is already a decision"))
        seen.add((i, d.field))
        kind = "month" if d.is_month else ("int" if d.integer or numbers[d.field] == "int" else "float")
        lo, hi = d.span()
        step = d.step
        if kind != "float" and step is not None and step != int(step):
            problems.append((f"{where}.step", f"{d.field} takes whole numbers; expected a whole step, got {step:g}"))
            continue
        if kind == "int" and (lo != int(lo) or hi != int(hi)):
            problems.append((f"{where}.low", f"{d.field} takes whole numbers; got bounds {d.low} to {d.high}"))
            continue
        out.append(Variable(name, d, i, kind, lo, hi, step))
    return out, problems


def _goal(g: GoalSpec, scenario, field: str, default_name: str) -> tuple[Goal | None, list[tuple[str, str]]]:
    """A scenario Goal for ``g`` (a scenario goal by name, or written out), with every problem."""
    if g.goal is not None:
        named = {x.name: x for x in scenario.goals}
        if g.goal not in named:
            return None, [(f"{field}.goal", f"no goal {g.goal!r} in the scenario; its goals: "
                                            f"{'; '.join(named) or 'none'}")]
        goal = named[g.goal]
    else:
        goal = Goal(name=default_name, metric=g.metric, by=g.by, profession=g.profession, where=g.where,
                    max=g.max, min=g.min)
    problems = []
    if goal.profession is not None and goal.profession not in scenario.professions:
        problems.append((f"{field}.profession", f"unknown profession {goal.profession!r}; allowed: "
                                                f"{', '.join(scenario.professions)}"))
    names = {n for row in scenario.geography.place_table() for n in row[:2]} | {scenario.geography.region}
    if goal.where is not None and goal.where not in names:
        problems.append((f"{field}.where", f"unknown place, ICS or region {goal.where!r}; allowed: "
                                           f"{', '.join(sorted(names))}"))
    problems += _in_horizon(goal.by, scenario, f"{field}.by" if g.goal is None else f"{field}.goal")
    return goal, problems


def _in_horizon(when: str, scenario, field: str) -> list[tuple[str, str]]:
    k = month_index(scenario.start, when)
    if 0 <= k < 12 * scenario.years:
        return []
    return [(field, f"{when} is outside the scenario's horizon, {scenario.start} to "
                    f"{last_month(scenario.start, 12 * scenario.years)}")]


def goal_text(goal: Goal) -> str:
    """A goal in a few words: 'gap_share registered_nurse ≤ 0.05 by 2031-03'."""
    bound = f"≤ {goal.max:g}" if goal.max is not None else f"≥ {goal.min:g}"
    scope = " ".join(x for x in (goal.profession, goal.where) if x)
    return f"{goal.metric}{' ' + scope if scope else ''} {bound} by {goal.by}"


def _step(start: str, months: list[str]) -> str:
    """The coarsest output step with a period ending at every month in ``months``."""
    for step in ("year", "quarter"):
        n = OUTPUT_STEP_MONTHS[step]
        if all((month_index(start, m) + 1) % n == 0 for m in months):
            return step
    return "month"


def prepare(spec: OptimisationSpec, folder: Path, scenario_path: Path, bases: dict[str, dict]) -> Problem:
    """Check the optimisation against its scenario; ScenarioError names every problem's field."""
    label = "optimisation"
    first = runs.load_scenario(next(iter(bases.values())))
    variables, problems = _variables(spec)
    goals, constraint_goals = [], []
    for i, c in enumerate(spec.constraints):
        goal, more = _goal(c, first, f"constraints.{i}", f"constraint {i + 1}")
        problems += more
        goals.append(goal)
    gap_goal = 0 if goals else -1
    if spec.objective.gap is not None:
        goal, more = _goal(spec.objective.gap, first, "objective.gap", "gap")
        problems += more
        goals.append(goal)
        gap_goal = len(goals) - 1
    if spec.objective.to is not None:
        problems += _in_horizon(spec.objective.to, first, "objective.to")
    if problems:
        raise ScenarioError(problems, label)
    dates = [g.by for g in goals] + [spec.objective.to or last_month(first.start, 12 * first.years)]
    needed = max(month_index(first.start, m) for m in dates) + 1
    problem = Problem(spec, folder, scenario_path, bases, first.start, 12 * first.years, tuple(goals), gap_goal,
                      tuple(variables), min(first.years, math.ceil(needed / 12)), _step(first.start, dates))
    _check_plans(problem, label)
    return problem


def _check_plans(problem: Problem, label: str) -> None:
    """The candidate plan is a valid action plan at the bounds' midpoint and at each decision's ends."""
    n0 = len(next(iter(problem.bases.values())).get("levers", []))
    mid = problem.midpoint()
    tries = [("", mid)] + [(f"decisions.{v.name}.{end}", {**mid, v.name: x})
                           for v in problem.variables for end, x in (("low", v.low), ("high", v.high))]
    problems = []
    for field, point in tries:
        try:
            with_plan(problem, problem.futures[0], problem.plan_levers(point))
        except ScenarioError as e:
            for p, m in e.problems:
                parts = p.split(".")
                if len(parts) >= 2 and parts[0] == "levers" and parts[1].isdigit():
                    p = ".".join(["levers", str(int(parts[1]) - n0)] + parts[2:])
                problems.append((field, f"at this end of the range the plan is not valid: {p}: {m}") if field
                                else (p, m))
            if not field:
                break
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)), label)


def with_plan(problem: Problem, future: str, levers: list[dict]):
    """The validated scenario of one future with the candidate levers added."""
    data = problem.bases[future]
    return runs.load_scenario({**data, "levers": list(data.get("levers", [])) + levers},
                              name=f"{problem.spec.name}@{future}")
