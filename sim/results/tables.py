"""The run's terminal tables (summary, spend, goals), each in a wide layout and a narrow one for an
80-column terminal. ``wfsim run`` prints the wide one where it fits without wrapping a cell, else the
narrow one. No layout ever cuts a number or a name: every column folds instead of ending in "…".
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from rich import box
from rich.table import Table

from ..vocabulary import period_last_month, periods_per_year, plan_year_label, step_of
from .summary import QUANTILES, budget_rows, summary_frame, yearly


def new_table(title: str, narrow: bool) -> Table:
    """A table with a left-aligned title; the narrow one has no vertical rules (two characters a column)."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD,
                 pad_edge=not narrow)


def column(t: Table, name: str, right: bool = False, **kw) -> None:
    t.add_column(name, justify="right" if right else "left", overflow="fold", **kw)


def cell(v: xr.DataArray, fmt: str = "{:,.0f}", stacked: bool = False) -> str:
    """The median and, in brackets, the 5th to 95th percentile ("1,234 (1,100 to 1,400)"; stacked: the
    range on a second line); a deterministic value alone."""
    x = np.atleast_1d(v.values)
    if len(x) == 1:
        return fmt.format(x[0])
    return f"{fmt.format(x[1])}{chr(10) if stacked else ' ('}{fmt.format(x[0])} to {fmt.format(x[2])}" + \
        ("" if stacked else ")")


def summary_table(ds: xr.Dataset, narrow: bool = False, csv: str | None = None) -> Table:
    """Supply, demand, gap and vacancy rate by profession at the end of each plan year. Narrow: one section
    per year end; supply and demand as medians, the gap with its 5th to 95th percentile beneath (every
    percentile of every quantity is in the summary CSV, named in the caption when given)."""
    frame = summary_frame(ds)
    stochastic = "quantile" in frame.dims
    n = ds.sizes.get("replicate", 1)
    step = step_of(ds.attrs)
    if narrow:
        how = (f"median of {n} replicates (gap: and its 5th to 95th percentile)" if stochastic
               else "expected values")
    else:
        how = f"median (5th to 95th percentile) of {n} replicates" if stochastic else "expected values"
    title = (f"{ds.attrs.get('scenario_name', '')} — end of each plan year, FTE, {how}; engine "
             f"{ds.attrs.get('engine')}, seed {ds.attrs.get('seed')}")
    t = new_table(title, narrow)
    if csv and narrow and stochastic:
        t.caption, t.caption_justify = f"every percentile of each quantity: {csv}", "left"
    if not narrow:
        column(t, "year end")
    column(t, "profession")
    names = ("supply", "demand", "gap", "vacancy rate") if narrow else \
        ("supply (effective FTE)", "demand FTE", "gap FTE", "vacancy rate")
    for name in names:
        column(t, name, right=True)
    last = frame.sizes["profession"] - 1
    for ti, when in enumerate(frame.time.values):
        label = str(period_last_month(when, step))
        if narrow:
            t.add_row(f"[bold]year to {label}[/]")
        for pi, prof in enumerate(frame.profession.values):
            one = {var: frame[var].isel(time=ti, profession=pi) for var in frame.data_vars}
            if narrow:
                med = (lambda v: v.sel(quantile=0.5) if "quantile" in v.dims else v)
                cells = [cell(med(one["supply"])), cell(med(one["demand"])), cell(one["gap"], stacked=True),
                         cell(100 * med(one["vacancy_rate"]), "{:.1f}%")]
                t.add_row(str(prof), *cells, end_section=pi == last)
            else:
                cells = [cell(one[var]) for var in ("supply", "demand", "gap")]
                cells.append(cell(100 * one["vacancy_rate"], "{:.1f}%"))
                t.add_row(label if pi == 0 else "", str(prof), *cells, end_section=pi == last)
    return t


def cost_table(ds: xr.Dataset, by_lever: bool = False, narrow: bool = False) -> Table | None:
    """Spend in each plan year by kind (or, ``by_lever``, on each lever), £ million (median and 5th to
    95th percentile); None for levers when the run has none. Narrow: one row per (plan year, kind)."""
    per_year = periods_per_year(step_of(ds.attrs))
    n_years = ds.sizes["time"] // per_year
    var, dim = (ds.lever_cost, "lever") if by_lever else (ds.cost, "kind")
    if var.sizes[dim] == 0:
        return None
    yearly = var.isel(time=slice(0, n_years * per_year)).coarsen(time=per_year).sum() / 1e6
    yearly = xr.concat([yearly, yearly.sum(dim).expand_dims({dim: ["total"]})], dim=dim)
    stochastic = "replicate" in yearly.dims
    if stochastic:
        yearly = yearly.quantile(list(QUANTILES), dim="replicate")
    t = new_table(f"spend {'on each lever ' if by_lever else ''}by plan year, £ million"
                  + (", median (5th to 95th percentile)" if stochastic else ""), narrow)
    start = ds.time.values[0].astype("datetime64[M]")
    keys = [str(k) for k in yearly[dim].values]
    if narrow:
        for name, right in (("plan year", False), (dim, False), ("median" if stochastic else "value", True)):
            column(t, name, right)
        if stochastic:
            column(t, "5th to 95th percentile", right=True)
        for i in range(n_years):
            for k, key in enumerate(keys):
                v = yearly.isel({"time": i, dim: k})
                x = np.atleast_1d(v.values)
                rng = [f"{x[0]:,.1f} to {x[2]:,.1f}"] if stochastic else []
                t.add_row(plan_year_label(start + 12 * i) if k == 0 else "", key,
                          f"{x[1 if stochastic else 0]:,.1f}", *rng, end_section=k == len(keys) - 1)
        return t
    column(t, "plan year")
    for key in keys:
        column(t, key, right=True)
    for i in range(n_years):
        t.add_row(plan_year_label(start + 12 * i),
                  *[cell(yearly.isel({"time": i, dim: k}), "{:,.1f}") for k in range(len(keys))])
    return t


def goals_table(ds: xr.Dataset, goals, narrow: bool = False) -> Table | None:
    """Each system goal with the probability across replicates of meeting it. Narrow: the goal's
    metric, target and date beneath its name."""
    if not goals:
        return None
    from .metrics import goal_table

    t = new_table("system goals: probability of meeting each (share of replicates)", narrow)
    for col in (("goal",) if narrow else ("goal", "metric", "by", "target")) + ("median value", "probability"):
        column(t, col, right=col in ("median value", "probability"))
    for row in goal_table(ds, goals):
        beyond = np.isnan(row["probability"])
        value = row.get("why", "after the run's horizon") if beyond else f"{row['median']:,.4g}"
        chance = "—" if beyond else f"{100 * row['probability']:.0f}%"
        what = ([f"{row['goal']}\n{row['metric']} {row['target']}, by {row['by']}"] if narrow
                else [row["goal"], row["metric"], row["by"], row["target"]])
        t.add_row(*what, value, chance)
    return t


def owner_table(ds: xr.Dataset, narrow: bool = False) -> Table | None:
    """Spend on the levers each owner holds, by plan year, £ million (median and 5th to 95th percentile),
    with its budget (own plus passed down) and budget control's factor; None when the run has no owners.
    Narrow: the percentile range beneath the median, the owner's level beneath its name."""
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
    t = new_table("spend on levers by owner, £ million per plan year"
                  + (", median (5th to 95th percentile)" if "quantile" in spend.dims else "")
                  + "; budget: own plus passed down; scale: budget control's factor on the owner's levers", narrow)
    names = ("plan year", "owner", "spend", "budget", "scale") if narrow else \
        ("plan year", "owner", "level", "spend", "budget", "scale")
    for name in names:
        column(t, name, right=name in ("spend", "budget", "scale"))
    start = ds.time.values[0].astype("datetime64[M]")
    n = ds.sizes["owner"]
    for i in range(spend.sizes["time"]):
        label = plan_year_label(start + 12 * i)
        for k, owner in enumerate(ds.owner.values):
            row = budgets.get((str(owner), label))
            level = str(ds.owner_level.values[k])
            who = [f"{owner}\n({level})"] if narrow else [str(owner), level]
            t.add_row(label if k == 0 else "", *who, cell(spend.isel(time=i, owner=k), "{:,.2f}", stacked=narrow),
                      f"{row['budget'] / 1e6:,.2f}" if row else "—",
                      f"{float(scale.isel(time=i, owner=k)):.2f}", end_section=k == n - 1)
    return t


def level_table(ds: xr.Dataset, narrow: bool = False) -> Table | None:
    """Spend on levers by owners' level, per plan year, £ million (median and 5th to 95th percentile;
    narrow: the range beneath the median)."""
    if "spend_by_owner" not in ds or ds.sizes["owner"] == 0:
        return None
    spend = yearly(ds.spend_by_owner, ds).groupby("owner_level").sum()
    levels = [lv for lv in dict.fromkeys(map(str, ds.owner_level.values))]
    spend = spend.sel(owner_level=levels)
    spend = xr.concat([spend, spend.sum("owner_level").expand_dims(owner_level=["total"])], dim="owner_level")
    if "replicate" in spend.dims:
        spend = spend.quantile(list(QUANTILES), dim="replicate")
    t = new_table("spend on levers by owners' level, £ million per plan year"
                  + (", median (5th to 95th percentile)" if "quantile" in spend.dims else ""), narrow)
    column(t, "plan year")
    for lv in spend.owner_level.values:
        column(t, str(lv), right=True)
    start = ds.time.values[0].astype("datetime64[M]")
    for i in range(spend.sizes["time"]):
        t.add_row(plan_year_label(start + 12 * i),
                  *[cell(spend.isel(time=i, owner_level=k), "{:,.2f}", stacked=narrow)
                    for k in range(spend.sizes["owner_level"])])
    return t
