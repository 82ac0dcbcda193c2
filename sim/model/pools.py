"""Shared recruitment pools in the mean field: hires who find no vacancy go to another location of their
pool (``Plan.pool``), the one with the most vacant posts first.

The engines send each such hire to the pool's location with the most vacant posts at the time, so a
pool's vacancies are filled from the top down and the ones left end up as equal as whole posts allow. In
expected numbers that is water-filling: the hires redeployed, R = min(overflow, vacancies) over the pool,
fill each location's expected vacancies V_l down to a common level t with Σ max(V_l − t, 0) = R. The
expected vacancies are E[(cap − S)+] over the staff count's normal distribution (``sim.model.capped``).
The hires so sent to a location then take its posts as other arrivals do there, E[min(A, (cap − S)+)]
(``capped.filled``), which keeps the expected staff below the cap and updates their variance. The
pool's total is a minimum of expected values: an approximation where a pool's vacancies and its
overflow are of the same size, exact where one of them is much the larger.
"""
from __future__ import annotations

import numpy as np

from . import capped


def water_fill(room: np.ndarray, amount: float) -> np.ndarray:
    """[n] how much of ``amount`` (≤ room.sum()) each of ``room`` [n] takes when the fullest rooms fill
    first down to a common level."""
    if amount <= 0:
        return np.zeros_like(room)
    top = np.sort(room)[::-1]
    taken_above = np.cumsum(top) - np.arange(1, top.size + 1) * top      # filled if the level were top[k]
    k = int(np.searchsorted(taken_above, amount, side="left"))           # first level that would take too much
    k = min(max(k, 1), top.size)
    level = (top[:k].sum() - amount) / k
    return np.maximum(room - max(level, 0.0), 0.0)


def expected_vacancies(cap: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """E[(cap − S)+] for a staff count S ~ Normal(mean, var) (zero where cap is infinite: no vacancy limit)."""
    finite = np.isfinite(cap)
    nodes = capped.staff_nodes(mean, var)
    room = np.tensordot(capped.WEIGHTS, np.maximum(np.where(finite, cap, 0.0)[None] - nodes, 0.0), axes=1)
    return np.where(finite, room, 0.0)


def redeploy(pool: np.ndarray, overflow: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Hires redeployed within pools [N, P, L, S] by source, where they start: ``pool`` [P, L] (-1: none),
    ``overflow`` [N, P, L, S] expected hires who found no vacancy where recruited, ``room`` [N, P, L]
    expected vacancies left."""
    arrived = np.zeros_like(overflow)
    for p, ids in enumerate(pool):
        for pid in np.unique(ids[ids >= 0]):
            members = np.flatnonzero(ids == pid)
            for n in range(overflow.shape[0]):
                over = overflow[n, p, members]                                  # [k, S]
                total = over.sum()
                if total <= 0:
                    continue
                moved = min(total, room[n, p, members].sum())
                if moved <= 0:
                    continue
                share = over.sum(axis=0) / total                                # sources of the redeployed
                arrived[n, p, members] = water_fill(room[n, p, members], moved)[:, None] * share[None]
    return arrived


def redeployed(pool: np.ndarray, overflow: np.ndarray, cap: np.ndarray, mean: np.ndarray, var: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """(hires starting elsewhere in their pool [N, P, L, S] by source, the staff count's variance after
    them [N, P, L]): ``overflow`` the expected hires who found no vacancy where recruited, ``cap`` the
    whole posts, ``mean`` and ``var`` the staff count's moments after the month's other hires."""
    offer = redeploy(pool, overflow, expected_vacancies(cap, mean, var))
    total = offer.sum(-1)
    if not total.any():
        return offer, var
    placed, _, after = capped.filled(capped.staff_nodes(mean, var), cap, total, total)   # arrivals: Poisson
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, placed / np.where(total > 0, total, 1.0), 0.0)
    return offer * share[..., None], np.where(total > 0, after, var)
