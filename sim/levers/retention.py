"""Areas 1 and 4 (health and wellbeing; leadership and lifelong learning): keeping and growing staff."""
from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..limits import POUNDS
from ..model.compile import monthly_hazard
from ..scenario.errors import shown
from ..scenario.types import Number
from .base import Lever, heads_cost
from .registry import register


def _age_band(v) -> list[int]:
    ok = (isinstance(v, (list, tuple)) and len(v) == 2
          and all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a <= 100 for a in v))
    if not ok or v[0] > v[1]:
        raise PydanticCustomError("ages", "expected [youngest, oldest]: two whole years of age from 0 to 100, "
                                  "youngest first, e.g. [55, 70]; got {v}", {"v": shown(v)})
    return [int(v[0]), int(v[1])]


AgeBand = Annotated[list[int], PlainValidator(_age_band), WithJsonSchema(
    {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 100}, "minItems": 2, "maxItems": 2,
     "description": "[youngest, oldest] years of age, inclusive"})]


@register
class Retention(Lever):
    """Multiply a profession's leaving hazard by ``leave_rate_multiplier`` while in force, at all ages or
    (late-career retention) only at ``ages``.

    ICS-PF 2021, people function 1 ("local retention plans", occupational health) and the NHS retention
    programme: the leaver rate fell from 12.5% to 10.1% (2022→2024), a multiplier of about 0.8; about 2%
    of nurses a year leave at retirement age and 8% before it, so late-career schemes act on a band of
    ages. With ``ages`` the lever multiplies the leave-by-age multipliers, which do not vary over time,
    so it is in force over the whole horizon (``from``, ``until`` and ``ramp_months`` are refused, and
    adaptive plans may not raise it). The cost counts every head of the profession in scope (results
    carry no ages). Closed form: with constant inflow J and hazard h the steady state J/h becomes J/(k·h).
    No retire-and-return option: returners after retirement need a retirement-age inflow the plan
    tensors do not have.
    """

    lever: Literal["retention"]
    profession: str = Field(description="profession whose leaving hazard is multiplied")
    leave_rate_multiplier: Number(0, 10, "multiplier on the leaving hazard, 0.9 = 10% fewer leavers")
    cost_per_head_per_year: Number(0, POUNDS, "£ per head in post per year") = 0.0
    ages: AgeBand | None = Field(
        None, description="youngest and oldest year of age (inclusive) the multiplier applies to, e.g. "
        "[55, 70] for late-career retention; default: all ages. In force over the whole horizon")

    area = 1

    def references(self, scenario):
        out = super().references(scenario)
        if self.ages is None:
            return out
        why = ("retention by age acts on the leave-by-age multipliers, which do not vary over time, so with "
               "ages the lever is in force over the whole horizon; remove {} or ages (a second retention lever "
               "without ages can be timed)")
        for field, value in (("from", self.from_), ("until", self.until), ("ramp_months", self.ramp_months)):
            if value:
                out.append((field, why.format(field)))
        from ..model.compile import lever_label

        mine = [i for i, x in enumerate(scenario.levers) if x is self]
        label = lever_label(self, mine[0], scenario.levers) if mine else self.lever
        for other in scenario.levers:
            raised = getattr(other, "raise_levers", None) or []
            if label in raised or (self.id is None and self.lever in raised):
                out.append(("ages", f"an adaptive plan raises {shown(label)}, but retention by age cannot change over "
                                    "time; raise a retention lever without ages instead"))
        return out

    def apply(self, plan, scenario) -> None:
        p = plan.professions.index(self.profession)
        if self.ages is None:
            plan.leave_hazard[:, p, :] *= self.multiplier(plan, self.leave_rate_multiplier)
            return
        lo, hi = self.ages
        places = self.place_mask(plan)
        plan.leave_age_mult[p, places, lo:hi + 1] *= self.leave_rate_multiplier

    def cost(self, plan, raw) -> np.ndarray:
        """Heads in post of the profession in scope (at all ages) × ``cost_per_head_per_year`` ÷ 12 a month, times the
        delivered share."""
        return heads_cost(self, plan, raw, self.profession, self.cost_per_head_per_year)


@register
class Wellbeing(Lever):
    """Multiply a profession's sickness absence by ``sickness_multiplier`` while in force.

    ICS-PF 2021, people function 1 ("health and wellbeing": occupational health, psychological support,
    wellbeing hubs). Sickness absence removes effective FTE without a leaver; ambulance sickness rose
    from 5% to 9% (2019→2022), so a programme that brings it back is worth about 4% of FTE. Effective
    FTE is FTE × (1 - sickness); sickness is held at most 1. Closed form: effective_fte = fte × (1 - k·s)
    exactly, headcount unchanged.
    """

    lever: Literal["wellbeing"]
    profession: str = Field(description="profession whose sickness absence changes")
    sickness_multiplier: Number(0, 10, "multiplier on the share of FTE lost to sickness, 0.8 = a fifth less")
    cost_per_head_per_year: Number(0, POUNDS, "£ per head in post per year") = 0.0

    area = 1

    def apply(self, plan, scenario) -> None:
        p = plan.professions.index(self.profession)
        changed = plan.sickness[:, p, :] * self.multiplier(plan, self.sickness_multiplier)
        plan.sickness[:, p, :] = np.minimum(changed, 1.0)

    def cost(self, plan, raw) -> np.ndarray:
        """Heads in post of the profession in scope × ``cost_per_head_per_year`` ÷ 12 a month, times the delivered
        share."""
        return heads_cost(self, plan, raw, self.profession, self.cost_per_head_per_year)


@register
class LeadershipCPD(Lever):
    """Leadership and CPD programmes: a leaving-hazard multiplier, and progression into a senior role.

    ICS-PF 2021, people function 4 ("leadership and lifelong learning": CPD, training hubs, talent
    management) and HEE-ICS 2021, Fig 2 (workforce-development investment). No national effect size was
    found (work-life balance rose from 17% to 23% of voluntary leaving reasons, 2011/12→2018/19), so the
    defaults do nothing: the planner sets the leaving multiplier and ``progression_rate``, the share of
    ``profession`` moving into ``to_profession`` a year (e.g. nurses into advanced practice), added to
    the transfer hazards as ``-ln(1 - rate)/12`` a month. Closed form (no inflow): the
    stock of ``profession`` falls by the factor a·b a month, a = exp(-k·h_leave), b = (1 - rate)^(1/12),
    and ``to_profession`` (no leaving) gains N a (1 - b) (1 - (ab)^(m+1)) / (1 - ab) by month m.
    """

    lever: Literal["leadership_cpd"]
    profession: str = Field(description="profession taking the programme")
    leave_rate_multiplier: Number(0, 10, "multiplier on the leaving hazard, 0.95 = 5% fewer leavers") = 1.0
    progression_rate: Number(0, 0.99, "annual probability of moving into to_profession") = 0.0
    to_profession: str | None = Field(None, description="the senior or advanced role progression leads to "
                                      "(needed where progression_rate > 0)")
    cost_per_head_per_year: Number(0, POUNDS, "£ per head in post per year") = 0.0

    area = 4

    def references(self, scenario):
        out = super().references(scenario)
        if self.to_profession is not None:
            if self.to_profession == self.profession:
                out.append(("to_profession", f"progression leads out of {shown(self.profession)} into another "
                                             "profession; name a different one"))
        elif self.progression_rate > 0:
            out.append(("to_profession", "needed where progression_rate > 0; allowed: "
                                         + ", ".join(sorted(set(scenario.professions) - {self.profession}))))
        return out

    def apply(self, plan, scenario) -> None:
        p = plan.professions.index(self.profession)
        plan.leave_hazard[:, p, :] *= self.multiplier(plan, self.leave_rate_multiplier)
        if self.to_profession is not None and self.progression_rate > 0:
            q = plan.professions.index(self.to_profession)
            plan.transfer_hazard[:, p, :, q] += monthly_hazard(np.asarray(self.progression_rate)) * self.window(plan)

    def cost(self, plan, raw) -> np.ndarray:
        """Heads in post of the profession in scope × ``cost_per_head_per_year`` ÷ 12 a month, times the delivered
        share."""
        return heads_cost(self, plan, raw, self.profession, self.cost_per_head_per_year)
