"""Action plans: reusable portfolios of levers in their own YAML files, included into scenarios.

A scenario's ``levers:`` list may hold ``{include: PATH}`` items (PATH relative to the scenario file,
a .yaml or .yml file, which may lie outside the scenario's folder: see ``reading``), and
``wfsim run --plan PATH`` appends a plan to any scenario (``--plan NAME``: a shipped plan, such as
``train``, when no file of that name exists; ``sim.scenario.shipped``). An action plan file is::

    name: train
    description: what the portfolio is and why
    levers:
      - {lever: training_places, programme: nursing_degree, change: 0.1, from: 2027-04, owner: national}
      - {include: retain.yaml}          # plans may include plans (relative to this file)
    budgets:                            # optional: budgets of the plan's owners, merged into the scenario's
      national: {2027: 5000000}

Includes are expanded before validation, so the validated scenario (and its provenance record) holds
the levers themselves: a run stays reproducible from its results file alone.
"""
from __future__ import annotations

from pathlib import Path

from . import shipped
from .errors import ScenarioError, shown
from .reading import include_path

ACTION_PLAN_KEYS = {"name", "description", "levers", "budgets"}


def is_action_plan(data) -> bool:
    """Whether a file's data has the shape of an action plan (a levers list, and at most name, description
    and budgets) rather than of a scenario."""
    return isinstance(data, dict) and "levers" in data and set(data) <= ACTION_PLAN_KEYS


def read_action_plan(path: str | Path, reader, field: str, _stack: tuple = ()) -> tuple[list, list]:
    """The levers of the action plan at ``path``, and its budgets (and its included plans') as (file, mapping)
    pairs; problems are reported under ``field``."""
    p = Path(path)
    try:
        data = reader(p)
    except ScenarioError as e:
        raise ScenarioError([(field, f"{p}: {m}" if not path_ else f"{p}: {path_}: {m}")
                             for path_, m in e.problems]) from None
    if not isinstance(data, dict) or not isinstance(data.get("levers"), list):
        raise ScenarioError([(field, f"{p}: an action plan is a mapping with a 'levers' list (and optionally "
                                     "name, description)")])
    extra = sorted(shown(k) for k in data if k not in ACTION_PLAN_KEYS)
    if extra:
        raise ScenarioError([(field, f"{p}: unknown key(s) {', '.join(extra)}; an action plan has "
                                     f"{', '.join(sorted(ACTION_PLAN_KEYS))}")])
    out, budgets = [], [(str(p), data["budgets"])] if "budgets" in data else []
    for i, item in enumerate(data["levers"]):
        if isinstance(item, dict) and "include" in item:       # a plan made of plans (e.g. all.yaml)
            try:
                inner = include_path(item["include"], p.parent)
            except ValueError as e:
                raise ScenarioError([(field, f"{p}: levers.{i}: {e}")]) from None
            if len(_stack) >= 8 or inner.resolve() in _stack:
                raise ScenarioError([(field, f"{p}: levers.{i}: action plans include each other in a loop")])
            levers, more = read_action_plan(inner, reader, field, _stack + (p.resolve(),))
            out += levers
            budgets += more
        else:
            out.append(item)
    return out, budgets


def merge_budgets(own, plans: list[tuple[str, object]]) -> tuple[object, list[tuple[str, str]]]:
    """The scenario's ``budgets`` with the action plans' added, and (field, problem) for an owner's budget
    (or allocation) given twice: each is given once, in the scenario or in one plan."""
    if not plans or (own is not None and not isinstance(own, dict)):
        return own, []                   # no plan budgets, or a scenario budgets the validator will refuse
    merged, problems = dict(own or {}), []
    allocate = merged.get("allocate", {})
    if not isinstance(allocate, dict):
        return merged, []
    allocate = dict(allocate)
    origin_of = {k: "the scenario" for k in merged if k != "allocate"}
    giver_of = {k: "the scenario" for k in allocate}
    for origin, b in plans:
        if not isinstance(b, dict):
            problems.append(("budgets", f"{origin}: budgets must be a mapping {{owner: £ per plan year}}"))
            continue
        for key, value in b.items():
            if key == "allocate":
                if not isinstance(value, dict):
                    problems.append(("budgets.allocate", f"{origin}: expected {{owner: {{to: LEVEL, by: …}}}}"))
                    continue
                for giver, rule in value.items():
                    if giver in giver_of:
                        problems.append((f"budgets.allocate.{giver}", f"given by {giver_of[giver]} and by "
                                                                      f"{origin}; give each allocation once"))
                    allocate[giver], giver_of[giver] = rule, origin
            elif key in origin_of:
                problems.append((f"budgets.{key}", f"given by {origin_of[key]} and by {origin}; give each "
                                                   "owner's budget once"))
            else:
                merged[key], origin_of[key] = value, origin
    if allocate:
        merged["allocate"] = allocate
    return merged, problems


def expand(data: dict, base: Path, reader, extra_action_plans=()) -> tuple[dict, list[str]]:
    """The scenario data with includes (and ``extra_action_plans``, from ``--plan``) expanded, and each
    lever's origin (``""`` for levers written in the scenario, else ``"FILE levers.k"``)."""
    levers = data.get("levers", [])
    if not isinstance(levers, list) or (not extra_action_plans and not any(
            isinstance(x, dict) and "include" in x for x in levers)):
        return data, [""] * (len(levers) if isinstance(levers, list) else 0)
    out, origins, problems, budgets = [], [], [], []
    items = [(f"levers.{i}", x) for i, x in enumerate(levers)] + \
            [(f"--plan {p}", {"include": str(p), "_cli": True}) for p in extra_action_plans]
    for field, item in items:
        if isinstance(item, dict) and "include" in item:
            if set(item) - {"include", "_cli"}:
                problems.append((field, "an include item holds only 'include: PATH'"))
                continue
            if item.get("_cli"):                  # --plan PATH, or the name of a shipped plan (--plan train)
                path = shipped.action_plan(Path(item["include"]))
                if not path.exists():
                    problems.append((field, shipped.not_found("action plan", path, shipped.action_plans())))
                    continue
            else:
                try:
                    path = include_path(item["include"], base)
                except ValueError as e:
                    problems.append((field, f"include: {e}"))
                    continue
            try:
                got, more = read_action_plan(path, reader, field)
            except ScenarioError as e:
                problems += e.problems
                continue
            out += got
            budgets += more
            origins += [f"{path} levers.{k}" for k in range(len(got))]
        else:
            out.append(item)
            origins.append("")
    merged, clashes = merge_budgets(data.get("budgets"), budgets)
    problems += clashes
    if problems:
        raise ScenarioError(problems)
    return {**data, "levers": out} | ({"budgets": merged} if budgets else {}), origins


def locate(problems: list[tuple[str, str]], origins: list[str]) -> list[tuple[str, str]]:
    """Problem paths ``levers.N…`` of included levers also name the plan file and item they came from."""
    out = []
    for path, msg in problems:
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] == "levers" and parts[1].isdigit() and int(parts[1]) < len(origins) \
                and origins[int(parts[1])]:
            msg = f"{msg} (from {origins[int(parts[1])]})"
        out.append((path, msg))
    return out
