"""Plan tensors: the scenario as plain arrays over months × profession × location × ….

A location is a provider of the geography (a place without providers is one, named after the place);
the plan keeps which place, ICS and region each lies in, so results can be summed to any level.

Both engines and the mean-field projection read only this object; levers transform its arrays.
Monthly probabilities come from annual ones exactly (``1-(1-p)**(1/12)``) and are stored as
hazards (``-log(1-p)``) so multipliers act on the hazard, as in proportional-hazards models.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.special import ndtr

from ..vocabulary import calendar_months, month_dates

MAX_AGE_MONTHS = 100 * 12  # age grid for retirement and the mean-field projection
FORCED_RETIREMENT_YEARS = 80
AGES = MAX_AGE_MONTHS + 2           # age grid (months) for age distributions and the mean field


def age_pmf(mean: float, sd: float, lo: float, hi: float) -> np.ndarray:
    """P(age in months = a) when age in years ~ Normal(mean, sd) truncated to [lo, hi), a = floor(12·age)."""
    a = np.arange(AGES)
    left = np.clip(a / 12.0, lo, hi)
    right = np.clip((a + 1) / 12.0, lo, hi)
    mass = ndtr((right - mean) / sd) - ndtr((left - mean) / sd)
    return mass / mass.sum()


def age_cdf(rows: np.ndarray) -> np.ndarray:
    """Cumulative age distributions [n, AGES] for rows of (mean, sd, min, max); the last entry is 1.

    Remembered by value: every ``simulate`` call needs them, and building them (~0.4 ms a set) cost as
    much as a tenth of a one-replicate kernel run."""
    rows = np.ascontiguousarray(rows, dtype=np.float64).reshape(-1, 4)
    return _age_cdf(rows.tobytes()).copy()


@lru_cache(maxsize=64)
def _age_cdf(key: bytes) -> np.ndarray:
    rows = np.frombuffer(key, dtype=np.float64).reshape(-1, 4)
    out = np.ones((len(rows), AGES))
    for i, r in enumerate(rows):
        out[i] = np.cumsum(age_pmf(*r))
    out[:, -1] = 1.0
    return out


@dataclass
class Plan:
    # labels
    scenario_name: str
    start: str                      # YYYY-MM
    months: int
    professions: list[str]
    locations: list[str]            # [L] the providers (a place's own name where it lists none)
    location_kind: list[str]        # [L] provider kind (sim.scenario.geography.PROVIDER_KINDS)
    location_sector: list           # [L] sector (None where the kind does not say)
    location_place: np.ndarray      # [L] int index into ``places``
    places: list[str]               # [K]
    place_ics: list[str]            # [K] the ICS of each place
    place_region: list[str]         # [K] the region of each place
    nation: str
    place_population: np.ndarray    # [K] residents of each place as the scenario gives them
    provider_share: np.ndarray      # [P, L] a profession's share of each location within its place (0: not
                                    # employed there): how place totals are shared over providers
    programmes: list[str]
    # staff flows, [month, profession, location]
    leave_hazard: np.ndarray        # monthly hazard of leaving
    rotation_hazard: np.ndarray     # monthly hazard of a staff move to another place of the ICS (rotation_rate)
    transfer_hazard: np.ndarray     # [M, P, L, P] monthly hazard of moving to another staff group or sector
    recruit_rate: np.ndarray        # [M, P, L, len(RECRUIT_SOURCES)] expected arrivals per month by source
                                    # (after time to hire)
    time_to_hire: np.ndarray        # [P] months from a hiring decision to the start date
    recruit_capacity: np.ndarray    # [M, P] most experienced hires (whole people) that may start in the month,
                                    # all places and sources together; inf: no limit. Hires over it queue
    fte_per_head: np.ndarray
    sickness: np.ndarray
    cost_per_fte: np.ndarray        # £ per FTE per year
    demand_fte: np.ndarray          # central path (no demand uncertainty)
    funded_posts: np.ndarray        # central path (set after the levers, from the demand they leave)
    demand0: np.ndarray             # [P, L] required FTE at the start before any lever (funded posts grow from it)
    funded0: np.ndarray             # [P, L] funded FTE at the start (staff FTE / (1 - vacancy rate))
    budget: np.ndarray | None       # [M] £ per year the establishment may cost, None = no limit
    hire_only_into_vacancies: bool
    bank_cover: np.ndarray          # [M, P, L] share of vacant FTE covered by bank and agency staff
    bank_premium: np.ndarray        # [M, P, L] their extra cost over substantive pay
    # demand side (boxes 0-1)
    age_bands: list[str]
    population: np.ndarray          # [M, B, L] residents
    service_lines: list[str]
    service_units: list[str]
    activity: np.ndarray            # [M, S, L] activity per month, central path
    growth_sd: float                # per-replicate sd of annual need growth
    productivity_sd: float          # per-replicate sd of annual productivity growth
    # per profession
    leave_age_mult: np.ndarray      # [P, L, 101] hazard multiplier by age in years
    retire_cdf: np.ndarray          # [P, MAX_AGE_MONTHS+1] P(retirement age-month <= a)
    staff_age: np.ndarray           # [P, 4] mean, sd, min, max (years)
    joiner_age: np.ndarray          # [P, 4]
    init_headcount: np.ndarray      # [P, L] int
    # where a staff move goes: cumulative weights [P, L, L2] over the providers of the other places of the
    # same ICS (places by population, then providers by the profession's shares)
    rotation_cdf: np.ndarray
    # programmes
    prog_produces: np.ndarray       # [G] profession index
    prog_trainee_prof: np.ndarray   # [G] profession index of in-service trainees, -1 if none
    prog_months: np.ndarray         # [G] programme length in months
    prog_dropout: np.ndarray        # [M, G, L] monthly dropout probability of cohorts starting in month m
    prog_entry_age: np.ndarray      # [G, 4]
    intake: np.ndarray              # [M, G, L] places commissioned in the month (int starters once compiled)
    fill_rate: np.ndarray           # [M, G, L] share of commissioned places filled by starters
    placement_capacity: np.ndarray  # [M, G] most starters the programme's placements take in a month (inf: no limit)
    local_employment: np.ndarray    # [M, G, L] probability a completer takes a local post
    cost_per_trainee: np.ndarray    # [M, G] £ per trainee per year
    init_cohorts: np.ndarray        # [K, 4] int rows (programme, place, start month (<0), count)
    # rotation schedules of in-service programmes (doctors in training)
    prog_rotate: np.ndarray         # [M, G] bool: the programme's trainees in post change placement in the month
    prog_rotation_cdf: np.ndarray   # [G, L, L] cumulative weights of the new location of a trainee at l: the
                                    # programme's place shares × provider shares within l's ICS (l: staying)
    # mobility between ICSs and regions (all zero, and ``mobile`` False, for a scenario without it)
    mobile: bool                    # the scenario has a ``mobility`` section (its results show the flows)
    migrate_hazard: np.ndarray      # [M, P, L] monthly hazard of a staff move to another ICS or region
    migrate_cdf: np.ndarray         # [P, L, L2] cumulative weights of where such a move goes
    graduate_cdf: np.ndarray        # [G, L, L2] cumulative probabilities of where a completer not taking a local
                                    # post looks for one; the last entry is below 1 by the share who leave
    # staff characteristics and pay bands (sim.model.cells): a member of staff is in one cell, sub = band × Gr
    # + group; a scenario without either section has one band and one group, and these are trivial
    bands: list                     # [B] band names (the professions' ladders; "all" for staff without one)
    groups: list                    # [Gr] combined group labels ("all" without characteristics)
    profession_bands: np.ndarray    # [P, B] bool: the band is on the profession's ladder
    next_band: np.ndarray           # [P, B] int: the band a promotion leads to (-1: none)
    start_sub: np.ndarray           # [P, L, SUB] shares of staff at the start by cell
    entry_group: np.ndarray         # [M, P, L or 1, S_all, Gr] joiners' group shares by source (all of ``SOURCES``;
                                    # one place axis of 1: the same in every place); see ``group_shares``
    entry_band: np.ndarray          # [P, S_all, B] joiners' band shares by source
    leave_mult_sub: np.ndarray      # [M, P, SUB] multiplier on the leaving hazard by cell
    promotion_hazard: np.ndarray    # [M, P, SUB] monthly hazard of promotion to ``next_band`` (0 at the top)
    pay_band: np.ndarray            # [M, P, B] £ per FTE per year by band (costs by band)
    population_groups: np.ndarray   # [K, Gr] groups' shares of working-age residents by place (nan: not given)
    # sector moves and retire-and-return (all zero, and the flags False, for a scenario without them)
    sectoral: bool = False          # a profession has ``sector_moves`` (its results show the flows)
    location_sector_index: np.ndarray | None = None   # [L] index into SECTORS (-1: none)
    sector_hazard: np.ndarray | None = None           # [M, P, L] monthly hazard of a move to another sector
    sector_cdf: np.ndarray | None = None              # [P, L, L2] cumulative weights of where such a move goes
    returning: bool = False         # a profession has ``retire_and_return``
    return_share: np.ndarray | None = None            # [M, P, L] share of the month's retirees who return
    return_hazard: np.ndarray | None = None           # [M, P, L] monthly leaving hazard of returners
    return_fte: np.ndarray | None = None              # [M, P, L] FTE per returner
    levers: list = field(default_factory=list)
    lever_labels: list = field(default_factory=list)
    lever_state: dict = field(default_factory=dict)   # what a lever's ``cost`` needs of its ``apply``, by position
    # owners of levers and budgets (empty when the scenario names none: its results have no spend by owner)
    owners: list = field(default_factory=list)        # owner names, top level first
    owner_levels: list = field(default_factory=list)  # each owner's level (national, region, ics, place)
    lever_owners: list = field(default_factory=list)  # the owner of each lever of ``levers``
    budget_scale: np.ndarray | None = None            # [M, owner] budget control's factor on each owner's levers
                                                      # (set by the run layer, sim.runs.budgets; None: no budgets)
    pool: np.ndarray | None = None                    # [M, P, L] int shared recruitment and deployment pool of each
                                                      # location (-1: none; the shared_pool lever sets it): hiring
                                                      # only into vacancies, a joiner who finds no vacancy at their
                                                      # location goes to the pool's location with the most
                                                      # vacant posts (None: no pools)

    # arrays whose first axis is the month (what ``head`` cuts)
    TIME_AXIS = ("leave_hazard", "rotation_hazard", "migrate_hazard", "sector_hazard", "return_share",
                 "return_hazard", "return_fte", "transfer_hazard", "recruit_rate", "recruit_capacity",
                 "fte_per_head", "sickness",
                 "cost_per_fte", "demand_fte", "funded_posts", "budget", "bank_cover", "bank_premium", "population",
                 "activity", "prog_dropout", "intake", "fill_rate", "placement_capacity", "local_employment",
                 "cost_per_trainee", "prog_rotate", "budget_scale", "pool", "entry_group", "leave_mult_sub",
                 "promotion_hazard", "pay_band")

    def head(self, months: int) -> "Plan":
        """The plan over its first ``months`` months only (engines give the same first months either way)."""
        import copy
        out = copy.copy(self)
        out.months = months
        for name in self.TIME_AXIS:
            a = getattr(self, name)
            if a is not None:
                setattr(out, name, a[:months])
        return out

    def group_shares(self, m: int) -> np.ndarray:
        """[P, L, S_all, Gr] joiners' group shares by source in month m, in every location."""
        e = self.entry_group[m]
        return np.broadcast_to(e, (e.shape[0], len(self.locations)) + e.shape[2:])

    @property
    def cells(self) -> int:
        """SUB: cells (band × group) a member of staff may be in; 1 for a scenario without characteristics
        or bands, whose engines then draw and count nothing more."""
        return len(self.bands) * len(self.groups)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.months, len(self.professions), len(self.locations)

    def area_names(self, level: str) -> list[str]:
        """[L] the name of the area at ``level`` (``sim.vocabulary.LEVELS``) each location lies in."""
        if level == "provider":
            return list(self.locations)
        if level == "nation":
            return [self.nation] * len(self.locations)
        per_place = {"place": self.places, "ics": self.place_ics, "region": self.place_region}[level]
        return [per_place[k] for k in self.location_place]

    def areas(self, level: str) -> tuple[list[str], np.ndarray]:
        """(the areas at ``level`` in order, [L] the index of each location's area among them)."""
        names = self.area_names(level)
        unique = list(dict.fromkeys(names))
        where = {n: i for i, n in enumerate(unique)}
        return unique, np.array([where[n] for n in names], np.int64)

    def residents(self, p: int) -> np.ndarray:
        """[L] residents at the start of each location's place × profession p's share of the location: the
        weights compile shares a profession's recruitment by, for levers to do the same (residents summed
        over age bands; ``place_population`` holds them as given)."""
        pop = self.population[0].sum(axis=0)
        K = len(self.places)
        place_pop = np.zeros(K)
        np.add.at(place_pop, self.location_place, pop)
        return place_pop[self.location_place] * self.provider_share[p]

    def calendar_months(self) -> np.ndarray:
        """[M] calendar month (1-12) of each month of the plan."""
        return calendar_months(self.start, self.months)

    def month_dates(self) -> np.ndarray:
        """[M] first day of each month of the plan."""
        return month_dates(self.start, self.months)

    def move_matrix(self) -> np.ndarray:
        """[P, L, L2] probability that a member of staff of profession p moving from l goes to l2."""
        cdf = self.rotation_cdf
        return np.diff(np.concatenate([np.zeros(cdf.shape[:2] + (1,)), cdf], axis=2), axis=2)

    def migrate_matrix(self) -> np.ndarray:
        """[P, L, L2] probability that a member of staff of profession p moving from l to another ICS or region
        goes to l2."""
        return _unstack(self.migrate_cdf)

    def sector_matrix(self) -> np.ndarray:
        """[P, L, L2] probability that a member of staff of profession p moving from l to another sector goes
        to l2."""
        return _unstack(self.sector_cdf)

    def graduate_matrix(self) -> np.ndarray:
        """[G, L, L2] probability that a completer of programme g at l not taking a local post looks for one
        at l2 (rows add up to 1 less the share who leave)."""
        return _unstack(self.graduate_cdf)

    def rotation_matrix(self) -> np.ndarray:
        """[G, L, L2] probability that a rotating trainee of programme g at place l is next at place l2."""
        cdf = self.prog_rotation_cdf
        return np.diff(np.concatenate([np.zeros(cdf.shape[:2] + (1,)), cdf], axis=2), axis=2)



def _unstack(cdf: np.ndarray) -> np.ndarray:
    """Probabilities from cumulative weights along the last axis."""
    return np.diff(np.concatenate([np.zeros(cdf.shape[:-1] + (1,)), cdf], axis=-1), axis=-1)
