"""Annual reviews: run an action plan whose adaptive levers react to each replicate's own state.

Engines run a whole horizon at once, so a review is taken by running each replicate up to the review
month, reading its state (gap, spend), deciding, and carrying on with the plan tensors the decision
implies (the action plan with the raised levers scaled up).
Engines are prefix-consistent (the first t months of a run do not depend on what the plan says after
month t, and every replicate draws from its own streams), so re-running from the start gives the same
past and costs no exactness; it costs time, about half a run per review. Replicates that have taken
the same decisions so far share one plan and run together.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..levers.adaptive import AdaptivePlan
from ..model.compile import with_levers
from ..model.plan import Plan
from .lever_costs import outcomes


def adaptive_levers(scenario) -> list[tuple[int, AdaptivePlan]]:
    return [(i, lv) for i, lv in enumerate(scenario.levers) if isinstance(lv, AdaptivePlan)]


def run_reviewed(base: Plan, scenario, reps: np.ndarray, simulate: Callable, demand: Callable) -> dict:
    """Results variables (with a leading replicate axis) for ``reps`` under reviews; what was decided is
    in their ``lever_scale``.

    ``simulate(plan, reps, funded_posts)`` -> raw counts; ``demand(plan, reps)`` -> the demand side.
    """
    levers = list(scenario.levers)
    full = with_levers(base, scenario, levers)
    labels = full.lever_labels
    adaptive = adaptive_levers(scenario)
    M, R = full.months, len(reps)
    scale = np.ones((R, len(levers), M))
    reviews = sorted({t for _, a in adaptive for t in a.review_months(full)})

    def plan_for(row: np.ndarray) -> Plan:
        scaled = [lv.scaled(row[i]) if np.any(row[i] != 1.0) else lv for i, lv in enumerate(levers)]
        return with_levers(base, scenario, scaled)

    def groups():
        keys = {}
        for r in range(R):
            keys.setdefault(scale[r].tobytes(), []).append(r)
        return [np.array(v) for v in keys.values()]

    for t in reviews:
        for idx in groups():
            plan = plan_for(scale[idx[0]])
            side = {k: v[:, :t] for k, v in demand(plan, reps[idx]).items()}
            head = plan.head(t)
            values = outcomes(head, simulate(head, reps[idx], side["funded_posts"]), side)
            for _, a in adaptive:
                if t not in a.review_months(full):
                    continue
                raised = a.raised(labels, levers)
                p = full.professions.index(a.profession)
                places = a.place_mask(full)
                need = values["demand_fte"][:, t - 1, p, places].sum(axis=-1)
                gap = values["gap_fte"][:, t - 1, p, places].sum(axis=-1)
                share = np.where(need > 0, gap / np.where(need > 0, need, 1.0), 0.0)
                spend = values["lever_cost"][:, max(0, t - 12):t, raised].sum(axis=(1, 2))
                yes = a.decide(share, spend, scale[idx, raised[0], t])
                for i in raised:
                    scale[idx[yes], i, t:] += a.step
    out: dict[str, list] = {}
    order = []
    for idx in groups():
        plan = plan_for(scale[idx[0]])
        side = demand(plan, reps[idx])
        values = outcomes(plan, simulate(plan, reps[idx], side["funded_posts"]), side)
        for k, v in values.items():
            out.setdefault(k, []).append(np.broadcast_to(v, (len(idx),) + v.shape[1:]))
        order.append(idx)
    where = np.argsort(np.concatenate(order), kind="stable")
    return {k: np.concatenate(v)[where] for k, v in out.items()}
