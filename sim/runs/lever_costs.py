"""What each lever of an action plan costs and how big it was, from the lever plugin API (``Lever.cost``
and ``Lever.scale``), and the results variables that include them.

The results layer does not know lever plugins; the run layer works out ``lever_cost`` and
``lever_scale`` here and hands them to :func:`sim.results.dataset.derived`.
"""
from __future__ import annotations

import numpy as np

from ..model.plan import Plan
from ..results.dataset import derived


def lever_costs(plan: Plan, raw: dict[str, np.ndarray]) -> np.ndarray:
    """[..., M, lever] £ per month on each lever of the plan (the raw counts' leading dims first)."""
    out = np.zeros(raw["headcount"].shape[:-2] + (len(plan.levers),))
    for i, lever in enumerate(plan.levers):
        out[..., i] = lever.cost(plan, raw)
    return out


def lever_scales(plan: Plan) -> np.ndarray:
    """[M, lever] each lever's size relative to its configuration (adaptive plans change it)."""
    out = np.ones((plan.months, len(plan.levers)))
    for i, lever in enumerate(plan.levers):
        out[:, i] = lever.scale(plan.months)
    return out


def outcomes(plan: Plan, raw: dict[str, np.ndarray], demand_side: dict[str, np.ndarray], every: str = "month") \
        -> dict[str, np.ndarray]:
    """Every results variable (arrays) from an engine's raw counts, the demand side and the levers; ``every``:
    stocks at the last month of each output period only (``sim.results.dataset.derived``)."""
    return derived(plan, raw, demand_side, lever_costs(plan, raw), lever_scales(plan), every)
