"""The run summary: supply, demand and gap at the end of each plan year, with percentiles."""
from __future__ import annotations

import numpy as np
import xarray as xr
from rich.table import Table

QUANTILES = (0.05, 0.5, 0.95)


def plan_year_ends(ds: xr.Dataset) -> xr.Dataset:
    """The dataset at the last period of each plan year (12 months from the start)."""
    per_year = {"month": 12, "quarter": 4, "year": 1}[ds.attrs.get("time_step", "month")]
    return ds.isel(time=slice(per_year - 1, None, per_year))


def summary_frame(ds: xr.Dataset) -> xr.Dataset:
    """Percentiles over replicates of supply (effective FTE), demand and gap, by profession (FTE)."""
    ends = plan_year_ends(ds)
    table = xr.Dataset({
        "supply": ends.effective_fte.sum("place"),
        "demand": ends.demand_fte.sum("place"),
        "gap": ends.gap_fte.sum("place"),
    })
    if "replicate" in table.dims:
        table = table.quantile(list(QUANTILES), dim="replicate")
    return table


def _cell(v: xr.DataArray) -> str:
    x = np.atleast_1d(v.values)
    if len(x) == 1:
        return f"{x[0]:,.0f}"
    return f"{x[1]:,.0f} ({x[0]:,.0f} to {x[2]:,.0f})"


def summary_table(ds: xr.Dataset) -> Table:
    frame = summary_frame(ds)
    stochastic = "quantile" in frame.dims
    n = ds.sizes.get("replicate", 1)
    title = (f"{ds.attrs.get('scenario_name', '')} — end of each plan year, FTE"
             + (f", median (5th to 95th percentile) of {n} replicates" if stochastic else ", expected values")
             + f"; engine {ds.attrs.get('engine')}, seed {ds.attrs.get('seed')}")
    t = Table(title=title, title_justify="left")
    for col, just in (("year end", "left"), ("profession", "left"), ("supply (effective FTE)", "right"),
                      ("demand FTE", "right"), ("gap FTE", "right")):
        t.add_column(col, justify=just)
    for ti, when in enumerate(frame.time.values):
        step = {"month": 1, "quarter": 3, "year": 12}[ds.attrs.get("time_step", "month")]
        label = str(np.datetime64(when, "M") + step - 1)
        for pi, prof in enumerate(frame.profession.values):
            cells = [_cell(frame[var].isel(time=ti, profession=pi)) for var in ("supply", "demand", "gap")]
            t.add_row(label if pi == 0 else "", str(prof), *cells, end_section=pi == frame.sizes["profession"] - 1)
    return t
