"""What an optimisation leaves in its folder besides the search journal and the evaluation experiment:
the chosen plan as an action-plan file, the summary the report reads, and the figure.

    best_plan.yaml      the chosen plan: ``wfsim run --plan`` and experiments' ``plans:`` take it as it is
    optimisation.json   the problem, the chosen plan, its search and fresh numbers, the comparison, the frontier
    trials.csv          every trial of the search (decisions, spend, gap, risk, probabilities)
    pareto.png          the figure (``sim.optimise.plots.pareto_figure``)
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .fresh import OPTIMISED, constraint_texts
from .problem import Problem, goal_text

PLAN = "best_plan.yaml"
SUMMARY = "optimisation.json"
FIGURE = "pareto.png"


def _tidy(x):
    if isinstance(x, float):
        return float(f"{x:.10g}")
    if isinstance(x, dict):
        return {k: _tidy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_tidy(v) for v in x]
    return x


def write_plan(path: Path, problem: Problem, levers: list[dict], note: list[str]) -> Path:
    """The action-plan file, with a header saying how it was found and how it did on fresh replicates."""
    body = yaml.safe_dump({"name": f"{problem.spec.name}_best",
                           "description": f"the plan chosen by wfsim optimise ({problem.spec.name})",
                           "levers": _tidy(levers)}, sort_keys=False, allow_unicode=True, width=110)
    header = "".join(f"# {line}\n" for line in note)
    Path(path).write_text(header + body, encoding="utf-8")
    return Path(path)


def _records(df: pd.DataFrame | None) -> list[dict]:
    if df is None:
        return []
    out = []
    for r in df.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else
                        (v.item() if isinstance(v, np.generic) else v)) for k, v in r.items()})
    return out


def why_none(problem: Problem, result) -> str:
    """Why no plan met the constraints: the closest the search came, for each constraint."""
    t = result.trials
    if not len(t) or not problem.spec.constraints:
        return "no trial met the budget" if problem.spec.objective.budget is not None else "no trials"
    parts = []
    for c, con in enumerate(problem.spec.constraints):
        best = t[f"P({c + 1})"].max()
        parts.append(f"the highest P({goal_text(problem.goals[c])}) any trial reached was {best:.2f} (needed "
                     f"{con.probability:g})")
    return ("no plan within the bounds met the constraints on the search's replicates: " + "; ".join(parts)
            + ". Widen the decisions' bounds, add levers, or relax the goal.")


def summary(problem: Problem, result, fresh: pd.DataFrame | None, plans: dict, file: str) -> dict:
    spec = problem.spec
    t = result.trials
    out = {
        "name": spec.name, "question": spec.question.strip(), "file": file,
        "scenario": str(problem.scenario_path), "futures": problem.futures,
        "objective": spec.objective.model_dump(mode="json", exclude_none=True),
        "constraints": constraint_texts(problem), "probabilities": [c.probability for c in spec.constraints],
        "gap_goal": goal_text(problem.goals[problem.gap_goal]) if problem.gap_goal >= 0 else None,
        "robust": spec.robust.model_dump(mode="json"),
        "search": {**spec.search.model_dump(mode="json"), "finished": len(t), "horizon_years": problem.years,
                   "feasible": int(t.feasible.sum()) if len(t) else 0},
        "evaluate": {**spec.evaluate.model_dump(mode="json"), "seed": spec.fresh_seed},
        "decisions": {v.name: {"lever": v.decision.lever, "field": v.decision.field, "low": v.decision.low,
                               "high": v.decision.high, "kind": v.kind} for v in problem.variables},
        "best": None, "why_none": None, "fresh": _records(fresh),
        "frontier": _records(t.iloc[result.front]) if result.front else [],
        "plans": {k: {"description": d, "levers": _tidy(lv)} for k, (d, lv) in plans.items()},
    }
    if result.best is not None:
        row = t.iloc[result.best]
        out["best"] = {"trial": int(row.trial), "decisions": problem.shown(result.points[result.best]),
                       "search": _records(t.iloc[[result.best]])[0]}
        if fresh is not None and (fresh.variant == OPTIMISED).any():
            out["best"]["fresh"] = _records(fresh[fresh.variant == OPTIMISED])[0]
    else:
        out["why_none"] = why_none(problem, result)
    return out


def write_summary(folder: Path, data: dict) -> Path:
    path = Path(folder) / SUMMARY
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    return path


def read_summary(folder: Path) -> dict | None:
    path = Path(folder) / SUMMARY
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
