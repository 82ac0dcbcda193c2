"""Areas 6 and 7 (education, training and talent; widening participation) and area 2's supply-expansion
commitments: levers on the training pipeline (places, placements, attrition, local employment, routes).

All of them act on programme arrays of the plan: ``intake`` (places commissioned, in intake months),
``fill_rate``, ``placement_capacity`` (starters in an intake month), ``prog_dropout`` (by
cohort start month) and ``local_employment`` (by completion month). ``compile.finish`` then turns
places into whole starters, ``intake × fill_rate`` clipped to the placement capacity.
"""
from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from ..limits import FIRST_YEAR, LAST_YEAR, PEOPLE, POUNDS
from ..model.compile import programme_profession
from ..scenario.errors import shown
from ..scenario.types import Number
from ..vocabulary import APRIL, YEAR_MONTH, month_index, parse_month
from .base import Lever, by_month, running_cost
from .registry import register

ProgrammeName = Field(description="programme the lever acts on (a key of ``programmes``)")


def _intake_months(plan, scenario, name: str) -> np.ndarray:
    """Boolean [M]: the programme's intake months (its ``intake_month`` each year)."""
    return plan.calendar_months() == scenario.programmes[name].intake_month


def _programme_shares(plan, scenario, name: str, scope: np.ndarray) -> np.ndarray:
    """[L] how a programme's places split over the locations in ``scope`` (its ``places`` shares, else
    population, then the providers of its profession, as compile splits intake; by population within
    scope where it has no place there)."""
    j = plan.programmes.index(name)
    q = programme_profession(plan.prog_produces[j], plan.prog_trainee_prof[j])
    pop = plan.place_population[plan.location_place] * plan.provider_share[q]
    g = scenario.programmes[name]
    share = pop if g.places is None else \
        np.array([g.places.get(x, 0.0) for x in plan.area_names("place")], float) * plan.provider_share[q]
    share = share * scope
    if share.sum() <= 0:
        share = pop * scope
    return share / share.sum() if share.sum() > 0 else share


class _ProgrammeLever(Lever):
    programme: str = ProgrammeName

    def g(self, plan) -> int:
        return plan.programmes.index(self.programme)


@register
class TrainingPlaces(_ProgrammeLever):
    """Change the places commissioned on a programme by a share from ``from`` (e.g. +10% nursing degree places).

    HEE-ICS 2021, Fig 2 ("clinical education commissioning", "delivery of supply-expansion commitments"); ICS-PF
    2021, area 6 (education capacity planning). LTWP: nursing places +34% by 2028/29 (40,000 from 29,860).
    It changes commissioned places only: starters are places × fill rate, and compile clips them to the
    programme's placement capacity after all levers, so the lever cannot exceed placement capacity without
    ``placement_capacity``. Closed form: with no capacity limit, intake × (1 + change) starters, rounded to
    whole people, and completions × (1 + change) exactly the programme's length later.
    """

    lever: Literal["training_places"]
    change: Number(-1, 10, "share of intake, +0.10 = 10% more places")
    cost_per_extra_starter: Number(0, POUNDS, "£ per extra starter, one-off") = Field(
        0.0, description="£ one-off per extra starter (set-up, placement tariff; tuition and bursaries are the "
        "programme's cost_per_trainee_year, counted as training), charged in the start month on "
        "starters × c/(1+c) (c = change as phased in; none for cuts)")

    area = 6

    def apply(self, plan, scenario) -> None:
        plan.intake[:, self.g(plan), :] *= 1 + self.change * self.window(plan)

    def cost(self, plan, raw) -> np.ndarray:
        """Extra starters in scope in the window (the intake above what it would be without the lever) ×
        ``cost_per_extra_starter``, in their start month; fewer places save nothing here (training cost falls)."""
        cw = max(self.change, 0.0) * self.window(plan)
        extra = plan.intake[:, self.g(plan), :] * (cw / (1 + cw))
        return by_month(raw, extra.sum(axis=-1) * self.cost_per_extra_starter)


@register
class PlacementCapacity(_ProgrammeLever):
    """Raise a programme's placement capacity (most starters a year) by ``extra_per_year`` and/or a share.

    HEE-ICS 2021, Fig 2 ("education capacity planning", quality of learning environments) and ICS-PF 2021, area 6
    (placement capacity across the system). Placement capacity is the binding constraint on nursing
    expansion (LTWP: places +34% by 2028/29 needs placements to match). Starters are
    min(places × fill rate, capacity); closed form: with places above capacity C, starters C + extra.
    Capacity is one limit for the whole programme, so ``where`` must cover all its places.
    """

    lever: Literal["placement_capacity"]
    extra_per_year: Number(0, PEOPLE, "starters per year") = Field(
        0.0, description="starters per year added to the placement capacity (starters per year)")
    change: Number(0, 10, "share of capacity") = Field(
        0.0, description="share added to the placement capacity, 0.1 = 10% more (share of capacity)")
    cost_per_place_per_year: Number(0, POUNDS, "£ per extra place per year") = Field(
        0.0, description="£ per extra placement per year while in force (charged monthly, 1/12 each month)")

    area = 6
    levels = ("national", "region", "ics")

    def references(self, scenario):
        out = super().references(scenario)
        g = scenario.programmes.get(self.programme)
        if g is None:
            return out
        if g.placement_capacity is None:
            out.append(("programme", f"programme {shown(self.programme)} has no placement_capacity to raise; set "
                        f"programmes.{self.programme}.placement_capacity (starters per year) first"))
        wanted = set(self.scope())
        if wanted:
            geo = scenario.geography
            delivered = [p for p, _, _ in geo.place_table() if g.places is None or g.places.get(p, 0) > 0]
            covered = {x.place for x in geo.locations()
                       if wanted & {x.place, x.ics, x.region, geo.nation_name}}
            missing = [p for p in delivered if p not in covered]
            if missing:
                field = "where" if self.where_list() else "owner"
                out.append((field, f"placement capacity is one limit for the whole programme; {field} must "
                            f"cover all its places (missing: {', '.join(missing)})"
                            + (", or leave where out" if field == "where" else "")))
        return out

    def apply(self, plan, scenario) -> None:
        g, w = self.g(plan), self.intensity(plan)
        cap = plan.placement_capacity[:, g]
        finite = np.isfinite(cap)
        plan.placement_capacity[:, g] = np.where(finite, cap * (1 + self.change * w) + self.extra_per_year * w, cap)

    def cost(self, plan, raw) -> np.ndarray:
        """Extra capacity in force (``extra_per_year`` + ``change`` × the capacity before the lever) ×
        ``cost_per_place_per_year`` ÷ 12 a month, times the delivered share."""
        w = self.intensity(plan)
        cap = plan.placement_capacity[:, self.g(plan)]
        finite = np.flatnonzero(np.isfinite(cap))
        if len(finite) == 0:
            return by_month(raw, np.zeros(plan.months))
        # capacity before this lever, in force each month: the last intake month's (the first one's before it)
        base = (cap[finite] - self.extra_per_year * w[finite]) / (1 + self.change * w[finite])
        last = np.searchsorted(finite, np.arange(plan.months), side="right") - 1
        extra = self.extra_per_year + self.change * base[np.maximum(last, 0)]
        return by_month(raw, w * extra * self.cost_per_place_per_year / 12.0)


@register
class AttritionReduction(_ProgrammeLever):
    """Cut the attrition of cohorts that start while in force by a share (learning-environment quality).

    HEE-ICS 2021, Fig 2 ("quality assurance of learning environments"), ICS-PF 2021, area 6 (pastoral support,
    placement quality). Nursing degree attrition is 25-36% (England cohorts 2016-19); HEE's RePAIR
    programme cut "pure attrition" from 32.8% to 30.5% in a year (a reduction of 0.07). A cohort's total
    attrition a becomes a·(1 - reduction), spread evenly over its months: monthly dropout
    q = 1 - (1 - a')^(1/months), so completions are starters × (1 - a·(1 - reduction)) exactly. Dropout is
    set per cohort start month: cohorts in training at the start count as starting in the first month.
    """

    lever: Literal["attrition_reduction"]
    reduction: Number(0, 1, "share of attrition removed, 0.2 = a fifth fewer non-completions")
    cost_per_starter: Number(0, POUNDS, "£ per starter") = Field(
        0.0, description="£ per starter of the cohorts it covers (mentoring, placement support), charged in "
        "the start month")

    area = 6

    def apply(self, plan, scenario) -> None:
        g = self.g(plan)
        n = float(plan.prog_months[g])
        q = plan.prog_dropout[:, g, :]
        rw = np.minimum(self.reduction * self.window(plan), 1.0)      # adaptive scaling stops at no attrition
        a = -np.expm1(n * np.log1p(-q))                          # total attrition 1-(1-q)^n
        q_new = -np.expm1(np.log1p(-a * (1 - rw)) / n)
        plan.prog_dropout[:, g, :] = np.where(rw > 0, q_new, q)

    def cost(self, plan, raw) -> np.ndarray:
        """Every starter of the programme in scope in the window × ``cost_per_starter``, in the start month."""
        starters = (plan.intake[:, self.g(plan), :] * (self.window(plan) > 0)).sum(axis=-1)
        return by_month(raw, starters * self.cost_per_starter)


@register
class LocalEmployment(_ProgrammeLever):
    """Raise the share of a programme's completers who take a local post (``change`` points, or ``to``).

    ICS-PF 2021, area 6 ("local clinical learner pipeline", employing local graduates) and area 7 (anchor
    institutions). Nuffield Trust: for every 5 nurse training places only 3 full-time nurses join the NHS;
    1 in 9 midwifery graduates do not join the profession. Acts on completers in the window (by completion
    month), capped to [0, 1]. Closed form: newly qualified joiners = completions × new share.
    """

    lever: Literal["local_employment"]
    change: Number(-1, 1, "absolute change in the share, +0.1 = 10 points") | None = Field(
        None, description="added to the share of completers taking a local post, capped to 0-1 "
        "(absolute, +0.1 = 10 points)")
    to: Number(0, 1, "share of completers") | None = Field(
        None, description="the share of completers taking a local post while in force (share of completers)")
    cost_per_completer: Number(0, POUNDS, "£ per completer") = Field(
        0.0, description="£ per completer in scope in the window (job offer guarantee, preceptorship)")

    area = 6

    @model_validator(mode="after")
    def _one(self):
        if (self.change is None) == (self.to is None):
            raise ValueError("give exactly one of change (absolute points) or to (the new share)")
        return self

    def apply(self, plan, scenario) -> None:
        g = self.g(plan)
        le = plan.local_employment[:, g, :]
        target = np.full_like(le, self.to) if self.to is not None else np.clip(le + self.change, 0.0, 1.0)
        plan.local_employment[:, g, :] = np.clip(le + self.window(plan) * (target - le), 0.0, 1.0)

    def cost(self, plan, raw) -> np.ndarray:
        """Completers of the programme in scope in the window × ``cost_per_completer``."""
        done = np.asarray(raw["completions"])[..., self.g(plan), :] * (self.window(plan) > 0)
        return done.sum(axis=-1) * self.cost_per_completer


@register
class ApprenticeshipRoute(_ProgrammeLever):
    """Open (``set``) or grow (``add``) an in-service apprenticeship route: places per year on a programme
    whose trainees are employed staff.

    HEE-ICS 2021, Fig 2 ("widening access: apprenticeships, T-levels"), ICS-PF 2021, areas 6 and 7
    (apprenticeships for local people). LTWP: apprenticeships from 7% to 22% of clinical training by
    2031/32 (nursing 9% to 28%); nursing associate apprenticeship 2 years, degree apprenticeship 4. Places
    go in the programme's intake month, split over places in scope as its intake is; each is filled at the
    programme's fill rate (1 by default). Closed form: starters_per_year starters each intake month (as
    training_start joiners of the trainee profession), completions × (1 - attrition) the programme's
    length later. Every trainee of the programme in scope counts as an apprentice for the cost.
    """

    lever: Literal["apprenticeship_route"]
    starters_per_year: Number(0, PEOPLE, "apprentice places per year") = Field(
        description="apprenticeship places per year, in the programme's intake month (starters when the "
        "programme's fill_rate is 1) (people per year)")
    mode: Literal["add", "set"] = Field(
        "add", description="add: on top of the programme's intake; set: replace it in scope while in force")
    cost_per_apprentice_year: Number(0, POUNDS, "£ per apprentice per year") = Field(
        0.0, description="£ per apprentice in training per year (salary backfill, levy top-up), for every "
        "trainee of the programme in scope while in force, charged monthly")

    area = 6

    def references(self, scenario):
        out = super().references(scenario)
        g = scenario.programmes.get(self.programme)
        if g is not None and not g.in_service:
            routes = [k for k, x in scenario.programmes.items() if x.in_service]
            out.append(("programme", f"programme {shown(self.programme)} is not in_service: an apprenticeship route "
                        f"trains employed staff; use an in_service programme ({', '.join(routes) or 'none defined'})"
                        f" or set programmes.{self.programme}.in_service: true with a trainee_profession"))
        return out

    def apply(self, plan, scenario) -> None:
        g = self.g(plan)
        share = _programme_shares(plan, scenario, self.programme, self.place_mask(plan))
        w = self.window(plan) * _intake_months(plan, scenario, self.programme)[:, None]
        new = self.starters_per_year * share[None, :]
        if self.mode == "add":
            plan.intake[:, g, :] += w * new
        else:
            plan.intake[:, g, :] += w * (new - plan.intake[:, g, :])

    def cost(self, plan, raw) -> np.ndarray:
        """Trainees of the programme in scope in the window (all count as apprentices) × ``cost_per_apprentice_year`` ÷
        12 a month."""
        tr = np.asarray(raw["trainees"])[..., self.g(plan), :] * (self.window(plan) > 0)
        return tr.sum(axis=-1) * self.cost_per_apprentice_year / 12.0


@register
class WideningParticipation(_ProgrammeLever):
    """Fill places that would otherwise go unfilled: raise a programme's fill rate by ``change`` points.

    HEE-ICS 2021, Fig 2 ("widening access") and ICS-PF 2021, area 7 (widening participation, local and NEET
    applicants). Nursing applicants in England fell to 33,450 in 2025, the lowest since 2019, and UK
    acceptances to 26,315: places go unfilled. Acts on the intakes in the window, capped at 1; it cannot
    create places. Closed form: starters = places × min(1, fill rate + change).
    """

    lever: Literal["widening_participation"]
    change: Number(0, 1, "absolute rise in the fill rate, +0.05 = 5 points")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(
        0.0, description="£ per year while in force (outreach, access courses), charged monthly")

    area = 7

    def apply(self, plan, scenario) -> None:
        g = self.g(plan)
        f = plan.fill_rate[:, g, :]
        plan.fill_rate[:, g, :] = np.minimum(1.0, f + self.window(plan) * (np.minimum(1.0, f + self.change) - f))

    def cost(self, plan, raw) -> np.ndarray:
        """A running cost: ``cost_per_year`` ÷ 12 a month while in force, times the delivered share."""
        return running_cost(self, plan, raw, self.cost_per_year)


def _month_or_year(v):
    if isinstance(v, int) and not isinstance(v, bool) and FIRST_YEAR <= v <= LAST_YEAR:
        return v
    if isinstance(v, str) and YEAR_MONTH.fullmatch(v) and FIRST_YEAR <= parse_month(v)[0] <= LAST_YEAR:
        return v
    raise PydanticCustomError("month_or_year", "expected a month as YYYY-MM (e.g. 2029-09) or a year such as "
                              "2029 (its April), from {lo} to {hi}; got {v}",
                              {"lo": FIRST_YEAR, "hi": LAST_YEAR, "v": shown(v)})


MonthOrYear = Annotated[str | int, PlainValidator(_month_or_year), WithJsonSchema({
    "description": f"a month, YYYY-MM, or a year (its April), from {FIRST_YEAR} to {LAST_YEAR}",
    "anyOf": [{"type": "string", "pattern": f"^{YEAR_MONTH.pattern}$"},
              {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}]})]


@register
class SupplyExpansionCommitment(_ProgrammeLever):
    """A national target: a programme's intake reaches ``target`` places a year by ``by``, then holds.

    HEE-ICS 2021, Fig 2 ("delivery of supply-expansion commitments (national targets)"); ICS-PF 2021, area 2
    (growth commitments). LTWP: nursing places to 40,000 by 2028/29 and 53,858 by 2031/32; medical school
    places to 15,000 by 2031/32; GP trainees to 6,000. Closed form: the intake in intake month m is
    I0 + (target - I0)·clip((m - from)/(by - from), 0, 1), I0 the intake (places in scope) at the first
    intake month from ``from``; ``by`` as a year means April of that year. Places, not starters: the
    fill rate and placement capacity still apply.
    """

    lever: Literal["supply_expansion_commitment"]
    target: Number(0, PEOPLE, "places per year") = Field(
        description="intake the programme reaches by `by` (places per year; starters when fill_rate is 1)")
    by: MonthOrYear = Field(description="when the target is reached: YYYY-MM, or a year (its April)")
    cost_per_year: Number(0, POUNDS, "£ per year") = Field(
        0.0, description="£ per year while in force (expansion programme costs beyond the trainees' own), "
        "charged monthly")

    area = 2

    def target_month(self) -> str:
        """``by`` as YYYY-MM (a year means its April)."""
        return f"{self.by:04d}-{APRIL:02d}" if isinstance(self.by, int) else self.by

    def references(self, scenario):
        out = super().references(scenario)
        start = self.from_ or scenario.start
        if month_index(start, self.target_month()) <= 0:
            out.append(("by", f"by ({self.target_month()}) must be after from ({start})"))
        return out

    def path(self, plan, base: float) -> np.ndarray:
        """Intake per year [M] the commitment sets: a line from ``base`` at ``from`` to ``target`` at ``by``."""
        lo = month_index(plan.start, self.from_) if self.from_ else 0
        hi = month_index(plan.start, self.target_month())
        frac = np.clip((np.arange(plan.months) - lo) / (hi - lo), 0.0, 1.0)
        return base + (self.target - base) * frac

    def apply(self, plan, scenario) -> None:
        g = self.g(plan)
        scope = self.place_mask(plan)
        months = _intake_months(plan, scenario, self.programme) & self.month_mask(plan)
        if not months.any():
            return
        now = plan.intake[:, g, :] * scope                                      # [M, L]
        total = now.sum(axis=-1)
        base = total[np.flatnonzero(months)[0]]
        fallback = _programme_shares(plan, scenario, self.programme, scope)
        with np.errstate(invalid="ignore", divide="ignore"):
            split = np.where(total[:, None] > 0, now / np.where(total > 0, total, 1.0)[:, None], fallback[None, :])
        new = self.path(plan, base)[:, None] * split
        w = self.window(plan) * months[:, None]
        plan.intake[:, g, :] += w * (new - plan.intake[:, g, :])

    def cost(self, plan, raw) -> np.ndarray:
        """A running cost: ``cost_per_year`` ÷ 12 a month while in force, times the delivered share."""
        return running_cost(self, plan, raw, self.cost_per_year)
