"""The run summary: supply, demand and gap at the end of each plan year, with percentiles."""
from __future__ import annotations

import numpy as np
import xarray as xr
from rich.table import Table

from .levels import area_dim
from ..vocabulary import period_last_month, periods_per_year, plan_year_label, step_of

QUANTILES = (0.05, 0.5, 0.95)


def plan_year_ends(ds: xr.Dataset) -> xr.Dataset:
    """The dataset at the last period of each plan year (12 months from the start)."""
    per_year = periods_per_year(step_of(ds.attrs))
    return ds.isel(time=slice(per_year - 1, None, per_year))


def summary_frame(ds: xr.Dataset) -> xr.Dataset:
    """Percentiles over replicates of supply (effective FTE), demand and gap, by profession (FTE)."""
    ends = plan_year_ends(ds)
    area = area_dim(ds)
    table = xr.Dataset({
        "supply": ends.effective_fte.sum(area),
        "demand": ends.demand_fte.sum(area),
        "gap": ends.gap_fte.sum(area),
        "vacancy_rate": ends.vacancies.sum(area) / ends.funded_posts.sum(area),
    })
    if "replicate" in table.dims:
        table = table.quantile(list(QUANTILES), dim="replicate")
    return table


def _cell(v: xr.DataArray, fmt: str = "{:,.0f}") -> str:
    x = np.atleast_1d(v.values)
    if len(x) == 1:
        return fmt.format(x[0])
    return f"{fmt.format(x[1])} ({fmt.format(x[0])} to {fmt.format(x[2])})"


def summary_table(ds: xr.Dataset) -> Table:
    frame = summary_frame(ds)
    stochastic = "quantile" in frame.dims
    n = ds.sizes.get("replicate", 1)
    title = (f"{ds.attrs.get('scenario_name', '')} — end of each plan year, FTE"
             + (f", median (5th to 95th percentile) of {n} replicates" if stochastic else ", expected values")
             + f"; engine {ds.attrs.get('engine')}, seed {ds.attrs.get('seed')}")
    t = Table(title=title, title_justify="left")
    for col, just in (("year end", "left"), ("profession", "left"), ("supply (effective FTE)", "right"),
                      ("demand FTE", "right"), ("gap FTE", "right"), ("vacancy rate", "right")):
        t.add_column(col, justify=just)
    for ti, when in enumerate(frame.time.values):
        label = str(period_last_month(when, step_of(ds.attrs)))
        for pi, prof in enumerate(frame.profession.values):
            cells = [_cell(frame[var].isel(time=ti, profession=pi)) for var in ("supply", "demand", "gap")]
            cells.append(_cell(100 * frame["vacancy_rate"].isel(time=ti, profession=pi), "{:.1f}%"))
            t.add_row(label if pi == 0 else "", str(prof), *cells, end_section=pi == frame.sizes["profession"] - 1)
    return t


def cost_table(ds: xr.Dataset, by_lever: bool = False) -> Table | None:
    """Spend in each plan year by kind (or, ``by_lever``, on each lever), £ million (median and 5th to
    95th percentile); None for levers when the run has none."""
    per_year = periods_per_year(step_of(ds.attrs))
    n_years = ds.sizes["time"] // per_year
    var, dim = (ds.lever_cost, "lever") if by_lever else (ds.cost, "kind")
    if var.sizes[dim] == 0:
        return None
    yearly = var.isel(time=slice(0, n_years * per_year)).coarsen(time=per_year).sum() / 1e6
    yearly = xr.concat([yearly, yearly.sum(dim).expand_dims({dim: ["total"]})], dim=dim)
    if "replicate" in yearly.dims:
        yearly = yearly.quantile(list(QUANTILES), dim="replicate")
    t = Table(title=f"spend {'on each lever ' if by_lever else ''}by plan year, £ million"
              + (", median (5th to 95th percentile)" if "quantile" in yearly.dims else ""), title_justify="left")
    t.add_column("plan year")
    for k in yearly[dim].values:
        t.add_column(str(k), justify="right")
    start = ds.time.values[0].astype("datetime64[M]")
    for i in range(n_years):
        t.add_row(plan_year_label(start + 12 * i), *[_cell(yearly.isel({"time": i, dim: k}), "{:,.1f}") for k in range(yearly.sizes[dim])])
    return t


def yearly(var: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """A flow summed over each plan year of the run (twelve months from the start), £ million."""
    per_year = periods_per_year(step_of(ds.attrs))
    n_years = ds.sizes["time"] // per_year
    return var.isel(time=slice(0, n_years * per_year)).coarsen(time=per_year).sum() / 1e6


def budget_rows(ds: xr.Dataset) -> dict[tuple[str, str], dict]:
    """(owner, plan year label) → budget control's record (attribute ``budget_control``)."""
    import json

    return {(r["owner"], r["plan_year"]): r for r in json.loads(ds.attrs.get("budget_control", "[]"))}


def owner_table(ds: xr.Dataset) -> Table | None:
    """Spend on the levers each owner holds, by plan year, £ million (median and 5th to 95th percentile),
    with its budget (own plus passed down) and budget control's factor; None when the run has no owners."""
    if "spend_by_owner" not in ds or ds.sizes["owner"] == 0:
        return None
    spend = yearly(ds.spend_by_owner, ds)
    if "replicate" in spend.dims:
        spend = spend.quantile(list(QUANTILES), dim="replicate")
    per_year = periods_per_year(step_of(ds.attrs))
    scale = ds.budget_scale.isel(time=slice(0, spend.sizes["time"] * per_year)).coarsen(time=per_year).min()
    if "replicate" in scale.dims:
        scale = scale.isel(replicate=0)          # the same in every replicate (set on the expected path)
    budgets = budget_rows(ds)
    t = Table(title="spend on levers by owner, £ million per plan year"
              + (", median (5th to 95th percentile)" if "quantile" in spend.dims else "")
              + "; budget: own plus passed down; scale: budget control's factor on the owner's levers",
              title_justify="left")
    for col, just in (("plan year", "left"), ("owner", "left"), ("level", "left"), ("spend", "right"),
                      ("budget", "right"), ("scale", "right")):
        t.add_column(col, justify=just)
    start = ds.time.values[0].astype("datetime64[M]")
    n = ds.sizes["owner"]
    for i in range(spend.sizes["time"]):
        label = plan_year_label(start + 12 * i)
        for k, owner in enumerate(ds.owner.values):
            row = budgets.get((str(owner), label))
            t.add_row(label if k == 0 else "", str(owner), str(ds.owner_level.values[k]),
                      _cell(spend.isel(time=i, owner=k), "{:,.2f}"),
                      f"{row['budget'] / 1e6:,.2f}" if row else "—",
                      f"{float(scale.isel(time=i, owner=k)):.2f}", end_section=k == n - 1)
    return t


def level_table(ds: xr.Dataset) -> Table | None:
    """Spend on levers by owners' level, per plan year, £ million (median and 5th to 95th percentile)."""
    if "spend_by_owner" not in ds or ds.sizes["owner"] == 0:
        return None
    spend = yearly(ds.spend_by_owner, ds).groupby("owner_level").sum()
    levels = [lv for lv in dict.fromkeys(map(str, ds.owner_level.values))]
    spend = spend.sel(owner_level=levels)
    spend = xr.concat([spend, spend.sum("owner_level").expand_dims(owner_level=["total"])], dim="owner_level")
    if "replicate" in spend.dims:
        spend = spend.quantile(list(QUANTILES), dim="replicate")
    t = Table(title="spend on levers by owners' level, £ million per plan year"
              + (", median (5th to 95th percentile)" if "quantile" in spend.dims else ""), title_justify="left")
    t.add_column("plan year")
    for lv in spend.owner_level.values:
        t.add_column(str(lv), justify="right")
    start = ds.time.values[0].astype("datetime64[M]")
    for i in range(spend.sizes["time"]):
        t.add_row(plan_year_label(start + 12 * i),
                  *[_cell(spend.isel(time=i, owner_level=k), "{:,.2f}") for k in range(spend.sizes["owner_level"])])
    return t


def goals_table(ds: xr.Dataset, goals) -> Table | None:
    """Each system goal with the probability across replicates of meeting it."""
    if not goals:
        return None
    from .metrics import goal_table

    t = Table(title="system goals: probability of meeting each (share of replicates)", title_justify="left")
    for col in ("goal", "metric", "by", "target", "median value", "probability"):
        t.add_column(col, justify="right" if col in ("median value", "probability") else "left")
    for row in goal_table(ds, goals):
        if np.isnan(row["probability"]):
            t.add_row(row["goal"], row["metric"], row["by"], row["target"], row["why"], "—")
            continue
        t.add_row(row["goal"], row["metric"], row["by"], row["target"], f"{row['median']:,.4g}",
                  f"{100 * row['probability']:.0f}%")
    return t
