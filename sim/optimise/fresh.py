"""Honest evaluation: the chosen plans, the base scenario and the hand-written plans to compare with are
written as an experiment (``evaluation.yaml``) on fresh replicates (another seed, usually more of them),
and judged again from that experiment's store with the search's own measures.

The experiment machinery runs it (``wfsim optimise`` does, or ``wfsim experiment evaluation.yaml``), so
the evaluation is resumable, paired by common random numbers across plans, and reported by
``wfsim report`` like any experiment, with the optimisation's own section added.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .measures import combine, outcome, wilson_lower
from .pareto import spread
from .problem import Problem, goal_text
from .spec import OptimisationSpec

BASELINE = "baseline"
OPTIMISED = "optimised"


def _absolute(change: dict, folder: Path) -> dict:
    plans = [str(p if Path(p).is_absolute() else (folder / p).resolve()) for p in change.get("plans", [])]
    return {**change, "plans": plans} if plans else dict(change)


def plan_label(path: str, taken: set[str]) -> str:
    label = Path(path).stem.replace(" ", "_") or "plan"
    return label if label not in taken else f"plan_{label}"


def evaluation_experiment(spec: OptimisationSpec, folder: Path, scenario_path: Path,
                          plans: dict[str, tuple[str, list[dict]]], problem: Problem | None = None) -> dict:
    """The experiment that judges ``plans`` (label → (description, levers)) on fresh replicates against the
    base scenario and the ``compare`` plans, under every future."""
    variants = {BASELINE: {"description": "the base scenario (no levers added)"}}
    variants.update({label: {"description": text, "levers": levers} for label, (text, levers) in plans.items()})
    for path in spec.compare:
        p = Path(path) if Path(path).is_absolute() else (folder / path).resolve()
        variants[plan_label(path, set(variants))] = {"description": f"hand-written action plan {path}",
                                                      "plans": [str(p)]}
    out = {"name": spec.name, "question": spec.question,
           "description": f"Honest evaluation of the optimisation {spec.name}: the chosen plans re-run on fresh "
                          f"replicates (seed {spec.fresh_seed}, not the search's {spec.search.seed}) beside the base "
                          "scenario and the hand-written plans.",
           "scenario": str(scenario_path), "replicates": spec.evaluate.replicates, "seed": spec.fresh_seed,
           "engine": spec.search.engine, "block": spec.evaluate.block, "baseline": BASELINE, "variants": variants}
    if spec.futures:
        out["futures"] = {f: _absolute(c, folder) for f, c in spec.futures.items()}
    if problem is not None:
        out["every"] = problem.every
        professions = list(dict.fromkeys(g.profession for g in problem.goals if g.profession))
        out["compare"] = {"professions": professions,
                          "at": sorted({g.by for g in problem.goals} | {problem.spend_to})}
    return out


def chosen_plans(problem: Problem, result) -> dict[str, tuple[str, list[dict]]]:
    """The plans to judge on fresh replicates: the chosen one, and (multi-objective) frontier plans spread
    over spend."""
    out = {}
    t = result.trials
    if result.best is not None:
        out[OPTIMISED] = (f"the plan chosen by the search (trial {t.trial.iloc[result.best]})",
                          problem.plan_levers(result.points[result.best]))
    if problem.spec.objective.pareto:
        for k, i in enumerate(spread(result.front, t, problem.spec.evaluate.pareto_points)):
            if i != result.best:
                out[f"pareto_{k + 1}"] = (f"a frontier plan of the search (trial {t.trial.iloc[i]})",
                                          problem.plan_levers(result.points[i]))
    return out


def _label(ds: xr.Dataset, variant: str, future: str) -> str:
    hit = [str(s) for s, v, f in zip(ds.scenario.values, ds.variant.values, ds.future.values)
           if str(v) == variant and str(f) == future]
    return hit[0]


def fresh_table(problem: Problem, ds: xr.Dataset) -> pd.DataFrame:
    """Every variant of the evaluation experiment judged with the search's measures on its replicates."""
    o = problem.spec.objective
    futures = list(dict.fromkeys(map(str, ds.future.values)))

    def outcomes(variant: str) -> dict:
        got = {}
        for f in futures:
            one = ds.sel(scenario=_label(ds, variant, f))
            one.attrs = ds.attrs
            got[f] = outcome(one, problem.goals, spend=o.spend, discount_rate=o.discount_rate, to=problem.spend_to)
        return got

    base = outcomes(BASELINE)
    n = ds.sizes["replicate"]
    pooled = problem.spec.robust.measure != "worst"
    rows = []
    for variant in dict.fromkeys(map(str, ds.variant.values)):
        m = combine(outcomes(variant), base, problem, confidence=0.5)
        row = {"variant": variant, "spend_m": m.spend, "gap": m.gap, "risk": m.risk}
        for c, (p, con) in enumerate(zip(m.probability, problem.spec.constraints)):
            size = n * len(futures) if pooled else n
            k = round(p * size)
            row[f"P({c + 1})"] = p
            row[f"P({c + 1}) low"] = wilson_lower(k, size, 0.975)
            row[f"P({c + 1}) high"] = 1 - wilson_lower(size - k, size, 0.975)
        row["meets"] = m.feasible if problem.spec.constraints else np.nan
        if len(futures) > 1:
            for f, v in m.futures.items():
                row[f"spend_m@{f}"] = v["spend"]
                row.update({f"P({c + 1})@{f}": x for c, x in enumerate(v["probability"])})
        rows.append(row)
    return pd.DataFrame(rows)


def constraint_texts(problem: Problem) -> list[str]:
    return [f"P({goal_text(g)}) ≥ {c.probability:g}" for g, c in zip(problem.goals, problem.spec.constraints)]
