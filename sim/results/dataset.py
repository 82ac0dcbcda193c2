"""The one results schema, built from an engine's raw counts and the plan tensors.

Engines return only what is random (headcount, joiners, leavers, trainees, completions); everything
derived from them (FTE, effective FTE, demand, gap, vacancies, cost) is computed here, once, so both
engines and the mean-field projection give the same variables with the same meaning. What the levers
cost is the run layer's to work out (``sim.runs.lever_costs``: it knows the lever plugins); it is handed
in here. Adding an output variable: see docs/CONTRIBUTING.md.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import xarray as xr

from ..model.flows import (BAND_REASONS, BAND_SOURCES, CELL_COUNT_NAMES, COUNTS, MOBILITY_COUNTS, MOBILITY_REASONS,
                           MOBILITY_SOURCES, REASONS, RETURN_COUNTS, RETURN_SOURCES, SECTOR_COUNTS, SECTOR_REASONS,
                           SECTOR_SOURCES, SECTORS, SOURCES)
from ..model.plan import Plan
from ..vocabulary import DEFAULT_LEVEL, DEFAULT_OUTPUT_STEP, OUTPUT_STEP_MONTHS
from .levels import LOCATION, area_coords, roll_up

COST_KINDS = ("staff", "agency_bank", "training", "levers")

# the raw counts (sim.model.flows.COUNTS), then what is derived from them here
UNITS = {c.name: c.units for c in COUNTS} | {
    "fte": "FTE", "effective_fte": "FTE",
    "demand_fte": "FTE", "funded_posts": "FTE", "gap_fte": "FTE", "vacancies": "FTE", "cost": "GBP per month",
    "unmet_fte": "FTE", "activity": "activity units per month (see service_unit)",
    "population": "people", "lever_cost": "GBP per month", "lever_scale": "multiple of the configured size",
    "spend_by_owner": "GBP per month", "budget_scale": "multiple of the levers' size before budget control",
    "cost_by_band": "GBP per month", "population_by_group": "people",
}
DESCRIPTIONS = {c.name: c.meaning for c in COUNTS} | {
    "fte": "contracted FTE of staff in post (retirees back in post at their own FTE)",
    "effective_fte": "FTE after sickness absence",
    "demand_fte": "required FTE (box 1; definition in attribute demand_definition)",
    "funded_posts": "funded establishment",
    "gap_fte": "demand_fte - effective_fte (positive = shortfall)",
    "vacancies": "funded posts unfilled: max(funded_posts - fte, 0)",
    "cost": "spend in the month by kind: staff (FTE × £ per FTE), agency_bank (bank and agency cover of "
            "vacancies at its premium rate), training (trainees × £ per trainee-year), levers",
    "unmet_fte": "demand not met by staff in post or bank and agency cover: max(gap_fte - cover, 0)",
    "activity": "activity by service line (box 0)",
    "population": "residents by age band",
    "lever_scale": "size of each lever relative to its configuration, as set by adaptive plans at annual reviews",
    "lever_cost": "spend on each lever of the action plan in the month (their sum is cost of kind levers)",
    "spend_by_owner": "spend on the levers each owner holds in the month (the sum of their lever_cost; owners "
                      "by level in coordinate owner_level); only when the scenario names owners or has budgets",
    "budget_scale": "budget control's factor on each owner's levers: below 1 in a plan year whose levers, "
                    "costed before the year on the expected path, would cost more than the owner's budget "
                    "(the same in every replicate); only when the scenario names owners or has budgets",
    "cost_by_band": "staff cost in the month by band: FTE in the band × its pay (pay_band) / 12; only with "
                    "characteristics or bands",
    "population_by_group": "residents × each group's share of working-age residents (the representation "
                           "benchmark; nan where the scenario gives no population shares); only with characteristics "
                           "or bands",
}
CELL_VARIABLES = CELL_COUNT_NAMES + ("cost_by_band", "population_by_group")
STOCKS = tuple(c.name for c in COUNTS if c.stock) + (
    "fte", "effective_fte", "demand_fte", "funded_posts", "gap_fte", "vacancies", "unmet_fte", "population",
    "lever_scale", "budget_scale", "population_by_group")
OWNED = ("spend_by_owner", "budget_scale")      # present only when the plan has owners


def central_demand(plan: Plan) -> dict[str, np.ndarray]:
    """The demand side without per-replicate uncertainty (what ``sim.expected`` uses)."""
    return {"activity": plan.activity, "demand_fte": plan.demand_fte, "funded_posts": plan.funded_posts}


def derived(plan: Plan, raw: dict[str, np.ndarray], demand_side: dict[str, np.ndarray], lever_cost: np.ndarray,
            lever_scale: np.ndarray, every: str = "month") -> dict[str, np.ndarray]:
    """Every variable of the schema as arrays; raw arrays may have a leading replicate dim or not.

    ``lever_cost`` [..., M, lever]: £ per month on each lever, with the raw counts' leading dims;
    ``lever_scale`` [M, lever]: each lever's size relative to its configuration. ``every``: stocks are
    returned at the last month of each output period only (:func:`aggregate` takes no more of them; the same
    numbers, without working out the other months' of a national scenario); flows stay monthly."""
    hc = raw["headcount"]
    fte = hc * plan.fte_per_head
    if plan.returning:                  # retirees back in post work their own (reduced) FTE
        fte = fte + raw["returned"] * (plan.return_fte - plan.fte_per_head)
    demand = np.broadcast_to(demand_side["demand_fte"], hc.shape)
    funded = np.broadcast_to(demand_side["funded_posts"], hc.shape)
    vacancies = np.maximum(funded - fte, 0)
    cover = vacancies * plan.bank_cover
    staff_cost = (fte * plan.cost_per_fte / 12.0).sum(axis=(-1, -2))
    agency_cost = (cover * plan.cost_per_fte * (1 + plan.bank_premium) / 12.0).sum(axis=(-1, -2))
    training_cost = (raw["trainees"].sum(axis=-1) * plan.cost_per_trainee / 12.0).sum(axis=-1)
    by_lever = lever_cost
    cost = np.stack([staff_cost, agency_cost, training_cost, by_lever.sum(axis=-1)], axis=-1)
    step = OUTPUT_STEP_MONTHS[every]
    at = (Ellipsis, slice(step - 1, None, step), slice(None), slice(None))      # the stocks' months
    hc_at, fte, demand, funded, vacancies, cover = (a[at] for a in (hc, fte, demand, funded, vacancies, cover))
    eff = fte * (1.0 - np.broadcast_to(plan.sickness, hc.shape[-3:])[step - 1::step])
    scale = lever_scale[step - 1::step]
    activity = np.broadcast_to(demand_side["activity"], hc.shape[:-3] + demand_side["activity"].shape[-3:])
    out = {
        "headcount": hc_at, "fte": fte.astype(np.float32), "effective_fte": eff.astype(np.float32),
        "joiners": raw["joiners"], "leavers": raw["leavers"], "trainees": raw["trainees"][at],
        "completions": raw["completions"], "demand_fte": demand.astype(np.float32),
        "funded_posts": funded.astype(np.float32), "gap_fte": (demand - eff).astype(np.float32),
        "vacancies": vacancies.astype(np.float32), "cost": cost, "lever_cost": by_lever,
        "lever_scale": np.broadcast_to(scale, hc.shape[:-3] + scale.shape).astype(np.float32),
        "unmet_fte": np.maximum(demand - eff - cover, 0).astype(np.float32),
        "unplaced": raw["unplaced"], "graduates_moved": raw["graduates_moved"],
        "returned": raw["returned"][at], "sector_moves": raw["sector_moves"],
        "activity": activity.astype(np.float32),
    }
    if plan.owners:
        out.update(owned(plan, by_lever, hc.shape[:-3], step))
    if plan.cells > 1:
        out.update(by_cell(plan, raw, step))
    return out


def by_cell(plan: Plan, raw: dict[str, np.ndarray], step: int = 1) -> dict[str, np.ndarray]:
    """The counts by band and group (staff, a stock, at the last month of each output period of ``step``
    months), and staff cost by band (a flow, monthly) from each band's pay."""
    staff = raw["staff_by_group"]                                           # [..., M, P, L, B, Gr]
    fte = staff.sum(axis=-1) * plan.fte_per_head[..., None]
    cost = fte * plan.pay_band[:, :, None, :] / 12.0
    out = {name: raw[name] for name in CELL_COUNT_NAMES} | {"cost_by_band": cost}
    out["staff_by_group"] = staff[..., step - 1::step, :, :, :, :]
    return out


def owned(plan: Plan, lever_cost: np.ndarray, lead: tuple, step: int = 1) -> dict[str, np.ndarray]:
    """``spend_by_owner`` [..., M, owner] (lever costs summed by owner) and ``budget_scale`` [..., M / step,
    owner] (a stock: at the last month of each output period of ``step`` months)."""
    held = np.zeros((len(plan.levers), len(plan.owners)))
    for i, owner in enumerate(plan.lever_owners):
        held[i, plan.owners.index(owner)] = 1.0
    months = lever_cost.shape[-2]
    scale = plan.budget_scale if plan.budget_scale is not None else np.ones((months, len(plan.owners)))
    scale = scale[:months][step - 1::step]
    return {"spend_by_owner": lever_cost @ held,
            "budget_scale": np.broadcast_to(scale, lead + scale.shape).astype(np.float32)}


def aggregate(values: dict[str, np.ndarray], every: str, time_axis: int, stocks_at: bool = False) \
        -> dict[str, np.ndarray]:
    """Coarsen months to quarters or years: stocks at the period's last month, flows summed. ``stocks_at``: the
    stocks are at those months already (``derived(..., every)``)."""
    k = OUTPUT_STEP_MONTHS[every]
    if k == 1:
        return values
    out = {}
    for name, a in values.items():
        if stocks_at and name in STOCKS:
            out[name] = a
            continue
        M = a.shape[time_axis]
        shaped = a.reshape(a.shape[:time_axis] + (M // k, k) + a.shape[time_axis + 1:])
        out[name] = shaped.take(k - 1, axis=time_axis + 1) if name in STOCKS else shaped.sum(axis=time_axis + 1)
    return out


DIMS = {c.name: c.dims for c in COUNTS} | {
    "fte": ("time", "profession", "place"),
    "effective_fte": ("time", "profession", "place"), "demand_fte": ("time", "profession", "place"),
    "funded_posts": ("time", "profession", "place"), "gap_fte": ("time", "profession", "place"),
    "vacancies": ("time", "profession", "place"), "cost": ("time", "kind"),
    "unmet_fte": ("time", "profession", "place"),
    "activity": ("time", "service_line", "place"), "lever_cost": ("time", "lever"),
    "lever_scale": ("time", "lever"), "spend_by_owner": ("time", "owner"), "budget_scale": ("time", "owner"),
    "population": ("time", "age_band", "place"),
    "cost_by_band": ("time", "profession", "place", "band"), "population_by_group": ("time", "place", "group"),
}
# ("place" in DIMS is the location axis: the dataset names it after the output level, provider to nation)


def to_level(plan: Plan, values: dict[str, np.ndarray], level: str, every: str, time_axis: int,
             stocks_at: bool = False) -> dict[str, np.ndarray]:
    """Arrays by location and month → by area at ``level`` and output step. Stocks (their period's last month)
    and counts (exact sums) are coarsened in time first: the same numbers as summing over locations first,
    for a twelfth of the work with yearly output. Float flows are summed over locations first, then over time.
    ``stocks_at``: the stocks are at their periods' last months already (``derived(..., every)``)."""
    early = {k: v for k, v in values.items() if k in STOCKS or v.dtype.kind in "iu"}
    late = {k: v for k, v in values.items() if k not in early}
    out = roll_up(plan, aggregate(early, every, time_axis, stocks_at), DIMS, level)
    out.update(aggregate(roll_up(plan, late, DIMS, level), every, time_axis))
    return {k: out[k] for k in values}


def _shown(plan: Plan, values: dict[str, np.ndarray]):
    """(values, sources, reasons, variables) the dataset shows: the flows and counts of mobility, sector moves
    and retire-and-return only where the scenario has them, the promotion flows only where a profession has
    a career ladder, the counts by cell only where there is more than one cell (sim.model.cells); so a
    scenario without them has the dataset it had before they existed."""
    hidden_s, hidden_r, hidden = set(), set(), set(CELL_VARIABLES) if plan.cells == 1 else set()
    for has, sources, reasons, counts in ((plan.mobile, MOBILITY_SOURCES, MOBILITY_REASONS, MOBILITY_COUNTS),
                                          (plan.sectoral, SECTOR_SOURCES, SECTOR_REASONS, SECTOR_COUNTS),
                                          (plan.returning, RETURN_SOURCES, (), RETURN_COUNTS),
                                          (has_ladder(plan), BAND_SOURCES, BAND_REASONS, ())):
        if not has:
            hidden_s |= set(sources)
            hidden_r |= set(reasons)
            hidden |= set(counts)
    if not (hidden_s or hidden_r or hidden):
        return values, list(SOURCES), list(REASONS), set(DIMS)
    keep_s = [i for i, s in enumerate(SOURCES) if s not in hidden_s]
    keep_r = [i for i, r in enumerate(REASONS) if r not in hidden_r]
    values = dict(values)
    values["joiners"] = values["joiners"][..., keep_s]
    values["leavers"] = values["leavers"][..., keep_r]
    return values, [SOURCES[i] for i in keep_s], [REASONS[i] for i in keep_r], set(DIMS) - hidden


def residents_by_group(plan: Plan, level: str, every: str) -> np.ndarray:
    """[time, area, group] ``population_by_group`` at ``level`` and output step: residents × each group's share of
    working-age residents (not random: no replicate axis)."""
    residents = plan.population.sum(axis=1)[:, :, None] * plan.population_groups[plan.location_place][None]
    return to_level(plan, {"population_by_group": residents}, level, every, time_axis=0)["population_by_group"]


def has_ladder(plan: Plan) -> bool:
    """Whether some profession has a career ladder (bands it may be promoted through)."""
    return bool((plan.next_band >= 0).any())


def build_dataset(plan: Plan, values: dict[str, np.ndarray], *, every: str = DEFAULT_OUTPUT_STEP, replicates=None,
                  attrs: dict | None = None, level: str = DEFAULT_LEVEL) -> xr.Dataset:
    """The results Dataset from arrays already at ``level`` and output step (:func:`to_level`);
    ``replicates`` None for the mean field. The area dimension is named after the level."""
    values, sources, reasons, names = _shown(plan, values)
    lead = ("replicate",) if replicates is not None else ()
    step = OUTPUT_STEP_MONTHS[every]
    area = lambda dims: tuple(level if d == LOCATION else d for d in dims)  # noqa: E731
    coords = {
        "time": ("time", plan.month_dates()[::step], {"long_name": f"first day of the {every}"}),
        "profession": list(plan.professions), **area_coords(plan, level),
        "programme": list(plan.programmes), "source": sources, "reason": reasons,
        "kind": list(COST_KINDS), "lever": list(plan.lever_labels),
        **({"from_sector": list(SECTORS), "to_sector": list(SECTORS)} if plan.sectoral else {}),
        "service_line": list(plan.service_lines),
        "service_unit": ("service_line", list(plan.service_units)), "age_band": list(plan.age_bands),
    }
    if replicates is not None:
        coords["replicate"] = np.asarray(replicates, np.int64)
    if plan.owners:
        coords.update(owner=list(plan.owners), owner_level=("owner", list(plan.owner_levels)))
    if plan.cells > 1:
        coords.update(band=list(plan.bands), group=list(plan.groups),
                      promotable=(("profession", "band"), plan.next_band >= 0, {"description": "the band has a next "
                                  "one on the profession's ladder (staff in it may be promoted)"}))
    data = {}
    for name, dims in DIMS.items():     # flows are totals within each output period
        if name in ("population", "population_by_group") or name not in names or (name in OWNED and not plan.owners):
            continue
        units = UNITS[name].replace("per month", f"per {every}")
        data[name] = (lead + area(dims), values[name], {"units": units, "description": DESCRIPTIONS[name]})
    population = to_level(plan, {"population": plan.population}, level, every, time_axis=0)["population"]
    data["population"] = (area(DIMS["population"]), population,
                          {"units": UNITS["population"], "description": DESCRIPTIONS["population"]})
    if plan.cells > 1:
        data["population_by_group"] = (area(DIMS["population_by_group"]), residents_by_group(plan, level, every),
                                       {"units": UNITS["population_by_group"],
                                        "description": DESCRIPTIONS["population_by_group"]})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(attrs or {})
    ds.attrs.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    ds.attrs["time_step"] = every
    ds.attrs["level"] = level
    ds.attrs["nation"] = plan.nation
    ds.attrs["stocks_at"] = "end of each period; flows are totals within it"
    return ds
