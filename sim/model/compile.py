"""Compile a validated scenario into plan tensors; levers then transform those arrays.

Everything here is deterministic: the random parts (ages, who leaves when) belong to the engines.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ..demand import establishment, need
from ..demand.establishment import april_factor
from .cells import cell_arrays
from .flows import RECRUIT_SOURCES
from .locations import locations, move_destinations, place_sum, provider_shares, spread
from .mobility import mobility_arrays
from .sectors import sector_arrays, sector_index, within_sector
from .plan import FORCED_RETIREMENT_YEARS, MAX_AGE_MONTHS, Plan
from ..scenario.owners import lever_owner, owner_table
from ..vocabulary import APRIL, absolute_month, calendar_months, parse_month


def series(value, start: str, months: int) -> np.ndarray:
    """A constant or year table as a monthly array; a year's value holds from April of that year."""
    if not isinstance(value, dict):
        return np.full(months, float(value))
    absolute = absolute_month(start) + np.arange(months)
    years = sorted(value)
    out = np.full(months, float(value[years[0]]))
    for y in years[1:]:
        out[absolute >= y * 12 + APRIL - 1] = value[y]
    return out


def monthly_hazard(annual: np.ndarray) -> np.ndarray:
    """Hazard per month for an annual probability: -log(1-p)/12, i.e. p_month = 1-(1-p)**(1/12)."""
    return -np.log1p(-np.minimum(annual, 1 - 1e-12)) / 12.0


def split(total: float, weights: np.ndarray) -> np.ndarray:
    """Whole numbers summing to round(total), shared by weight (largest remainder)."""
    n = int(round(total))
    w = np.asarray(weights, float)
    if n <= 0 or w.sum() <= 0:
        return np.zeros(len(w), np.int64)
    exact = n * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    rest = n - out.sum()
    if rest:
        order = np.argsort(-(exact - out), kind="stable")
        out[order[:rest]] += 1
    return out


def whole_per_month(rate: np.ndarray) -> np.ndarray:
    """Whole numbers per month whose running total keeps up with a (possibly fractional) monthly rate:
    month m gets floor(R(m+1)) - floor(R(m)) with R the cumulative rate, so 2.5 a month gives 2, 3, 2, 3…"""
    total = np.floor(np.concatenate([[0.0], np.cumsum(rate)]) + 1e-9)
    return np.diff(total)


def retirement_cdf(mean: float, sd: float) -> np.ndarray:
    """P(retirement age in months <= a) for a = 0..MAX_AGE_MONTHS; everyone retired by 80."""
    a = np.arange(MAX_AGE_MONTHS + 1)
    cdf = ndtr(((a + 1) / 12.0 - mean) / sd)
    cdf[a >= FORCED_RETIREMENT_YEARS * 12 - 1] = 1.0
    return cdf


def _age_row(d) -> list[float]:
    return [d.mean, d.sd, d.min, d.max]


def compile_plan(scenario, *, apply_levers: bool = True) -> Plan:
    """The plan tensors of a scenario, with its levers applied (``apply_levers=False``: without)."""
    base = compile_base(scenario)
    return with_levers(base, scenario, scenario.levers if apply_levers else [])


def with_levers(base: Plan, scenario, levers) -> Plan:
    """A finished plan: a copy of ``base`` (from :func:`compile_base`) transformed by ``levers``."""
    import copy

    plan = copy.deepcopy(base)
    apply(plan, scenario, levers)
    return finish(plan)


def compile_base(scenario) -> Plan:
    """The plan before levers and before starters are rounded and funded posts set.

    Arrays are over locations (the geography's providers; a place without providers is one), and what
    the scenario gives by place is shared over them by ``sim.model.locations``."""
    s = scenario
    M = s.years * 12
    geo = locations(s.geography)
    places, pop, at = geo.places, geo.population, geo.place
    K, L, profs, progs = len(places), len(geo.names), list(s.professions), list(s.programmes)
    P, G = len(profs), len(progs)
    ser = lambda v: series(v, s.start, M)  # noqa: E731
    within = np.stack([provider_shares(geo, p.employers) for p in s.professions.values()])   # [P, L]
    employs = place_sum(within, at, K) > 0                                                  # [P, K]

    leave = np.zeros((M, P, L))
    move = np.zeros((M, P, L))          # staff moving place (the scenario's rotation_rate)
    transfer = np.zeros((M, P, L, P))
    recruit = np.zeros((M, P, L, len(RECRUIT_SOURCES)))
    fte = np.zeros((M, P, L))
    sick = np.zeros((M, P, L))
    cost = np.zeros((M, P, L))
    age_mult = np.ones((P, L, 101))
    retire = np.zeros((P, MAX_AGE_MONTHS + 1))
    staff_age = np.zeros((P, 4))
    joiner_age = np.zeros((P, 4))
    init_hc = np.zeros((P, L), np.int64)
    hire_lag = np.array([p.recruitment.time_to_hire_months for p in s.professions.values()], np.int64)
    recruit_capacity = np.full((M, P), np.inf)      # recruiting teams' starts a month
    growth = np.zeros((M, P))

    ics_names = list(dict.fromkeys(geo.place_ics))
    ics_of = [geo.place_ics[k] for k in at]                 # [L] the ICS of each location
    # where a moving staff member goes: a provider of another place of their ICS
    move_cdf = move_destinations(pop, within, at, np.array([ics_names.index(i) for i in geo.place_ics]))
    move_cdf = within_sector(move_cdf, sector_index(geo), s)      # (only professions with sector_moves change)
    can_move = move_cdf[:, :, -1] > 0                       # [P, L]

    for i, (name, p) in enumerate(s.professions.items()):
        weight = pop * employs[i]                           # residents of the places that employ it
        share = weight / weight.sum()
        leave[:, i, :] = monthly_hazard(ser(p.leave_rate))[:, None]
        move[:, i, :] = monthly_hazard(ser(p.rotation_rate))[:, None] * can_move[i][None, :]
        for dest, rate in p.transfers.items():
            if dest in profs:
                transfer[:, i, :, profs.index(dest)] = monthly_hazard(ser(rate))[:, None]
        for k, src in enumerate(RECRUIT_SOURCES):
            decided = ser(getattr(p.recruitment, src)) / 12.0
            lag = p.recruitment.time_to_hire_months
            arrivals = np.concatenate([np.full(lag, decided[0]), decided])[:M]
            recruit[:, i, :, k] = arrivals[:, None] * (share[at] * within[i])[None, :]
        if p.recruitment.capacity_per_month is not None:
            recruit_capacity[:, i] = whole_per_month(ser(p.recruitment.capacity_per_month))
        fte[:, i, :] = p.fte_per_head
        sick[:, i, :] = ser(p.sickness_absence)[:, None]
        cost[:, i, :] = ser(p.cost_per_fte)[:, None]
        if p.leave_rate_by_age:
            for a0, k in sorted(p.leave_rate_by_age.items()):
                age_mult[i, :, a0:] = k
        retire[i] = retirement_cdf(p.retirement_age.mean, p.retirement_age.sd)
        staff_age[i] = _age_row(p.age)
        joiner_age[i] = _age_row(p.joiner_age or p.age)
        if isinstance(p.headcount, dict):
            per_place = np.array([p.headcount[x] for x in places], np.int64)
        else:
            per_place = split(p.headcount, weight)
        init_hc[i] = spread(per_place, within[i], at, split)
        growth[:, i] = ser(p.demand.growth)

    prog_produces = np.array([profs.index(g.produces) for g in s.programmes.values()], np.int64)
    prog_trainee = np.array([profs.index(g.trainee_profession) if g.in_service else -1
                             for g in s.programmes.values()], np.int64)
    prog_months = np.array([round(g.years * 12) for g in s.programmes.values()], np.int64)
    q = np.array([1 - (1 - g.attrition) ** (1 / m) for g, m in zip(s.programmes.values(), prog_months)])
    dropout = np.broadcast_to(q[None, :, None], (M, G, L)).copy()
    entry_age = np.array([_age_row(g.entry_age) for g in s.programmes.values()]).reshape(G, 4)
    intake = np.zeros((M, G, L))
    fill = np.zeros((M, G, L))
    placement_capacity = np.full((M, G), np.inf)
    local = np.zeros((M, G, L))
    trainee_cost = np.zeros((M, G))
    cohorts = []
    rotate = np.zeros((M, G), bool)
    rotation_cdf = np.zeros((G, L, L))
    m0 = parse_month(s.start)[1]
    calendar_month = calendar_months(s.start, M)
    for j, g in enumerate(s.programmes.values()):
        q_g = programme_profession(prog_produces[j], prog_trainee[j])
        weight = pop * employs[q_g]
        gshare = weight / weight.sum() if g.places is None else np.array([g.places.get(x, 0.0) for x in places])
        gshare = gshare * employs[q_g]
        gshare = gshare / gshare.sum()
        gloc = gshare[at] * within[q_g]                     # [L] by place share, then the profession's providers
        per_year = ser(g.intake)
        intake[:, j, :] = np.where(calendar_month == g.intake_month, per_year, 0.0)[:, None] * gloc[None, :]
        fill[:, j, :] = ser(g.fill_rate)[:, None]
        if g.placement_capacity is not None:
            placement_capacity[:, j] = np.where(calendar_month == g.intake_month, ser(g.placement_capacity), np.inf)
        local[:, j, :] = ser(g.local_employment)[:, None]
        trainee_cost[:, j] = ser(g.cost_per_trainee_year)
        if g.rotation is not None:
            rotate[:, j] = np.isin(calendar_month, g.rotation.months)
            rshare = gloc if g.rotation.places is None else \
                np.array([g.rotation.places.get(x, 0.0) for x in places])[at] * within[q_g]
            rotation_cdf[j] = rotation_destinations(rshare, ics_of)
        if g.pipeline_at_start == "steady":
            first_intake = (g.intake_month - m0) % 12 - 12     # the last intake before the start
            # cohorts that started at months s < 0 and are still training at the end of month -1
            for start in range(first_intake, -prog_months[j] - 1, -12):
                filled = min(per_year[0] * fill[0, j, 0],
                             placement_capacity[calendar_month == g.intake_month, j].min(initial=np.inf))
                survivors = filled * (1 - q[j]) ** (-1 - start)
                for l, n in enumerate(split(survivors, gloc)):
                    if n:
                        cohorts.append((j, l, start, n))

    init_cohorts = np.array(cohorts, np.int64).reshape(-1, 4)
    # demand and funded posts (the base-year gap comes from the vacancy rate, never assumed zero)
    staff_fte0 = init_hc * fte[0]
    for j, l, _, n in init_cohorts:
        if prog_trainee[j] >= 0:
            staff_fte0[prog_trainee[j], l] += n * fte[0, prog_trainee[j], l]
    vac = np.array([p.vacancy_rate for p in s.professions.values()])
    funded0 = staff_fte0 / (1 - vac)[:, None]
    # what is required of a place is shared over its providers as its staff are at the start
    place_staff = place_sum(staff_fte0, at, K)[:, at]
    with np.errstate(invalid="ignore", divide="ignore"):
        staff_share = np.where(place_staff > 0, staff_fte0 / np.where(place_staff > 0, place_staff, 1.0), within)
    cost = cost * april_factor(ser(s.finance.pay_growth), m0)[:, None, None]
    bands, population = need.project_population(s, ser, places, pop)
    lines, units, activity = need.activity(s, ser, bands, population)
    definition = s.demand.definition if s.demand is not None else "per profession"
    # each profession's own block: FTE per 1,000 residents, or (without a ratio) the establishment
    ratio = np.array([p.demand.fte_per_1000_population if p.demand.fte_per_1000_population is not None else np.nan
                      for p in s.professions.values()])
    if definition == "establishment":
        ratio[:] = np.nan
    by_ratio = (np.nan_to_num(ratio)[:, None] * pop[None, :] / 1000.0)[:, at] * staff_share
    demand0 = np.where(np.isnan(ratio)[:, None], funded0, by_ratio)
    demand = demand0[None] * need.monthly_growth_factor(growth)[:, :, None]
    if lines:
        staffing = need.staffing_matrix(s, lines, profs)                            # [S, P]
        from_lines = staffing.sum(axis=0) > 0
        by_lines = np.einsum("msl,sp->mpl", activity, staffing)[:, :, at] * staff_share[None]
        demand[:, from_lines, :] = by_lines[:, from_lines, :]
    demand = demand / need.productivity_factor(s, ser, profs)[:, :, None]
    budget = None
    if s.finance.budget_growth is not None:
        budget = (funded0 * cost[0]).sum() * april_factor(ser(s.finance.budget_growth), m0)
    uncertainty = s.demand.uncertainty if s.demand is not None else None
    residents = geo.weight_share                 # residents of a place are shown at its providers by weight

    moves = mobility_arrays(s, geo, within, init_hc, prog_produces, M, monthly_hazard)
    moves.update(sector_arrays(s, geo, within, ser, monthly_hazard))
    cells = cell_arrays(s, places, at, M, ser, monthly_hazard, cost)

    plan = Plan(
        scenario_name=s.name, start=s.start, months=M, professions=profs, locations=geo.names,
        location_kind=geo.kinds, location_sector=geo.sectors, location_place=at, places=places,
        place_ics=geo.place_ics, place_region=geo.place_region, nation=geo.nation, place_population=pop, provider_share=within,
        programmes=progs,
        leave_hazard=leave, rotation_hazard=move, transfer_hazard=transfer, recruit_rate=recruit,
        time_to_hire=hire_lag, recruit_capacity=recruit_capacity, fte_per_head=fte, sickness=sick,
        cost_per_fte=cost, demand_fte=demand, funded_posts=None, demand0=demand[0].copy(), funded0=funded0,
        budget=budget,
        hire_only_into_vacancies=s.finance.hire_only_into_vacancies,
        bank_cover=_per_profession(M, L, [p.bank_agency.cover for p in s.professions.values()]),
        bank_premium=_per_profession(M, L, [p.bank_agency.premium for p in s.professions.values()]),
        age_bands=bands, population=population[:, :, at] * residents, service_lines=lines, service_units=units,
        activity=activity[:, :, at] * residents,
        growth_sd=uncertainty.growth_sd if uncertainty else 0.0,
        productivity_sd=uncertainty.productivity_sd if uncertainty else 0.0, leave_age_mult=age_mult,
        retire_cdf=retire, staff_age=staff_age, joiner_age=joiner_age, init_headcount=init_hc,
        rotation_cdf=move_cdf, prog_produces=prog_produces, prog_trainee_prof=prog_trainee,
        prog_months=prog_months, prog_dropout=dropout, prog_entry_age=entry_age, intake=intake, fill_rate=fill,
        placement_capacity=placement_capacity,
        local_employment=local, cost_per_trainee=trainee_cost, init_cohorts=init_cohorts,
        prog_rotate=rotate, prog_rotation_cdf=rotation_cdf, **moves, **cells,
    )
    owners = owner_table(s)
    plan.owners, plan.owner_levels = [n for n, _ in owners], [lv for _, lv in owners]
    return plan


def programme_profession(produces: int, trainee_profession: int) -> int:
    """The profession whose providers a programme's trainees are at: in-service trainees' own staff group,
    else the profession it produces (completers look for a post where they trained)."""
    return int(trainee_profession) if trainee_profession >= 0 else int(produces)


def rotation_destinations(shares: np.ndarray, ics_of: list[str]) -> np.ndarray:
    """[L, L] cumulative weights of a rotating trainee's new location, by their current one: the rotation's
    location shares restricted to the current location's ICS and renormalised (the current location
    included: a draw of it means staying). A row is all zero (nobody moves) where the ICS has no share."""
    L = len(ics_of)
    out = np.zeros((L, L))
    for l in range(L):
        w = np.array([shares[k] if ics_of[k] == ics_of[l] else 0.0 for k in range(L)])
        if w.sum() > 0:
            out[l] = np.cumsum(w) / w.sum()
            out[l, np.flatnonzero(w)[-1]:] = 1.0          # exactly 1 from the last place with a share
    return out


def apply(plan: Plan, scenario, levers) -> None:
    """Let each lever transform the plan, in the order of the action plan. Where the plan carries budget
    control's factors (``budget_scale``), each lever is first scaled by its owner's."""
    for i, lever in enumerate(levers):
        if plan.owners:
            owner = lever_owner(lever, scenario.geography)
            plan.lever_owners.append(owner)
            if plan.budget_scale is not None:
                factor = plan.budget_scale[:, plan.owners.index(owner)]
                if np.any(factor != 1.0):
                    lever = lever.scaled(lever.scale(plan.months) * factor)
        lever.apply(plan, scenario)
        plan.levers.append(lever)
        plan.lever_labels.append(lever_label(lever, i, levers))


def lever_label(lever, i: int, levers) -> str:
    """The lever's ``id``, else its name, numbered where the name repeats (``retention#2``)."""
    if getattr(lever, "id", None):
        return lever.id
    same = [k for k, x in enumerate(levers) if x.lever == lever.lever and not getattr(x, "id", None)]
    return lever.lever if len(same) == 1 else f"{lever.lever}#{same.index(i) + 1}"


def finish(plan: Plan) -> Plan:
    """After the levers: starters as whole people within placement capacity, funded posts from demand."""
    M, G, L = plan.intake.shape
    wanted = plan.intake * plan.fill_rate
    whole = np.zeros((M, G, L), np.int64)
    for t, j in zip(*np.nonzero(wanted.sum(axis=2) > 0)):
        whole[t, j] = split(min(wanted[t, j].sum(), plan.placement_capacity[t, j]), wanted[t, j])
    plan.intake = whole
    plan.funded_posts = establishment.funded_posts(plan.funded0, plan.demand_fte, plan.demand0, plan.cost_per_fte,
                                                   plan.budget)
    return plan


def _per_profession(M: int, L: int, values) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, float)[None, :, None], (M, len(values), L)).copy()


__all__ = ["compile_plan", "compile_base", "with_levers", "finish", "series", "monthly_hazard", "split",
           "retirement_cdf", "lever_label", "programme_profession"]
