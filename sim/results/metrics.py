"""Metrics computed from a results dataset (never inside engines): system goals and their odds."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..vocabulary import OUTPUT_STEP_MONTHS, periods_per_year, step_of
from .levels import area_dim, area_mask


class BeyondHorizon(ValueError):
    """A goal dated after the run's last month (e.g. a run shortened with --years)."""


class BelowLevel(ValueError):
    """A goal about an area finer than the run's output level (a place's goal, results by ICS)."""


def period_index(ds: xr.Dataset, when: str) -> int:
    """Index of the output period that contains month ``when`` (YYYY-MM)."""
    month = np.datetime64(when, "M")
    starts = ds.time.values.astype("datetime64[M]")
    idx = int(np.searchsorted(starts, month, side="right")) - 1
    if idx < 0:
        raise ValueError(f"{when} is before the first period ({starts[0]})")
    step = OUTPUT_STEP_MONTHS[step_of(ds.attrs)]
    if month > starts[-1] + step - 1:
        raise BeyondHorizon(f"{when} is after the run's last month ({starts[-1] + step - 1})")
    return idx


def _in_scope(ds: xr.Dataset, goal) -> xr.Dataset:
    if goal.profession is not None:
        ds = ds.sel(profession=[goal.profession])
    if goal.where is not None:
        mask = area_mask(ds, goal.where)
        if not mask.any():
            raise BelowLevel(f"{goal.where} is finer than the results' level ({area_dim(ds)})")
        ds = ds.isel({area_dim(ds): mask})
    return ds


def goal_value(ds: xr.Dataset, goal) -> xr.DataArray:
    """The goal's metric for each replicate (or the single expected value)."""
    t = period_index(ds, goal.by)
    if goal.metric == "annual_cost":                      # the 12 months to `by`
        per_year = periods_per_year(step_of(ds.attrs))
        return ds.cost.isel(time=slice(max(0, t - per_year + 1), t + 1)).sum(["time", "kind"])
    s = _in_scope(ds, goal).isel(time=t)
    dims = ["profession", area_dim(ds)]
    if goal.metric == "gap_share":
        return s.gap_fte.sum(dims) / s.demand_fte.sum(dims)
    if goal.metric == "vacancy_rate":
        return s.vacancies.sum(dims) / s.funded_posts.sum(dims)
    if goal.metric == "model_employer_ratio":
        return model_employer_ratio(s.staff_by_group.sum(dims), goal.group, goal.band)
    return s[goal.metric].sum(dims)


def goal_met(ds: xr.Dataset, goal) -> xr.DataArray:
    value = goal_value(ds, goal)
    return value <= goal.max if goal.max is not None else value >= goal.min


def goal_table(ds: xr.Dataset, goals) -> list[dict]:
    """For each goal: its value (median over replicates) and the share of replicates meeting it."""
    rows = []
    for goal in goals:
        target = f"≤ {goal.max:g}" if goal.max is not None else f"≥ {goal.min:g}"
        try:
            value, met = goal_value(ds, goal), goal_met(ds, goal)
        except (BeyondHorizon, BelowLevel) as e:    # not judged: after the run's horizon, or below its level
            rows.append({"goal": goal.name, "metric": goal.metric, "by": goal.by, "target": target,
                         "median": float("nan"), "probability": float("nan"),
                         "why": "below the output level" if isinstance(e, BelowLevel) else "after the run's horizon"})
            continue
        rows.append({"goal": goal.name, "metric": goal.metric, "by": goal.by,
                     "target": target, "median": float(value.median()), "probability": float(met.mean())})
    return rows


def model_employer_ratio(staff: xr.DataArray, group: str, band: str | None) -> xr.DataArray:
    """A group's share of a band's staff ÷ its share of all the staff, from staff [..., band, group]; with no
    band, the lowest over the bands that have staff."""
    total = staff.sum(("band", "group"))
    overall = staff.sel(group=group).sum("band") / total.where(total > 0)
    in_band = staff.sum("group")
    ratio = staff.sel(group=group) / in_band.where(in_band > 0) / overall
    return ratio.sel(band=band) if band is not None else ratio.min("band", skipna=True)
