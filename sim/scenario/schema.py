"""The scenario format: pydantic models of geography, professions, programmes and levers.

Structure is checked field by field here; references between sections (a programme producing an
unknown profession, a lever naming an unknown place, a date beyond the horizon) are checked in
``references.py`` so that every problem in a file is reported at once.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..limits import (ACTIVITY, ACTIVITY_TOTAL, FTE_PER_RESIDENT, FTE_PER_UNIT, GAP_SHARE, GOAL_PEOPLE, PEOPLE,
                      POPULATION, POUNDS, REPLICATES, SEED, WEIGHT, YEARS)
from .budgets import BudgetTable
from .characteristics import Bands, Characteristic
from .errors import shown
from .geography import ICS, Geography, Place, Provider, ProviderKind, Region, Sector  # noqa: F401 (the format, in one place)
from .types import FlowSeries, Model, Number, RateSeries, Series, Whole, YearMonth, number_words


def _headcount(v):
    def ok(x):
        return isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= PEOPLE
    if ok(v) or (isinstance(v, dict) and v and all(isinstance(k, str) and ok(x) for k, x in v.items())):
        return v
    raise PydanticCustomError("headcount", "expected a whole number of people from 0 to {hi}, or a mapping "
                              "{place: whole number from 0 to {hi}}; got {v}", {"hi": f"{PEOPLE:,}", "v": shown(v)})


Headcount = Annotated[int | dict[str, int], PlainValidator(_headcount), WithJsonSchema({
    "description": f"people: a whole number, or {{place: number}}, each from 0 to {PEOPLE:,}",
    "anyOf": [{"type": "integer", "minimum": 0, "maximum": PEOPLE},
              {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": PEOPLE},
               "minProperties": 1}]})]

def _calendar_month(v):
    if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 12:
        return v
    raise PydanticCustomError("calendar_month", "expected a calendar month, a whole number from 1 (January) to 12 "
                              "(December); got {v}", {"v": shown(v)})


CalendarMonth = Annotated[int, PlainValidator(_calendar_month), WithJsonSchema({
    "type": "integer", "minimum": 1, "maximum": 12, "description": "calendar month, 1 = January"})]

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", description="lower_snake_case identifier")]


class AgeDistribution(Model):
    """Ages of a group as a normal distribution truncated to [min, max] (years)."""

    mean: Number(0, 100, "years")
    sd: Number(0.1, 50, "years")
    min: Number(0, 100, "years") = 16
    max: Number(0, 100, "years") = 75

    @model_validator(mode="after")
    def _ordered(self):
        if not self.min < self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        if not self.min <= self.mean <= self.max:
            raise ValueError(f"mean ({self.mean:g}) must lie between min and max")
        return self


class RetirementAge(Model):
    """Age at retirement, normal; nobody works past 80."""

    mean: Number(40, 80, "years")
    sd: Number(0.1, 15, "years") = 3


class Recruitment(Model):
    """Experienced hires per year by source, arriving ``time_to_hire_months`` after the decision.

    With ``capacity_per_month`` the recruiting teams start at most that many experienced hires a month
    (all sources and places together); the rest wait, first come first served, for a later month.
    """

    international: FlowSeries = 0.0
    return_to_practice: FlowSeries = 0.0
    domestic: FlowSeries = 0.0
    time_to_hire_months: Whole(0, 24, "months from the decision to hire to the start in post") = 0
    capacity_per_month: Series(0, PEOPLE, "experienced hires started per month") | None = Field(
        None, description="most experienced hires (international, return to practice and domestic, all places "
        "together) the recruiting teams can bring into post in a month; default: no limit. Each month the hires "
        "waiting from earlier months start first, in the order they queued, then the month's new hires, until "
        "the month's capacity is used; the rest wait for the next month (unused capacity is not carried over). "
        "A fraction spreads over months (2.5 = 2 and 3 alternately). Where hiring is only into vacancies, a "
        "hire whose turn comes when no post is vacant at their place is lost (the offer lapses), as without a "
        "limit, and uses no capacity")


class SimpleDemand(Model):
    """Required FTE per 1,000 population, growing per head each year (the shorthand demand form).

    Without ``fte_per_1000_population`` the funded establishment at the start is the demand
    (staff FTE / (1 - vacancy_rate)): the "establishment" definition of demand.
    """

    fte_per_1000_population: Number(0, FTE_PER_RESIDENT, "FTE per 1,000 population") | None = None
    growth: Series(-0.5, 1, "annual growth in need per head") = 0.0


class BankAgency(Model):
    """Temporary staff covering vacancies: the share of vacant FTE they cover, at a premium on pay."""

    cover: Number(0, 1, "share of vacant FTE covered by bank and agency staff") = 0.0
    premium: Number(0, 5, "extra cost over substantive cost per FTE, 0.55 = +55%") = 0.0


class SectorMove(Model):
    """Staff of a profession at a provider of one sector moving to providers of other sectors (a move at the
    origin, ``sector_out``, and a joiner at the destination, ``sector_in``)."""

    rate: RateSeries = Field(description="annual probability that a member of staff at a provider of this sector "
                             "moves to a provider of another sector")
    to: dict[Sector, Number(0, 1, "share of the moves")] = Field(
        min_length=1, description="where the moves go, {sector: share} adding up to 1: a provider of that sector "
        "employing the profession in the same place (by its share of the profession's staff there), else in "
        "another place of the ICS (by residents × share)")

    @field_validator("to")
    @classmethod
    def _shares(cls, v):
        if abs(sum(v.values()) - 1) > 1e-6:
            raise ValueError(f"shares must add up to 1; they add up to {sum(v.values()):.6g}")
        return v


class RetireAndReturn(Model):
    """Retirees rejoining their staff group at the same provider, part time, at once (the NHS Pension
    Scheme's retire-and-return): a joiner of source ``retire_return`` as well as a retirement."""

    share: Number(0, 1, "share of retirees who return") = Field(
        description="share of the profession's retirees who rejoin it at once, at the same provider")
    fte_per_head: Number(0.01, 1.5, "FTE per returner") = Field(
        description="contracted FTE of a returner (returners cut their hours)")
    leave: RateSeries = Field(description="annual probability that a returner leaves for good (their own "
                              "hazard: no age multiplier; returners do not move or retire again)")


class Profession(Model):
    """A staff group (the profession lens)."""

    label: str | None = None
    headcount: Headcount = Field(
        description="staff in post at the start, excluding in-service trainees: a total split across places "
        "by population, or a mapping {place: headcount}")
    fte_per_head: Number(0.01, 1.5, "FTE per person") = 1.0
    age: AgeDistribution
    joiner_age: AgeDistribution | None = Field(
        None, description="ages of experienced hires; default: the age distribution of staff in post")
    leave_rate: RateSeries = Field(description="annual probability of leaving for reasons other than retirement")
    leave_rate_by_age: dict[Annotated[int, Field(ge=0, le=100)], Number(0, 10, "hazard multiplier")] | None = Field(
        None, description="multiplier on the leaving hazard from each age upwards, e.g. {21: 1.4, 30: 1.0, 55: 1.2}")
    retirement_age: RetirementAge
    rotation_rate: RateSeries = Field(0.0, description="annual probability of moving to another place in the ICS")
    transfers: dict[Name, RateSeries] = Field(
        {}, description="annual probability of moving to another staff group or sector in the same place, "
        "by destination profession (e.g. NHS nurse to social-care nurse)")
    sickness_absence: RateSeries = Field(0.0, description="share of FTE lost to sickness absence")
    cost_per_fte: Series(0, POUNDS, "£ per FTE per year, with on-costs") = 0.0
    vacancy_rate: Number(0, 0.95, "share of funded posts unfilled at the start") = 0.0
    recruitment: Recruitment = Recruitment()
    demand: SimpleDemand = SimpleDemand()
    bank_agency: BankAgency = BankAgency()
    employers: dict[ProviderKind, Number(0, 1, "share of the profession's staff")] | None = Field(
        None, description="which kinds of provider employ the profession, {kind: share} adding up to 1: a place's "
        "staff are split over its providers by kind share (renormalised over the kinds present there) × provider "
        "weight; default: every provider of a place, by weight")
    sector_moves: dict[Sector, SectorMove] | None = Field(
        None, description="moves to providers of another sector, by the sector moved from: {sector: {rate, to: "
        "{sector: share}}} (e.g. NHS trust nurses moving to independent-sector or social-care nursing); "
        "default: none")
    retire_and_return: RetireAndReturn | None = Field(
        None, description="a share of retirees rejoin part time with their own leaving hazard; default: none")

    @field_validator("sector_moves")
    @classmethod
    def _other_sectors(cls, v):
        for frm, move in (v or {}).items():
            if frm in move.to:
                raise ValueError(f"{frm}.to.{frm}: a sector move goes to another sector; drop {frm} from its to")
        return v
    bands: Bands | None = Field(
        None, description="the profession's career ladder (pay bands or grades, lowest first) with promotion "
        "hazards, entry bands by source and pay by band; default: none (one band)")

    @field_validator("employers")
    @classmethod
    def _shares(cls, v):
        if v is not None and abs(sum(v.values()) - 1) > 1e-6:
            raise ValueError(f"shares must add up to 1; they add up to {sum(v.values()):.6g}")
        return v


class Rotation(Model):
    """The rotation schedule of an in-service training programme (doctors in training).

    On each of ``months`` (calendar months) every trainee of the programme in post (who started before
    that month and has not dropped out or completed in it) changes placement: their new place is drawn
    from the rotation's place shares (``places``; default the programme's ``places``, else population
    shares) restricted to the places of their own ICS and renormalised; drawing their current place
    means staying. Right after a rotation the trainees of each ICS are therefore split across its places
    by those shares (in expectation), whatever the split before; nobody leaves their ICS. Only real moves
    are counted: ``leavers`` reason ``rotation_out`` at the old place, ``joiners`` source ``rotation_in``
    at the new one. A trainee keeps the dropout rate of the place they started at.
    """

    months: list[CalendarMonth] = Field(
        min_length=1, max_length=12,
        description="calendar months (1-12, each at most once) on which every trainee in post changes placement, "
        "e.g. [8, 12, 4] for foundation doctors' four-month rotations")
    places: dict[str, Number(0, WEIGHT, "share")] | None = Field(
        None, description="share of placements by place, {place: share} (places left out get none; shares are "
        "renormalised within each ICS); default: the programme's places, else population shares")

    @field_validator("months")
    @classmethod
    def _unique(cls, v):
        repeated = sorted({x for x in v if v.count(x) > 1})
        if repeated:
            raise ValueError(f"each calendar month at most once; repeated: {', '.join(map(str, repeated))}")
        return v


class Programme(Model):
    """An education or training pipeline into a profession."""

    produces: Name
    years: Number(1 / 12, 12, "years")
    intake: FlowSeries = Field(description="places commissioned per year, all places together (starters when "
                               "fill_rate is 1)")
    fill_rate: Series(0, 1, "share of places filled") = Field(
        1.0, description="share of commissioned places filled by starters (the rest go unfilled for want of "
        "applicants)")
    placement_capacity: Series(0, PEOPLE, "starters per year") | None = Field(
        None, description="most starters per year clinical placements can take; default: no limit")
    intake_month: Whole(1, 12, "calendar month of the intake, 9 = September") = 9
    attrition: Number(0, 1, "share of starters who do not complete") = 0.0
    local_employment: RateSeries = Field(1.0, description="share of completers who take a post in this ICS")
    in_service: bool = Field(False, description="trainees are employed staff while they train")
    trainee_profession: Name | None = Field(
        None, description="profession whose headcount and FTE in-service trainees count in (required when in_service)")
    cost_per_trainee_year: Series(0, POUNDS, "£ per trainee per year") = 0.0
    entry_age: AgeDistribution = AgeDistribution(mean=22, sd=4, min=18, max=50)
    places: dict[str, Number(0, WEIGHT, "share")] | None = Field(
        None, description="share of intake by place; default: by population")
    pipeline_at_start: Literal["steady", "empty"] = Field(
        "steady", description="steady: cohorts already in training as if the first intake had run for years; "
        "empty: no trainees at the start")
    rotation: Rotation | None = Field(
        None, description="in-service programmes only: calendar months on which every trainee in post changes "
        "placement to a place of their own ICS drawn by the programme's place shares; default: trainees stay "
        "where they started")

    @model_validator(mode="after")
    def _in_service(self):
        if self.in_service and self.trainee_profession is None:
            raise ValueError("in_service programmes need trainee_profession (the staff group trainees count in)")
        if not self.in_service and self.trainee_profession is not None:
            raise ValueError("trainee_profession is only allowed when in_service is true")
        if abs(self.years * 12 - round(self.years * 12)) > 1e-9:
            raise ValueError(f"years must be a whole number of months; got {self.years:g}")
        return self


class Population(Model):
    """Residents by age band: shares of each place's population, projected by growth per band."""

    age_bands: dict[str, Number(0, 1, "share of residents")] = Field(
        min_length=1, description="age band → share of each place's population at the start, e.g. {'0-17': 0.21}")
    by_place: dict[str, dict[str, Number(0, 1, "share of residents")]] = Field(
        {}, description="place → {age band: share}, overriding age_bands for that place")
    growth: dict[str, Series(-0.2, 0.5, "annual population growth")] = Field(
        {}, description="age band → annual growth (constant or year table); default 0")

    @model_validator(mode="after")
    def _shares(self):
        for label, shares in [("age_bands", self.age_bands)] + [(f"by_place.{k}", v) for k, v in self.by_place.items()]:
            if abs(sum(shares.values()) - 1) > 1e-6:
                raise ValueError(f"{label}: shares must add up to 1; they add up to {sum(shares.values()):.6g}")
            if set(shares) != set(self.age_bands):
                raise ValueError(f"{label}: needs exactly the age bands {', '.join(self.age_bands)}")
        unknown = set(self.growth) - set(self.age_bands)
        if unknown:
            raise ValueError(f"growth: unknown age bands {', '.join(sorted(unknown))}; allowed: "
                             f"{', '.join(self.age_bands)}")
        return self


class ServiceLine(Model):
    """A service line of the service plan: activity per head by age band, and the staff it needs."""

    unit: str = Field("contacts", description="what one unit of activity is (label only)")
    use_per_1000: dict[str, Number(0, ACTIVITY, "activity units per 1,000 residents per year")] = Field(
        description="need (or current use) per 1,000 residents of each age band per year")
    activity_at_start: Number(0, ACTIVITY_TOTAL, "activity units per year, all places") | None = Field(
        None, description="utilisation definition only: current activity, grown by demography")
    plan: Series(0, 10, "multiplier on activity (the service plan)") = Field(
        1.0, description="service-plan multiplier over time: activity growth, shifts between settings, recovery")
    staffing: dict[str, Number(0, FTE_PER_UNIT, "FTE per 1,000 activity units per year")] = Field(
        min_length=1, description="skill mix: FTE of each profession per 1,000 activity units per year")


class DemandUncertainty(Model):
    """Per-replicate draws, so the fan chart carries demand uncertainty as well as supply."""

    growth_sd: Number(0, 0.2, "sd of the annual growth in need, drawn once per replicate") = 0.0
    productivity_sd: Number(0, 0.2, "sd of the annual productivity trend, drawn once per replicate") = 0.0


class Demand(Model):
    """Boxes 0-1: population need → activity → required FTE by profession. States its definition."""

    definition: Literal["need", "utilisation", "establishment"] = Field(
        description="need: residents × need rates; utilisation: current activity grown by demography; "
        "establishment: required FTE = funded posts")
    service_lines: dict[Name, ServiceLine] = {}
    productivity: dict[str, Series(-0.2, 0.2, "annual productivity growth (less FTE per unit)")] = Field(
        {}, description="profession → annual productivity trend; default 0")
    uncertainty: DemandUncertainty = DemandUncertainty()


class Finance(Model):
    """Box 2 finance: pay growth, the workforce budget and the establishment control."""

    pay_growth: Series(-0.2, 0.5, "annual pay award, from April") = 0.0
    budget_growth: Series(-0.5, 0.5, "annual growth of the workforce budget, from April") | None = Field(
        None, description="limits funded posts (£ of establishment) to the start budget grown at this rate; "
        "default: no limit")
    hire_only_into_vacancies: bool = Field(
        True, description="experienced and newly qualified staff are hired only into vacant funded posts; "
        "graduates without a post are lost (counted as unplaced)")


GOAL_RANGES = {"gap_share": GAP_SHARE, "vacancy_rate": (0, 1), "annual_cost": (0, POUNDS),
               "headcount": (0, GOAL_PEOPLE), "effective_fte": (0, GOAL_PEOPLE), "model_employer_ratio": (0, 100)}
GOAL_RANGES_TEXT = "by metric: " + ", ".join(f"{k} from {number_words(lo)} to {number_words(hi)}"
                                             for k, (lo, hi) in GOAL_RANGES.items())


class Goal(Model):
    """A system goal; the summary reports the probability across replicates of meeting it."""

    name: str = Field(min_length=1)
    metric: Literal["gap_share", "vacancy_rate", "annual_cost", "headcount", "effective_fte",
                    "model_employer_ratio"] = Field(
        description="gap_share: gap_fte / demand_fte; vacancy_rate: vacancies / funded posts; "
        "annual_cost: £ in the 12 months to `by`; headcount / effective_fte: staff in post; "
        "model_employer_ratio: a group's share of a band's staff ÷ its share of all the staff (1: the band "
        "reflects the workforce; with no band given, the lowest over the bands, so `min: 0.9` asks every band "
        "to be within 10% of the workforce's composition); needs `group`")
    by: YearMonth = Field(description="the month the goal is judged at (YYYY-MM)")
    profession: str | None = Field(None, description="default: all professions together")
    where: str | None = Field(None, description="a provider, place, ICS, region or the nation; default: the whole "
                              "scenario")
    group: str | None = Field(None, description="model_employer_ratio: the group of a characteristic (e.g. black)")
    band: str | None = Field(None, description="model_employer_ratio: one band; default: every band (the lowest "
                             "ratio)")
    max: Number(GAP_SHARE[0], POUNDS, "the metric's unit") | None = Field(
        None, description="the goal is met where the metric is at most this; " + GOAL_RANGES_TEXT)
    min: Number(GAP_SHARE[0], POUNDS, "the metric's unit") | None = Field(
        None, description="the goal is met where the metric is at least this; " + GOAL_RANGES_TEXT)

    @model_validator(mode="after")
    def _bound(self):
        if (self.max is None) == (self.min is None):
            raise ValueError("give exactly one of max or min")
        if (self.metric == "model_employer_ratio") != (self.group is not None):
            raise ValueError("group\tgive a group for model_employer_ratio, and only for it")
        if self.band is not None and self.metric != "model_employer_ratio":
            raise ValueError("band\tband is only for model_employer_ratio")
        lo, hi = GOAL_RANGES[self.metric]
        which, value = ("max", self.max) if self.max is not None else ("min", self.min)
        if not lo <= value <= hi:
            raise ValueError(f"{which}\t{self.metric} targets are numbers from {number_words(lo)} to "
                             f"{number_words(hi)}; got {value:g}")
        return self


class StaffMobility(Model):
    """Annual probabilities that a member of staff moves to a place of another ICS of their region, or of
    another region (each a move at the origin, ``moved_out``, and a joiner at the destination, ``moved_in``)."""

    other_ics: Number(0, 1, "annual probability of moving to another ICS of the same region") = 0.0
    other_region: Number(0, 1, "annual probability of moving to another region") = 0.0


class StaffMoves(Model):
    """Experienced staff moving between ICSs and regions: competing with moves within the ICS and transfers
    (one summed hazard of a move, split by their shares)."""

    default: StaffMobility = StaffMobility()
    by_profession: dict[Name, StaffMobility] = Field(
        {}, description="a profession's own probabilities, {profession: {other_ics, other_region}} (a key left out "
        "takes the default's)")
    destination: Literal["population", "staff"] = Field(
        "population", description="how a destination place is chosen among the eligible ones: by residents, or by "
        "the profession's staff at the start; then a provider within it by the profession's provider shares")


class GraduateMoves(Model):
    """Where completers who do not take a local post go: shares adding up to 1."""

    same_region: Number(0, 1, "share looking for a post in another ICS of their region") = 0.0
    other_region: Number(0, 1, "share looking for a post in another region") = 0.0
    leave: Number(0, 1, "share leaving the model (abroad, out of the workforce)") = 1.0

    @model_validator(mode="after")
    def _shares(self):
        total = self.same_region + self.other_region + self.leave
        if abs(total - 1) > 1e-6:
            raise ValueError(f"same_region, other_region and leave are shares adding up to 1; they add up to "
                             f"{total:.6g}")
        return self


class Mobility(Model):
    """Flows between ICSs and regions (a scenario without this section has none)."""

    staff: StaffMoves = StaffMoves()
    graduates: GraduateMoves = GraduateMoves()


class ScenarioBase(Model):
    """Everything in a scenario except the lever list, whose item type comes from the registry."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="used in output file names")
    description: str = ""
    start: YearMonth
    years: Whole(1, YEARS, "years simulated")
    seed: Whole(0, SEED, "the random seed; replicate r of a run draws from streams keyed by (seed, r)") = 0
    replicates: Whole(1, REPLICATES, "Monte Carlo replicates") = 100
    geography: Geography
    professions: dict[Name, Profession] = Field(min_length=1)
    programmes: dict[Name, Programme] = {}
    population: Population | None = None
    demand: Demand | None = Field(
        None, description="need-based demand with service lines; default: each profession's own demand block")
    finance: Finance = Finance()
    goals: list[Goal] = []
    mobility: Mobility | None = Field(
        None, description="staff and newly qualified moving between ICSs and regions; default: none")
    characteristics: dict[Name, Characteristic] | None = Field(
        None, description="staff characteristics (ethnicity, sex, disability…), each a set of groups with shares "
        "among staff and joiners, working-age residents, and multipliers on leaving and promotion; groups of "
        "several characteristics combine as their product. Default: none (one group)")
    budgets: BudgetTable | None = Field(
        None, description="£ per plan year for each owner of levers, and how budgets pass down the levels "
        "(allocate); each owner's levers are scaled down pro rata in a plan year they would overspend. "
        "Default: no budgets")
