"""Per-replicate demand: the central path shifted by drawn growth and productivity trends.

Each replicate r draws its shocks from its own stream keyed by (seed, r, DEMAND_STREAM), so demand,
like supply, is the same for a replicate whatever the batching, and is shared across scenarios.
"""
from __future__ import annotations

import numpy as np

from .establishment import funded_posts

DEMAND_STREAM = 1000          # spawn key, apart from the engines' decision streams


def demand_draws(plan, replicates, seed: int) -> dict[str, np.ndarray]:
    """activity [R, M, S, L], demand_fte and funded_posts [R, M, P, L] for the given replicates."""
    reps = list(replicates)
    years = np.arange(plan.months) / 12.0
    shocks = np.zeros((len(reps), 2))
    if plan.growth_sd > 0 or plan.productivity_sd > 0:
        for i, r in enumerate(reps):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(r), DEMAND_STREAM))))
            shocks[i] = rng.normal(0.0, 1.0, 2) * (plan.growth_sd, plan.productivity_sd)
    need = np.exp(shocks[:, :1] * years[None])                       # [R, M] extra growth in need
    fte = np.exp((shocks[:, :1] - shocks[:, 1:]) * years[None])      # in required FTE, net of productivity
    demand = plan.demand_fte[None] * fte[:, :, None, None]
    return {
        "activity": plan.activity[None] * need[:, :, None, None],
        "demand_fte": demand,
        "funded_posts": funded_posts(plan.funded0, demand, plan.demand0, plan.cost_per_fte, plan.budget),
    }
