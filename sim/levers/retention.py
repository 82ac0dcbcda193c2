"""Area 1 (health and wellbeing): retention programmes that lower the leaving hazard."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..scenario.types import Number
from .base import Lever, check_name
from .registry import register


@register
class Retention(Lever):
    """Multiply a profession's leaving hazard by ``leave_rate_multiplier`` while in force.

    Seed 001, people function 1 ("local retention plans", occupational health); NHS leaver rate fell
    from 12.5% to 10.1% (2022→2024) under the national retention programme. With a constant inflow J
    and hazard h the steady state J/h becomes J/(k·h).
    """

    lever: Literal["retention"]
    profession: str = Field(description="profession whose leaving hazard is multiplied")
    leave_rate_multiplier: Number(0, 10, "multiplier on the leaving hazard, 0.9 = 10% fewer leavers")
    cost_per_head_per_year: Number(0, None, "£ per head in post per year") = 0.0

    area = 1
    levels = ("national", "region", "ics", "place")

    def references(self, scenario):
        return super().references(scenario) + check_name(
            self.profession, scenario.professions, "profession", "profession")

    def apply(self, plan, scenario) -> None:
        p = plan.professions.index(self.profession)
        plan.leave_hazard[:, p, :] *= self.multiplier(plan, self.leave_rate_multiplier)

    def cost(self, plan, raw) -> np.ndarray:
        p = plan.professions.index(self.profession)
        in_scope = raw["headcount"][..., p, :] * (self.window(plan) > 0)
        return in_scope.sum(axis=-1) * self.cost_per_head_per_year / 12.0
