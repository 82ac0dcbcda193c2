"""Budget control: each owner's levers kept within its budget, plan year by plan year.

Budgets are set before the year on expected costs, as plans are. So before each plan year (April to
March) every owner's levers are costed for that year on the expected path (the mean field of
``sim.expected``, with the plan as earlier years' control left it), and where they would cost more than
the owner's budget (its own plus what was passed down to it) all its levers are scaled down pro rata
for that year: factor = budget ÷ expected cost, through ``Lever.scaled`` as adaptive plans scale them.
The factors are deterministic and the same in every replicate, so replicates stay paired and a
replicate's actual spend differs from the budget by its own chance (more leavers to retain, more
completers to employ), as a real year's outturn differs from its budget.

A plan year's costs depend only on the plan up to its end (the engines are prefix-consistent), so the
years are settled in order, re-projecting only after a year was scaled.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import numpy as np

from ..model.compile import compile_base, with_levers
from ..model.expected import project
from ..model.plan import Plan
from ..results.dataset import central_demand
from ..scenario.budgets import budget_in
from ..scenario.loading import scenario_sha256
from ..scenario.owners import lever_owner, owner_places, recipients
from ..vocabulary import APRIL, absolute_month, plan_year_label
from .lever_costs import lever_costs
from .reviews import adaptive_levers, run_reviewed

OVER = 1e-9          # relative: an expected cost above budget × (1 + OVER) is over budget


@dataclass
class BudgetControl:
    """What budget control decided, for the results: per plan year × owner, £ for the plan year's months
    inside the horizon (NaN: no budget)."""

    owners: list[str]
    levels: list[str]
    years: list[int]              # plan years (April of each) that overlap the horizon
    budget: np.ndarray            # [year, owner] own budget plus what was passed down, £
    cost: np.ndarray              # [year, owner] expected cost of the owner's levers before the year's control
    spend: np.ndarray             # [year, owner] expected spend after control
    scale: np.ndarray             # [M, owner] the factor on each owner's levers, month by month
    spans: list[slice]            # each plan year's months in the horizon

    def over(self) -> list[str]:
        """Owners whose levers were scaled down in at least one plan year."""
        return [o for k, o in enumerate(self.owners) if np.any(self.scale[:, k] < 1.0)]

    def attrs(self) -> dict[str, str]:
        """Dataset attributes: owners over budget, and each owner's plan years with a budget."""
        rows = []
        for y, year in enumerate(self.years):
            for k, owner in enumerate(self.owners):
                if np.isfinite(self.budget[y, k]):
                    rows.append({"owner": owner, "level": self.levels[k],
                                 "plan_year": plan_year_label(np.datetime64(f"{year}-{APRIL:02d}")),
                                 "budget": round(float(self.budget[y, k]), 2),
                                 "expected_cost": round(float(self.cost[y, k]), 2),
                                 "expected_spend": round(float(self.spend[y, k]), 2),
                                 "scale": float(self.scale[self.spans[y], k].min())})
        return {"owners_over_budget": ", ".join(self.over()), "budget_control": json.dumps(rows)}


def plan_years(start: str, months: int) -> list[tuple[int, slice]]:
    """(plan year, its months as a slice of the horizon) for every plan year the horizon overlaps."""
    first = absolute_month(start)
    out = []
    for year in range((first - (APRIL - 1)) // 12, (first + months - 1 - (APRIL - 1)) // 12 + 1):
        lo = year * 12 + APRIL - 1 - first
        out.append((year, slice(max(lo, 0), min(lo + 12, months))))
    return out


def owner_budgets(base: Plan, scenario, years: list[tuple[int, slice]]) -> np.ndarray:
    """[year, owner] each owner's budget (own plus passed down) for the plan year's months in the horizon,
    NaN where it has none. A plan year cut by the start or the horizon gets its months' share."""
    b = scenario.budgets
    owners = base.owners
    out = np.full((len(years), len(owners)), np.nan)
    for y, (year, span) in enumerate(years):
        part = (span.stop - span.start) / 12.0
        for owner, value in b.owners.items():
            amount = budget_in(value, year)
            if amount is not None:
                out[y, owners.index(owner)] = amount * part
    rank = {n: i for i, n in enumerate(owners)}          # owners are listed top level first
    for giver in sorted(b.allocate, key=rank.__getitem__):
        rule, k = b.allocate[giver], owners.index(giver)
        names = recipients(scenario, giver)
        weights = np.array([allocation_weight(base, scenario, rule, n) for n in names], float)
        if not names or weights.sum() <= 0:
            continue
        weights = weights / weights.sum()
        for y in range(len(years)):
            if not np.isfinite(out[y, k]):
                continue                       # nothing to pass down this year
            passed = out[y, k] * rule.share
            out[y, k] -= passed
            for n, w in zip(names, weights):
                j = owners.index(n)
                out[y, j] = np.nan_to_num(out[y, j]) + passed * w
    return out


def allocation_weight(base: Plan, scenario, rule, name: str) -> float:
    """A receiving owner's weight: residents of its footprint at the start (a place's, shared over its
    providers by weight where the owner is a provider), its required FTE at the start (all professions,
    before levers), or its share in the table."""
    if rule.by == "table":
        return rule.table.get(name, 0.0)
    mine = set(owner_places(name, scenario.geography))
    if rule.by == "need":
        at = [i for i, x in enumerate(base.locations) if x in mine]
        return float(base.demand0[:, at].sum())
    pop = {p: n for p, _, n in scenario.geography.place_table()}
    weight: dict[str, list[float]] = {}              # place → [weight inside the footprint, all its weight]
    for x in scenario.geography.locations():
        w = weight.setdefault(x.place, [0.0, 0.0])
        w[0] += x.weight if x.name in mine else 0.0
        w[1] += x.weight
    return float(sum(pop[p] if inside == whole else pop[p] * inside / whole
                     for p, (inside, whole) in weight.items() if inside > 0))


def expected_lever_costs(base: Plan, scenario) -> np.ndarray:
    """[M, lever] £ per month on each lever on the expected path (adaptive plans' reviews taken on it too),
    with ``base``'s budget factors."""
    if adaptive_levers(scenario):
        values = run_reviewed(base, scenario, np.zeros(1, np.int64),
                              lambda pl, rr, funded: {k: v[None] for k, v in project(pl).items()},
                              lambda pl, rr: {k: v[None] for k, v in central_demand(pl).items()})
        return values["lever_cost"][0]
    plan = with_levers(base, scenario, scenario.levers)
    return lever_costs(plan, project(plan))


def control(base: Plan, scenario) -> BudgetControl:
    """Settle each plan year's factors in order (see the module's docstring)."""
    years = plan_years(scenario.start, base.months)
    budget = owner_budgets(base, scenario, years)
    owners = base.owners
    held = np.zeros((len(scenario.levers), len(owners)))       # [lever, owner]: who holds each lever
    for i, lever in enumerate(scenario.levers):
        held[i, owners.index(lever_owner(lever, scenario.geography))] = 1.0
    trial = copy.copy(base)
    trial.budget_scale = np.ones((base.months, len(owners)))
    limited = [y for y in range(len(years)) if np.isfinite(budget[y]).any()]

    def by_owner(costs: np.ndarray) -> np.ndarray:
        return np.array([costs[span].sum(axis=0) @ held for _, span in years]).reshape(budget.shape)

    spend = by_owner(expected_lever_costs(trial, scenario)) if limited else np.zeros_like(budget)
    cost = spend.copy()
    for y in limited:
        cost[y] = spend[y]
        over = np.isfinite(budget[y]) & (spend[y] > budget[y] * (1 + OVER) + 1e-6)
        if not over.any():
            continue
        span = years[y][1]
        trial.budget_scale[span, over] = budget[y, over] / spend[y, over]
        spend = by_owner(expected_lever_costs(trial, scenario))
    return BudgetControl(owners=list(owners), levels=list(base.owner_levels), years=[yr for yr, _ in years],
                         budget=budget, cost=cost, spend=spend, scale=trial.budget_scale,
                         spans=[span for _, span in years])


_CACHE: dict[str, BudgetControl] = {}


def budget_control(scenario, base: Plan | None = None) -> BudgetControl | None:
    """The scenario's budget control (None without budgets), worked out once per scenario in a process:
    every batch and experiment block of a run gets the same factors. ``base``: the scenario's plan from
    ``compile_base``, if at hand."""
    if scenario.budgets is None:
        return None
    key = scenario_sha256(scenario)
    if key not in _CACHE:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = control(base if base is not None else compile_base(scenario), scenario)
    return _CACHE[key]


def remember_budget_control(scenario, ctl: BudgetControl | None) -> None:
    """Take ``ctl`` as the scenario's budget control in this process (a worker given the factors its driver
    worked out, rather than repeating the projections)."""
    if ctl is None or scenario.budgets is None:
        return
    if len(_CACHE) >= 8:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[scenario_sha256(scenario)] = ctl


def budgeted(base: Plan, scenario) -> Plan:
    """``base`` with budget control's factors (a copy; ``base`` itself unchanged when there are no budgets)."""
    ctl = budget_control(scenario, base)
    if ctl is None:
        return base
    out = copy.copy(base)
    out.budget_scale = ctl.scale
    return out


def budget_attrs(scenario) -> dict[str, str]:
    """The dataset attributes recording budget control (none without budgets)."""
    ctl = budget_control(scenario)
    return {} if ctl is None else ctl.attrs()


__all__ = ["BudgetControl", "budget_control", "budgeted", "budget_attrs", "control", "owner_budgets",
           "plan_years", "remember_budget_control"]
