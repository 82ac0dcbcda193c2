"""The outputs a sensitivity analysis looks at: one number per run, read from a results dataset.

``gap_share`` (gap FTE ÷ demand FTE), ``gap_fte``, ``headcount``, ``effective_fte`` and ``vacancy_rate`` are
taken at the end of month ``at`` for the chosen profession and place (a provider, place, ICS or region; default all);
``spend`` is all spend in the 12 months to ``at`` (£ million); ``goal`` is the share of replicates meeting
one of the scenario's goals (at its own date, or at ``at``). Monte Carlo outputs are means over replicates.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from pydantic import model_validator

from ..results.levels import area_dim, area_mask
from .design import Model, YearMonth, month_index

METRICS = ("gap_share", "gap_fte", "spend", "headcount", "effective_fte", "vacancy_rate", "goal")
UNITS = {"gap_share": "share of demand FTE", "gap_fte": "FTE", "spend": "£ million in the 12 months to the date",
         "headcount": "people", "effective_fte": "FTE", "vacancy_rate": "share of funded posts",
         "goal": "probability of meeting the goal"}


class Output(Model):
    metric: Literal["gap_share", "gap_fte", "spend", "headcount", "effective_fte", "vacancy_rate", "goal"]
    at: YearMonth | None = None
    profession: str | None = None
    where: str | None = None
    goal: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.metric == "goal":
            if self.goal is None:
                raise ValueError("metric goal needs goal: the name of one of the scenario's goals")
            if self.profession is not None or self.where is not None:
                raise ValueError("a goal has its own profession and place; give only goal (and optionally at)")
        else:
            if self.goal is not None:
                raise ValueError("goal: is only for metric goal")
            if self.at is None:
                raise ValueError(f"metric {self.metric} needs at: the month (YYYY-MM) it is read at")
        if self.metric == "spend" and (self.profession is not None or self.where is not None):
            raise ValueError("spend is the whole scenario's (the results hold spend by kind, not by profession "
                             "or place); drop profession and where")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.metric == "goal":
            return f"P({self.goal})" + (f" at {self.at}" if self.at else "")
        scope = ", ".join(x for x in (self.profession, self.where) if x)
        return f"{self.metric} {self.at}" + (f" ({scope})" if scope else "")

    @property
    def units(self) -> str:
        return UNITS[self.metric]


def output_problems(outputs: list[Output], scenario, section: str = "outputs") -> list[tuple[str, str]]:
    """Names and dates that the scenario does not have, one (field, message) each."""
    places = {n for names in scenario.geography.names().values() for n in names}
    goals = {g.name: g for g in scenario.goals}
    last = month_index(scenario.start, scenario.start) + scenario.years * 12 - 1
    problems, labels = [], set()
    for i, o in enumerate(outputs):
        f = f"{section}.{i}"
        if o.profession is not None and o.profession not in scenario.professions:
            problems.append((f"{f}.profession", f"{o.profession!r} is not a profession of the scenario "
                                                f"({', '.join(scenario.professions)})"))
        if o.where is not None and o.where not in places:
            problems.append((f"{f}.where", f"{o.where!r} is not a provider, place, ICS or region of the scenario "
                                           f"({', '.join(sorted(places))})"))
        if o.goal is not None and o.goal not in goals:
            problems.append((f"{f}.goal", f"{o.goal!r} is not a goal of the scenario "
                                          f"({', '.join(goals) or 'it has none'})"))
        when = o.at or (goals[o.goal].by if o.goal in goals else None)
        if when is not None and not 0 <= month_index(scenario.start, when) <= last:
            problems.append((f"{f}.at", f"{when} is outside the scenario's months ({scenario.start} + "
                                        f"{scenario.years} years)"))
        if o.label in labels:
            problems.append((f"{f}.name", f"two outputs are called {o.label!r}; give each a distinct name"))
        labels.add(o.label)
    return problems


def last_month(outputs: list[Output], scenario) -> int:
    """The last month index any output reads (runs stop there: engines are prefix-consistent)."""
    goals = {g.name: g for g in scenario.goals}
    return max(month_index(scenario.start, o.at or goals[o.goal].by) for o in outputs)


def _total(ds: xr.Dataset, var: str, t: int, profession, where) -> xr.DataArray:
    """``var`` at period ``t`` summed over the chosen profession and areas (one value per replicate)."""
    da = ds[var].isel(time=t)
    area = area_dim(ds)
    if profession is not None:
        da = da.sel(profession=[profession])
    if where is not None:
        da = da.isel({area: area_mask(ds, where)})
    return da.sum(["profession", area])


def metric(ds: xr.Dataset, name: str, at: str, profession=None, where=None) -> xr.DataArray:
    """One metric per replicate (or the expected value) at month ``at``; the goal metrics included."""
    t = month_index(str(ds.time.values[0])[:7], at)
    if name in ("spend", "annual_cost"):
        total = ds.cost.isel(time=slice(max(0, t - 11), t + 1)).sum(["time", "kind"])
        return total / 1e6 if name == "spend" else total
    if name == "gap_share":
        return _total(ds, "gap_fte", t, profession, where) / _total(ds, "demand_fte", t, profession, where)
    if name == "vacancy_rate":
        return _total(ds, "vacancies", t, profession, where) / _total(ds, "funded_posts", t, profession, where)
    return _total(ds, name, t, profession, where)


def evaluate(ds: xr.Dataset, outputs: list[Output], scenario) -> np.ndarray:
    """Each output's value for one run: means over replicates (a goal: the share meeting it)."""
    goals = {g.name: g for g in scenario.goals}
    out = []
    for o in outputs:
        if o.metric == "goal":
            g = goals[o.goal]
            v = metric(ds, g.metric, o.at or g.by, g.profession, g.where)
            met = v <= g.max if g.max is not None else v >= g.min
            out.append(float(met.mean()))
        else:
            out.append(float(metric(ds, o.metric, o.at, o.profession, o.where).mean()))
    return np.asarray(out)
