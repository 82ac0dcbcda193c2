"""Areas 2 and 8 (growing the workforce; people services): experienced hires and time to hire."""
from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from ..limits import PEOPLE, POUNDS
from ..model.compile import series
from ..model.flows import RECRUIT_SOURCES, RECRUITED, SOURCES
from ..scenario.types import Number, Series, Whole
from .base import Lever
from .registry import register


class _ExtraHires(Lever):
    """Shared by campaigns that add experienced hires of one source (``source`` in RECRUIT_SOURCES)."""

    source: ClassVar[str] = ""

    profession: str = Field(description="profession whose hires rise")
    hires_per_year: Series(0, PEOPLE, "extra hires starting per year, all places in scope together") = Field(
        description="extra hires starting per year, shared across the places in scope by population (and over a "
        "place's providers by the profession's provider shares)")

    area = 2

    def _cap(self, plan) -> float | None:
        return None

    def _unit_cost(self) -> float:
        return 0.0

    def apply(self, plan, scenario) -> None:
        p, k = plan.professions.index(self.profession), RECRUIT_SOURCES.index(self.source)
        mask = self.place_mask(plan)
        pop = plan.residents(p) * mask              # residents at the start in scope, over the profession's providers
        share = pop / pop.sum() if pop.sum() > 0 else mask / max(mask.sum(), 1)
        wanted = series(self.hires_per_year, plan.start, plan.months) / 12.0 * self.intensity(plan)   # [M]
        base = plan.recruit_rate[:, p, :, k]                               # [M, L] starts per month
        cap = self._cap(plan)
        if cap is not None:                                           # total in scope ≤ cap
            room = np.maximum(cap / 12.0 - (base * mask).sum(axis=1), 0.0)
            wanted = np.minimum(wanted, room)
        added = wanted[:, None] * share[None, :]
        plan.recruit_rate[:, p, :, k] = base + added
        rate = plan.recruit_rate[:, p, :, k]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.remember(plan, np.where(rate > 0, added / np.where(rate > 0, rate, 1.0), 0.0))

    def cost(self, plan, raw) -> np.ndarray:
        """Joiners of this source due to the lever (its share of the month's expected starts) × £ per hire."""
        p = plan.professions.index(self.profession)
        joiners = raw["joiners"][..., p, :, SOURCES.index(self.source)]          # [..., M, L]
        return (joiners * self.recall(plan)[:plan.months]).sum(axis=-1) * self._unit_cost()


@register
class InternationalRecruitment(_ExtraHires):
    """A campaign of ``hires_per_year`` extra international hires of a profession, within an ethical cap.

    ICS-PF 2021, people function 2 ("international recruitment" with regional and national support) and
    HEE-ICS 2021, Fig 2 ("global learning": ethical international recruitment). 93% of the 51,245 extra NHS
    nurses of 2019-23 came from abroad (international NMC joiners 25,006 in 2022/23, 20,671 in 2024/25);
    the 10 Year Health Plan aims for under 10% of hires from abroad by 2035, and the WHO code bars active
    recruitment from red-list countries, so ``ethical_cap`` bounds the places in scope's total
    international starts a year, baseline and campaign (and earlier levers) together. Hires are shared
    across the places in scope by population at the start, as compile shares the baseline. No national
    cost per hire was found, so ``cost_per_hire`` is the planner's; it is charged on the international
    joiners the campaign accounts for (its share of each month's expected starts). Closed form: with
    inflow J and hazard λ the steady state J/λ rises by ΔJ/λ; month by month H(m) = Σ_{k≤m} j_k
    (1-q)^(m-k) with j_k the monthly starts.
    """

    lever: Literal["international_recruitment"]
    source: ClassVar[str] = "international"
    cost_per_hire: Number(0, POUNDS, "£ per international hire (agency fee, visa, relocation, OSCE)") = Field(
        0.0, description="£ per international joiner due to the campaign")
    ethical_cap: Number(0, PEOPLE, "international starts per year") | None = Field(
        None, description="most international starts a year in the places in scope, baseline and campaign "
        "together (WHO code); default: no cap")

    def _cap(self, plan):
        return self.ethical_cap

    def _unit_cost(self):
        return self.cost_per_hire


@register
class ReturnToPractice(_ExtraHires):
    """Extra return-to-practice hires (registrants who had left the profession) of ``hires_per_year``.

    ICS-PF 2021, people function 2 ("growing the workforce": return to practice among the domestic
    routes). HEE supported 7,978 nurse returners 2014-22 at about £2,000 each (against ~£50,000 to
    train a new nurse), with an employer placement fee of £500-1,500: hence ``cost_per_returner``.
    Returners are shared across the places in scope by population at the start. Closed form as for
    international recruitment: steady state J/λ rises by ΔJ/λ.
    """

    lever: Literal["return_to_practice"]
    source: ClassVar[str] = "return_to_practice"
    cost_per_returner: Number(0, POUNDS, "£ per returner (course, placement fee)") = Field(
        0.0, description="£ per return-to-practice joiner due to the lever")

    def _unit_cost(self):
        return self.cost_per_returner


@register
class StreamlinedRecruitment(Lever):
    """Shorter time to hire: experienced hires of a profession start ``months_saved`` months sooner.

    ICS-PF 2021, people function 8 ("standardised recruitment", "HR at scale") and function 2
    (streamlined onboarding, digital staff passport). No national time-to-hire figure was found (the
    default scenario assumes 1-6 months), so ``months_saved`` is the planner's own. While in force,
    starts in month m are those the old process would have started in month m + months_saved (the last
    month's rate is held beyond the horizon), blended by the delivered share while it ramps; so a step
    change in recruitment at month T shows in joiners at T - months_saved. Where the lever covers every
    month and place the profession's ``time_to_hire`` (the agents engine's lag from decision to start)
    falls too; it is one number per profession, so a partial lever changes only the starts. The saving
    is ``saving_per_hire`` × experienced joiners through the faster process (a negative cost).
    """

    lever: Literal["streamlined_recruitment"]
    profession: str = Field(description="profession whose hires start sooner")
    months_saved: Whole(0, 24, "months") = Field(description="months cut from the time to hire "
                              "(at most the profession's time_to_hire_months)")
    saving_per_hire: Number(0, POUNDS, "£ saved per experienced hire (agency, advertising, HR time)") = Field(
        0.0, description="£ saved per hire through the faster process (reported as a negative cost)")

    area = 8

    def references(self, scenario):
        out = super().references(scenario)
        if self.profession in scenario.professions:
            lag = scenario.professions[self.profession].recruitment.time_to_hire_months
            if self.months_saved > lag:
                out.append(("months_saved", f"{self.months_saved} months is more than {self.profession}'s "
                            f"time_to_hire_months ({lag}); allowed: 0 to {lag}"))
        return out

    def _share(self, plan) -> np.ndarray:
        return np.clip(self.window(plan), 0.0, 1.0)              # a shift cannot be scaled past itself

    def apply(self, plan, scenario) -> None:
        if self.months_saved == 0:
            return
        p = plan.professions.index(self.profession)
        w = self._share(plan)                                             # [M, L]
        old = plan.recruit_rate[:, p, :, :].copy()                        # [M, L, 3]
        later = np.minimum(np.arange(plan.months) + self.months_saved, plan.months - 1)
        plan.recruit_rate[:, p, :, :] = old + w[:, :, None] * (old[later] - old)
        if np.all(w == 1.0):
            plan.time_to_hire[p] = max(int(plan.time_to_hire[p]) - self.months_saved, 0)

    def cost(self, plan, raw) -> np.ndarray:
        """A saving (a negative cost): experienced hires of the profession in scope through the faster process ×
        ``saving_per_hire``."""
        if self.months_saved == 0:
            return np.zeros(raw["headcount"].shape[:-2])
        p = plan.professions.index(self.profession)
        hires = raw["joiners"][..., p, :, RECRUITED[0]:RECRUITED[-1] + 1].sum(axis=-1)    # [..., M, L]
        return -(hires * self._share(plan)).sum(axis=-1) * self.saving_per_hire
