"""Box 2: funded posts follow required FTE within the workforce budget; pay grows each April."""
from __future__ import annotations

import numpy as np

from ..vocabulary import APRIL


def april_factor(annual: np.ndarray, start_month: int) -> np.ndarray:
    """Cumulative factor [M, ...]: each April after the start that year's rate applies (pay awards)."""
    M = annual.shape[0]
    april = ((start_month - 1 + np.arange(M)) % 12 == APRIL - 1) & (np.arange(M) > 0)
    step = np.where(april.reshape((M,) + (1,) * (annual.ndim - 1)), 1 + annual, 1.0)
    return np.cumprod(step, axis=0)


def funded_posts(funded0: np.ndarray, demand: np.ndarray, demand0: np.ndarray, cost_per_fte: np.ndarray,
                 budget: np.ndarray | None) -> np.ndarray:
    """Funded FTE [..., M, P, L]: the start establishment grown with required FTE (relative to the
    required FTE at the start before any lever, so a lever that cuts demand from day one cuts posts),
    scaled down in any month where its cost (FTE × £ per FTE) would exceed the budget (£ per year)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        growth = np.where(demand0 > 0, demand / np.where(demand0 > 0, demand0, 1.0), 1.0)
    # a role with no required FTE at the start (e.g. created by new_roles) is funded at its demand
    funded = np.where(demand0 > 0, funded0 * growth, demand)
    if budget is None:
        return funded
    cost = (funded * cost_per_fte).sum(axis=(-1, -2))                                   # [..., M]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.minimum(1.0, np.where(cost > 0, budget / cost, 1.0))
    return funded * scale[..., None, None]
