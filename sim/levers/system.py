"""Area 10 (supporting system design and development): levers that change how the system's providers
work together rather than how many staff they have."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..limits import POUNDS
from ..model.flows import RECRUITED
from ..scenario.types import Number
from .base import Lever, running_cost
from .registry import register


@register
class SharedPool(Lever):
    """A shared recruitment and deployment pool across an ICS's providers.

    ICS People Function guidance (NHS England and NHS Improvement, "Building strong integrated care
    systems everywhere: guidance on the ICS people function", 2021), area 10 (system design and
    development: "collaborative arrangements" between the system's organisations) and area 5 ("local
    workforce-sharing arrangements", system-wide recruitment). Without a pool, where hiring is only into
    vacancies an experienced hire whose provider has no vacant post when they would start is lost to
    the system, while another provider of the same ICS may have one. In a pool, recruitment is shared:
    such a hire starts at the pool's provider with the most vacant posts instead (the first of equals),
    counted as a joiner there by their source. Pools are the lever's scope split by ``pool_level``
    (default: one pool per ICS). A pool is in force in the months the lever is (a ramp has no
    meaning for it: any delivered share puts it in force). Newly qualified completers are not pooled
    (the programme's local-employment share and mobility section say where they look).

    Closed form (two locations of one ICS, no leaving; A at its establishment with hires arriving at
    λ a month, B with V vacant posts and no hires of its own): with the pool B's staff after month m are
    B0 + E[min(V, Poisson(λ·(m+1)))], without it B0; A is unchanged either way. Effects of the size of
    the pool: the hires that were lost, up to the pool's vacancies. Costs: ``cost_per_year`` to run the
    shared recruitment team while in force, plus ``cost_per_hire`` for every experienced hire at a
    provider in the pool (the shared team's time per hire).
    """

    lever: Literal["shared_pool"]
    profession: str | None = Field(None, description="profession recruited through the pool; default: all")
    pool_level: Literal["place", "ics", "region", "nation"] = Field(
        "ics", description="the areas that each form one pool of their providers (inside the lever's scope): "
        "place, ics (default), region or nation")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(
        0.0, description="£ per year to run the shared recruitment and deployment team while in force")
    cost_per_hire: Number(0, POUNDS, "£ per experienced hire") = Field(
        0.0, description="£ per experienced hire of the profession at providers in the pool while in force")

    area = 10

    def _professions(self, plan) -> list[int]:
        return list(range(len(plan.professions))) if self.profession is None \
            else [plan.professions.index(self.profession)]

    def apply(self, plan, scenario) -> None:
        on = self.intensity(plan) > 0                                   # [M]
        inside = self.place_mask(plan)                                  # [L]
        if not on.any() or not inside.any():
            return
        if plan.pool is None:
            plan.pool = np.full(plan.shape, -1, np.int64)
        _, area = plan.areas(self.pool_level)                          # [L] area index at pool_level
        ids = np.where(inside, plan.pool.max(initial=-1) + 1 + area, -1)
        for p in self._professions(plan):
            plan.pool[np.ix_(on, [p], inside)] = ids[inside][None, None, :]

    def cost(self, plan, raw) -> np.ndarray:
        """``cost_per_year`` ÷ 12 a month while in force, plus ``cost_per_hire`` × experienced hires of the
        profession(s) at providers in scope while in force."""
        out = running_cost(self, plan, raw, self.cost_per_year)
        if self.cost_per_hire:
            months = raw["headcount"].shape[-3]
            on = (self.intensity(plan) > 0)[:months, None] * self.place_mask(plan)[None, :]    # [M, L]
            hires = raw["joiners"][..., self._professions(plan), :, RECRUITED[0]:RECRUITED[-1] + 1].sum(axis=(-1, -3))
            out = out + (hires * on).sum(axis=-1) * self.cost_per_hire
        return out
