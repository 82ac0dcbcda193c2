"""Area 5 (leading workforce transformation and new ways of working): skill mix, rotation, banks, digital."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..limits import POUNDS
from ..model.compile import monthly_hazard
from ..scenario.errors import shown
from ..scenario.types import Number
from .base import Lever, by_month, heads_cost, running_cost
from .registry import register


def _professions(plan, profession: str | None) -> list[int]:
    return list(range(len(plan.professions))) if profession is None else [plan.professions.index(profession)]


@register
class NewRoles(Lever):
    """Skill-mix substitution: move ``share`` of one profession's required FTE to a new role.

    ICS-PF 2021, area 5 ("supporting the spread and adoption of new roles", skill mix in multidisciplinary
    teams) and HEE-ICS 2021, Fig 2 ("development of new roles"). Nursing associates (Band 4, 6,161 FTE in
    trusts in 2024, LTWP target 10,500 trained a year by 2031/32) take on part of registered-nurse work;
    a share of a few per cent at ``ratio`` 1.0 is the order the LTWP implies. Funded posts follow the
    changed demand (they are set after the levers). Closed form, with w the delivered window:
    demand[from] × (1 - share·w) and demand[to] + ratio·share·w·demand[from].
    """

    lever: Literal["new_roles"]
    from_profession: str = Field(description="profession whose work (required FTE) is partly moved")
    to_profession: str = Field(description="profession (the new role) that takes the work on")
    share: Number(0, 1, "share of from_profession's required FTE moved") = Field(
        description="share of from_profession's required FTE moved, 0 to 1 (0.05 = 5%)")
    ratio: Number(0, 10, "FTE of the new role per FTE of work moved") = Field(
        1.0, description="FTE of the new role needed per FTE of work moved, 0 to 10 (1.0: one for one)")
    cost_per_fte_moved_per_year: Number(0, POUNDS, "£ per FTE of work moved per year") = Field(
        0.0, description="£ per year per FTE of work moved (training, supervision, backfill)")

    area = 5

    def references(self, scenario):
        out = super().references(scenario)
        if self.from_profession == self.to_profession:
            out.append(("to_profession", f"to_profession must differ from from_profession "
                                         f"({shown(self.from_profession)}); allowed: "
                                         f"{', '.join(p for p in scenario.professions if p != self.from_profession)}"))
        return out

    def apply(self, plan, scenario) -> None:
        a, b = plan.professions.index(self.from_profession), plan.professions.index(self.to_profession)
        # [M, L] FTE of work moved; an adaptive plan may scale the share up, never past all of the work
        moved = np.minimum(self.share * self.window(plan), 1.0) * plan.demand_fte[:, a, :]
        plan.demand_fte[:, a, :] -= moved
        plan.demand_fte[:, b, :] += self.ratio * moved
        # the moved FTE, for ``cost``, kept with this plan (position of this lever in its action plan)
        self.remember(plan, moved.sum(axis=1))

    def cost(self, plan, raw) -> np.ndarray:
        """FTE of work moved to the new role (``share`` × the required FTE of ``from_profession`` in scope, times the
        delivered share) × ``cost_per_fte_moved_per_year`` ÷ 12 a month."""
        return by_month(raw, self.recall(plan) * self.cost_per_fte_moved_per_year / 12.0)


@register
class RotationalRoles(Lever):
    """Rotational roles shared across places: add ``rotation_rate`` (annual probability) of moving place.

    ICS-PF 2021, area 5 ("rotational roles across primary and secondary care", "system-wide secondments",
    "local workforce-sharing arrangements"); HEE's postgraduate trainees already rotate between providers
    (their leaver rates of 18-50% a year include rotations). The move goes to another place of the same
    ICS, weighted by population; places alone in their ICS have nowhere to go and are left as they are.
    The rate is added as a monthly hazard, -ln(1 - rate)/12. Closed form (two places, nothing else
    moving): the expected headcount at a place follows the two-state chain
    x(m) = N/2 + (x(-1) - N/2)(1 - 2p)^(m+1), p = 1 - (1 - rate)^(1/12), and the total is conserved.
    """

    lever: Literal["rotational_roles"]
    profession: str = Field(description="profession whose staff rotate between places")
    rotation_rate: Number(0, 1, "annual probability of moving to another place in the ICS") = Field(
        description="added annual probability of moving to another place of the same ICS, 0 to 1 (0.2 = 20% a year)")
    cost_per_head_per_year: Number(0, POUNDS, "£ per head in post per year") = Field(
        0.0, description="£ per year per head of the profession in post at places in scope (coordination, travel)")

    area = 5

    def apply(self, plan, scenario) -> None:
        p = plan.professions.index(self.profession)
        can_move = plan.rotation_cdf[p, :, -1] > 0                # another place in the same ICS employs it
        extra = monthly_hazard(np.asarray(self.rotation_rate, float))
        plan.rotation_hazard[:, p, :] += extra * self.window(plan) * can_move[None, :]

    def cost(self, plan, raw) -> np.ndarray:
        """Heads in post of the profession in scope × ``cost_per_head_per_year`` ÷ 12 a month, times the delivered
        share."""
        return heads_cost(self, plan, raw, self.profession, self.cost_per_head_per_year)


@register
class SharedBank(Lever):
    """A collaborative staff bank: more vacant FTE covered by bank staff, at a lower premium.

    ICS-PF 2021, area 5 ("a collaborative system for managing temporary staffing ... shared staff banks ...
    system-wide bank rates"). Bank spend (£5.8bn) exceeds agency spend (£4.6bn, 2023/24); the agency
    cap is 55% over basic pay against 86-90% before it, and 2025/26 guidance asks trusts to cut temporary
    staffing 30%: a shared bank moves cover from agency to bank rates. Cover rises by ``extra_cover``
    (capped at 1) and the premium is multiplied by 1 - ``premium_reduction``, both weighted by the
    window w. Closed form: agency_bank cost = Σ cover·vacancies·£ per FTE·(1 + premium)/12 and
    unmet FTE = max(gap - cover·vacancies, 0) with the changed cover and premium.
    """

    lever: Literal["shared_bank"]
    profession: str | None = Field(None, description="profession the bank covers; default: all professions")
    extra_cover: Number(0, 1, "share of vacant FTE") = Field(
        0.0, description="added share of vacant FTE covered by bank staff, 0 to 1 (0.1 = 10 points; cover capped at 1)")
    premium_reduction: Number(0, 1, "share of the premium") = Field(
        0.0, description="cut in the bank and agency premium over substantive pay, 0 to 1 (0.3 = premium 30% lower)")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(
        0.0, description="£ per year to run the shared bank, spread monthly while in force")

    area = 5

    def apply(self, plan, scenario) -> None:
        w = self.window(plan)
        for p in _professions(plan, self.profession):
            plan.bank_cover[:, p, :] = np.minimum(plan.bank_cover[:, p, :] + self.extra_cover * w, 1.0)
            plan.bank_premium[:, p, :] *= np.maximum(1.0 - self.premium_reduction * w, 0.0)

    def cost(self, plan, raw) -> np.ndarray:
        """A running cost: ``cost_per_year`` ÷ 12 a month while in force, times the delivered share."""
        return running_cost(self, plan, raw, self.cost_per_year)


@register
class Productivity(Lever):
    """Digital and new ways of working: less FTE per unit of activity (required FTE ÷ (1 + gain)).

    ICS-PF 2021, area 5 ("maximising the use of technology", "aligned e-rostering solutions") and HEE-ICS 2021,
    area 5 ("digital workforce and education transformation"). The LTWP assumes labour productivity of
    1.5-2% a year; a one-off ``gain`` of a few per cent (e-rostering, digital tools) is that order.
    Required FTE of the profession (or all professions) in scope is divided by 1 + gain·w, w the
    delivered window (so a ramp phases it in); funded posts follow. A negative gain (a new way of
    working that needs more staff) is allowed down to -0.5.
    """

    lever: Literal["productivity"]
    profession: str | None = Field(None, description="profession whose required FTE falls; default: all professions")
    gain: Number(-0.5, 10, "share more activity per FTE") = Field(
        description="share more activity per FTE, -0.5 to 10 (0.05 = 5%: required FTE ÷ 1.05)")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(
        0.0, description="£ per year of the programme (licences, devices, support), spread monthly while in force")

    area = 5

    def apply(self, plan, scenario) -> None:
        w = self.window(plan)
        for p in _professions(plan, self.profession):
            plan.demand_fte[:, p, :] /= 1.0 + np.maximum(self.gain * w, -0.5)

    def cost(self, plan, raw) -> np.ndarray:
        """A running cost: ``cost_per_year`` ÷ 12 a month while in force, times the delivered share."""
        return running_cost(self, plan, raw, self.cost_per_year)
