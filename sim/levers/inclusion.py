"""Area 3 (inclusion and belonging) and area 7 (social and economic development): levers that change who
joins and who is promoted, by the groups of the scenario's ``characteristics``.

Groups are named by a characteristic's own group (``black``); where a scenario combines several
characteristics (``black/female``) a lever naming ``black`` acts on every combined group containing it.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..limits import POUNDS
from ..model.flows import RECRUIT_SOURCES, SOURCE
from ..scenario.errors import shown
from ..scenario.types import Number
from .base import Lever, by_month, running_cost
from .registry import register

GROUP_SOURCES = ("training_start", "international", "return_to_practice", "domestic")


def _declared_groups(scenario) -> list[str]:
    return [g for c in (scenario.characteristics or {}).values() for g in c.groups]


def group_problems(lever, scenario, field: str = "groups") -> list[tuple[str, str]]:
    """(field, problem) for a lever naming groups the scenario's characteristics lack (or having none)."""
    allowed = _declared_groups(scenario)
    if not allowed:
        return [(field, f"{lever.lever} acts on groups of staff: the scenario declares no characteristics")]
    return [(field, f"unknown group {shown(g)}; allowed: {', '.join(allowed)}") for g in lever.groups if g not in allowed]


def in_groups(plan, names: list[str]) -> np.ndarray:
    """[Gr] bool: the plan's combined groups that contain any of ``names``."""
    return np.array([bool(set(label.split("/")) & set(names)) for label in plan.groups])


def _writable(plan, name: str) -> np.ndarray:
    a = getattr(plan, name)
    if not a.flags.writeable:
        a = np.array(a)
        setattr(plan, name, a)
    return a


def entry_by_location(plan) -> np.ndarray:
    """The plan's joiners' group shares as a writable [M, P, L, S_all, Gr] (compiled, they may be one row for
    every location: a lever acting on some places gives each its own)."""
    e = plan.entry_group
    L = len(plan.locations)
    if e.shape[2] != L or not e.flags.writeable:
        e = np.array(np.broadcast_to(e, e.shape[:2] + (L,) + e.shape[3:]))
        plan.entry_group = e
    return e


def _professions(plan, profession: str | None) -> list[int]:
    return list(range(len(plan.professions))) if profession is None else [plan.professions.index(profession)]


@register
class InclusiveRecruitment(Lever):
    """Inclusive recruitment: raise the odds that an applicant of the named groups is appointed.

    NHS Workforce Race Equality Standard, indicator 2: White applicants were 1.54 (2022) and 1.59 (2023)
    times as likely as Black and minority ethnic applicants to be appointed from shortlisting, a ratio
    "broadly unchanged since 2016" (NHS England, WRES data analysis reports for NHS trusts). Inclusive
    recruitment (diverse panels, de-biased shortlisting, values-based interviews; "A Model Employer", NHS
    England 2019) moves that ratio towards 1. Here joiners' group shares (by source, place and month) have
    the named groups' shares multiplied by ``odds`` and renormalised: with w the delivered share, group g's
    share becomes s_g k_g / Σ_h s_h k_h, k_g = 1 + (odds − 1) w for a named group, else 1. An odds of
    1.59 in place of a WRES ratio of 1.59 brings appointment odds to parity. Trainees take their group
    when they start (source ``training_start``), so the lever reaches newly qualified staff through
    training. Costs: ``cost_per_year`` while in force (training of panels, inclusive-recruitment leads).
    """

    lever: Literal["inclusive_recruitment"]
    groups: list[str] = Field(min_length=1, description="groups whose odds of appointment rise (a characteristic's "
                              "groups, e.g. [asian, black, mixed, other])")
    odds: Number(0, 10, "multiplier on the odds of appointment") = Field(
        description="multiplier on the named groups' odds of appointment, 0 to 10 (1.5: half as likely again; 1: none)")
    profession: str | None = Field(None, description="profession recruited; default: all professions")
    sources: list[Literal[GROUP_SOURCES]] | None = Field(  # type: ignore[valid-type]
        None, description="joiner sources it acts on: training_start, international, return_to_practice, "
        "domestic; default: all of them")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(0.0, description="£ per year while in force")

    area = 3

    def references(self, scenario):
        return super().references(scenario) + group_problems(self, scenario)

    def apply(self, plan, scenario) -> None:
        entry = entry_by_location(plan)                                 # [M, P, L, S, Gr]
        k = 1.0 + (self.odds - 1.0) * self.window(plan)                 # [M, L]
        named = in_groups(plan, self.groups)
        factor = np.where(named[None, None, :], k[:, :, None], 1.0)    # [M, L, Gr]
        srcs = [SOURCE[s] for s in (self.sources or GROUP_SOURCES)]
        for p in _professions(plan, self.profession):
            for s in srcs:
                shares = entry[:, p, :, s, :] * factor
                total = shares.sum(axis=-1, keepdims=True)
                entry[:, p, :, s, :] = np.divide(shares, total, out=entry[:, p, :, s, :].copy(), where=total > 0)

    def cost(self, plan, raw) -> np.ndarray:
        """``cost_per_year`` ÷ 12 a month, times the delivered share."""
        return running_cost(self, plan, raw, self.cost_per_year)


@register
class InclusivePromotion(Lever):
    """Inclusive promotion: multiply the named groups' hazard of promotion to the next band.

    Of nurses starting at the bottom of Band 5 in 2012, 67% of White, 60% of Black and 52% of Asian nurses
    were at Band 6 or above nine years later (Institute for Fiscal Studies, "Progression of nurses within
    the NHS", 2024); WRES indicator 7 (equal opportunities for career progression) and the "Model
    Employer" goal of senior representation reflecting the workforce (NHS England, 2019). Talent
    management, reverse mentoring and transparent promotion panels aim to close such gaps. Here the named
    groups' monthly promotion hazard is multiplied by 1 + (``promotion_factor`` − 1) w (w the delivered share),
    in every band of the profession's ladder: a factor equal to 1 ÷ a group's own promotion
    multiplier brings it to parity. Closed form: a chain of bands with constant hazards (the band
    distribution solves the linear recurrence with the new hazard). Costs: ``cost_per_year`` while in force.
    """

    lever: Literal["inclusive_promotion"]
    groups: list[str] = Field(min_length=1, description="groups whose promotion hazard changes")
    promotion_factor: Number(0, 10, "multiplier on the promotion hazard") = Field(
        description="multiplier on the named groups' hazard of promotion, 0 to 10 (1.25: a quarter higher)")
    profession: str | None = Field(None, description="profession; default: all professions with a ladder")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(0.0, description="£ per year while in force")

    area = 3

    def references(self, scenario):
        return super().references(scenario) + group_problems(self, scenario)

    def apply(self, plan, scenario) -> None:
        hazard = _writable(plan, "promotion_hazard")                    # [M, P, SUB], sub = band × Gr + group
        named = np.tile(in_groups(plan, self.groups), len(plan.bands))  # [SUB]
        # the lever acts where it is in force: its window's largest share over the locations in scope
        # (the promotion hazard is one per profession and cell, not per location)
        w = self.window(plan).max(axis=1)                               # [M]
        k = 1.0 + (self.promotion_factor - 1.0) * w
        for p in _professions(plan, self.profession):
            hazard[:, p, :] *= np.where(named[None, :], k[:, None], 1.0)

    def cost(self, plan, raw) -> np.ndarray:
        """``cost_per_year`` ÷ 12 a month, times the delivered share."""
        return running_cost(self, plan, raw, self.cost_per_year)


@register
class LocalRecruitment(Lever):
    """Recruiting from the local population: anchor institutions, widening access for young people not in
    education, employment or training, volunteer-to-career routes (area 7).

    ICS People Function guidance (NHS England and NHS Improvement, 2021), area 7: "widening participation",
    "anchor institutions", employment of local people including those furthest from the labour market;
    NHS Long Term Plan (2019) on NHS organisations as anchor institutions. Here ``extra_hires_per_year``
    more experienced hires of the profession arrive from the local labour market (source ``domestic``),
    shared over the places in scope by their residents, phased in by the delivered share w. Their groups
    follow the working-age residents of their place (the scenario's ``population`` shares of each
    characteristic), so joiners' group shares by place become (r s + x π) / (r + x) for r the old domestic
    hires and s their shares, x the extra and π the place's residents' shares. Where hiring is only into
    vacancies the extra hires compete for posts like any other. Costs: ``cost_per_hire`` for each domestic
    hire the programme brings (domestic joiners × x / (r + x)) plus ``cost_per_year`` while in force.
    """

    lever: Literal["local_recruitment"]
    profession: str = Field(description="profession recruited locally")
    extra_hires_per_year: Number(0, 1e6, "hires per year") = Field(
        description="more experienced hires a year from the local population, 0 to 1,000,000 (all places in scope)")
    cost_per_hire: Number(0, POUNDS, "£ per hire") = Field(
        0.0, description="£ per hire through the programme (outreach, pre-employment training, mentoring)")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(0.0, description="£ per year while in force")

    area = 7

    def references(self, scenario):
        out = super().references(scenario)
        for name, c in (scenario.characteristics or {}).items():
            if c.population is None and not c.population_by_place:
                out.append(("profession", f"local_recruitment: characteristic {shown(name)} gives no working-age "
                                          f"population shares (population), so local joiners' groups are unknown"))
        return out

    def _extra(self, plan) -> np.ndarray:
        """[M, L] extra local hires a month by location."""
        p = plan.professions.index(self.profession)
        weight = plan.residents(p) * self.place_mask(plan)
        if weight.sum() <= 0:
            return np.zeros((plan.months, len(plan.locations)))
        return self.extra_hires_per_year / 12.0 * self.window(plan) * (weight / weight.sum())[None, :]

    def apply(self, plan, scenario) -> None:
        p, d, col = plan.professions.index(self.profession), SOURCE["domestic"], RECRUIT_SOURCES.index("domestic")
        old = plan.recruit_rate[:, p, :, col].copy()                    # [M, L] expected domestic hires a month
        extra = self._extra(plan)
        plan.recruit_rate[:, p, :, col] = old + extra
        self.remember(plan, (old, extra))
        if len(plan.groups) > 1:                                        # local joiners look like local residents
            entry = entry_by_location(plan)
            local = plan.population_groups[plan.location_place]          # [L, Gr]
            local = np.where(np.isnan(local), entry[0, p, :, d, :], local)
            total = old + extra
            with np.errstate(invalid="ignore", divide="ignore"):
                mixed = (old[..., None] * entry[:, p, :, d, :] + extra[..., None] * local[None]) / total[..., None]
            entry[:, p, :, d, :] = np.where(total[..., None] > 0, mixed, entry[:, p, :, d, :])

    def cost(self, plan, raw) -> np.ndarray:
        """``cost_per_hire`` × the domestic hires the programme brings (domestic joiners × x ÷ (r + x) at each
        location and month), plus ``cost_per_year`` ÷ 12 a month times the delivered share."""
        old, extra = self.recall(plan)
        p = plan.professions.index(self.profession)
        months = raw["headcount"].shape[-3]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(old + extra > 0, extra / (old + extra), 0.0)[:months]       # [M, L]
        hires = raw["joiners"][..., p, :, SOURCE["domestic"]]                          # [..., M, L]
        return (hires * share).sum(axis=-1) * self.cost_per_hire + by_month(raw, self.intensity(plan) *
                                                                          self.cost_per_year / 12.0)
