"""The run summary: supply, demand and gap at the end of each plan year, with percentiles."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

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
        table = table.quantile(list(QUANTILES), dim="replicate", skipna=False)   # no funded posts: NaN, no warning
    return table


SUMMARY_COLUMNS = ("profession", "plan_year", "month", "quantity", "statistic", "value", "unit")
QUANTITIES = (("supply", "effective_fte", "FTE"), ("demand", "demand_fte", "FTE"), ("gap", "gap_fte", "FTE"),
              ("vacancy_rate", "vacancy_rate", "share of funded posts"))
STATISTICS = {0.05: "p5", 0.5: "median", 0.95: "p95"}


def summary_rows(ds: xr.Dataset) -> pd.DataFrame:
    """The run summary as a tidy table, one value a row: profession, plan year ("2026/27") and its last
    month ("2027-03"), quantity (effective_fte = supply, demand_fte, gap_fte, vacancy_rate), statistic
    over replicates (p5, median, p95; "expected" for a mean-field projection), value and unit."""
    frame = summary_frame(ds)
    step = step_of(ds.attrs)
    rows = []
    for ti, when in enumerate(frame.time.values):
        month = str(period_last_month(when, step))
        year = plan_year_label(np.datetime64(month, "M") - 11)
        for pi, prof in enumerate(frame.profession.values):
            for var, quantity, unit in QUANTITIES:
                v = frame[var].isel(time=ti, profession=pi)
                stats = ([(STATISTICS[float(q)], v.sel(quantile=q)) for q in v["quantile"].values]
                         if "quantile" in v.dims else [("expected", v)])
                rows += [(str(prof), year, month, quantity, stat, float(x), unit) for stat, x in stats]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def write_summary_csv(ds: xr.Dataset, path) -> None:
    """The tidy run summary as CSV, written atomically (its header is how wfsim recognises it)."""
    from ..outputs import atomic

    with atomic(path) as tmp:
        summary_rows(ds).to_csv(tmp, index=False, float_format="%.10g")


def is_summary_csv(path) -> bool:
    """Whether ``path`` is a run summary CSV written by wfsim (by its header line)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readline().rstrip("\r\n") == ",".join(SUMMARY_COLUMNS)


def yearly(var: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """A flow summed over each plan year of the run (twelve months from the start), £ million."""
    per_year = periods_per_year(step_of(ds.attrs))
    n_years = ds.sizes["time"] // per_year
    return var.isel(time=slice(0, n_years * per_year)).coarsen(time=per_year).sum() / 1e6


def budget_rows(ds: xr.Dataset) -> dict[tuple[str, str], dict]:
    """(owner, plan year label) → budget control's record (attribute ``budget_control``)."""
    import json

    return {(r["owner"], r["plan_year"]): r for r in json.loads(ds.attrs.get("budget_control", "[]"))}
