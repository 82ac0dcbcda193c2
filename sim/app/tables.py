"""The app's views of an experiment's results, as tidy tables, and the files it offers to download.

Everything is read from the experiment store (``sim.experiments.open_experiment``); the paired
comparison is the experiment layer's own (``sim.experiments.comparison``: replicate r of every run
shares its random numbers), only narrowed to the staff groups, area and month the user looks at.
"""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..experiments import comparison, open_experiment
from ..experiments.compare import ALL, goals_frame
from ..plots.common import PlotError, period_ends, yearly_flows
from ..results.levels import area_dim
from ..vocabulary import LEVELS

Q = (0.05, 0.25, 0.5, 0.75, 0.95)
SERIES = {"effective_fte": "supply", "demand_fte": "demand"}
TIDY = ("effective_fte", "demand_fte", "gap_fte", "vacancies", "headcount")


def open_results(folder: Path) -> xr.Dataset:
    return open_experiment(folder)


def stored_comparison(folder: Path, ds: xr.Dataset) -> pd.DataFrame:
    """The experiment's comparison.csv (as ``wfsim experiment`` wrote it), else computed from the store."""
    csv = Path(folder) / "comparison.csv"
    return pd.read_csv(csv) if csv.is_file() else comparison(ds)


def run_labels(ds: xr.Dataset) -> list[str]:
    return [str(s) for s in ds.scenario.values]


def baselines(ds: xr.Dataset) -> dict[str, str]:
    """Each run's comparator: the baseline variant under the same future."""
    labels, base = run_labels(ds), ds.attrs["baseline"]
    variants = dict(zip(labels, map(str, ds.variant.values)))
    futures = dict(zip(labels, map(str, ds.future.values)))
    return {s: next(b for b in labels if variants[b] == base and futures[b] == futures[s]) for s in labels}


def profession_labels(ds: xr.Dataset) -> dict[str, str]:
    """Staff group code → its label in the scenario (without the parenthesis), else the code in words."""
    runs = json.loads(ds.attrs.get("experiment", "{}")).get("runs", {})
    scenario = runs.get(ds.attrs.get("baseline")) or next(iter(runs.values()), {})
    out = {}
    for p in map(str, ds.profession.values):
        label = (scenario.get("professions", {}).get(p) or {}).get("label") or p.replace("_", " ")
        out[p] = label.split(" (")[0]
    return out


def touched_professions(ds: xr.Dataset, run: str) -> list[str]:
    """The staff groups a run's own levers (those its baseline lacks) name, directly or through the
    programme they act on: the ones to look at first."""
    runs = json.loads(ds.attrs.get("experiment", "{}")).get("runs", {})
    scenario, base = runs.get(run, {}), runs.get(baselines(ds).get(run), {})
    ids = {lv.get("id") or lv.get("lever") for lv in base.get("levers", [])}
    out = []
    for lv in scenario.get("levers", []):
        if (lv.get("id") or lv.get("lever")) in ids:
            continue
        for key in ("profession", "from_profession", "to_profession"):
            out.append(lv.get(key))
        out.append((scenario.get("programmes", {}).get(lv.get("programme")) or {}).get("produces"))
    known = [str(p) for p in ds.profession.values]
    return [p for p in dict.fromkeys(out) if p in known]


def areas(ds: xr.Dataset) -> dict[str, list[str]]:
    """Area label → its areas along the results' area dimension: the whole geography, then each region, ICS,
    place and provider at or above the results' level (a level with one area only is the whole)."""
    dim = area_dim(ds)
    names = [str(p) for p in ds[dim].values]
    along = {level: [str(x) for x in ds[level].values] for level in LEVELS if level in ds.coords
             and ds[level].dims == (dim,)}
    top = along.get("region", [ds.attrs.get("nation", "")] * len(names))
    whole = top[0] if len(set(top)) == 1 else ds.attrs.get("nation", "all")
    out = {f"{whole} (whole area)": names}
    for level, label in (("region", "region"), ("ics", "ICS"), ("place", "place"), ("provider", "provider")):
        if level in along and (len(set(along[level])) > 1 or level == dim):
            out.update({f"{label}: {a}": [n for n, b in zip(names, along[level]) if b == a]
                        for a in dict.fromkeys(along[level])})
    return out


def compare_months(ds: xr.Dataset) -> list[str]:
    """The months a comparison can be read at: the end of each plan year and the last month."""
    ends = [str(t) for t in period_ends(ds).astype("datetime64[M]")]
    first = np.datetime64(str(ds.time.values[0])[:7], "M")
    yearly = [m for m in ends if (np.datetime64(m, "M") - first + 1).astype(int) % 12 == 0]
    return list(dict.fromkeys(yearly + [ends[-1]]))


def fan_frame(ds: xr.Dataset, runs: list[str], professions: list[str], places: list[str]) -> pd.DataFrame:
    """Supply (effective FTE) and demand of the chosen staff groups, summed over the chosen places:
    percentiles over replicates for each run and period end (tidy, one row per series and period)."""
    labels = profession_labels(ds)
    ends = period_ends(ds)
    rows = []
    for var, series in SERIES.items():
        dim = area_dim(ds)
        q = (ds[var].sel({"scenario": runs, "profession": professions, dim: places}).sum(dim).load()
             .quantile(list(Q), dim="replicate"))
        for run in runs:
            for prof in professions:
                v = q.sel(scenario=run, profession=prof).values          # [quantile, time]
                rows.append(pd.DataFrame({"run": run, "profession": labels[prof], "series": series, "end": ends,
                                          **{f"p{round(100 * x)}": v[i] for i, x in enumerate(Q)}}))
    return pd.concat(rows, ignore_index=True)


def paired(ds: xr.Dataset, professions: list[str], places: list[str], month: str) -> pd.DataFrame:
    """The experiment's paired comparison at ``month`` for the chosen staff groups (and all of them
    together), with the gap summed over the chosen places. Spend has no place: where only part of the
    area is chosen, extra spend is still the whole scenario's, so £ per FTE closed is not shown."""
    whole = len(places) == ds.sizes[area_dim(ds)]
    table = comparison(ds if whole else ds.sel({area_dim(ds): places}), professions, [month])
    if not whole:
        table["cost_per_fte_closed"] = np.nan
    return table


def headline(table: pd.DataFrame, run: str, profession: str) -> dict[str, float]:
    """The four numbers a planner reads first, for one run and staff group (medians over replicates)."""
    row = table[(table.scenario == run) & (table.profession == profession)].iloc[0]
    return {"gap": row.gap_p50, "reduction": row.reduction_p50, "p_smaller": row.p_smaller_gap,
            "extra_spend": row.extra_cost_p50, "per_fte": row.cost_per_fte_closed}


def readable(table: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The comparison with columns in words, for the page (medians with 5th and 95th percentiles)."""
    out = pd.DataFrame({
        "rank": table["rank"], "run": table.scenario, "staff group": table.profession.map(lambda p: labels.get(p, p)),
        "month": table.year, "gap FTE": table.gap_p50, "gap FTE 5th": table.gap_p5, "gap FTE 95th": table.gap_p95,
        "gap share": table.gap_share_p50, "gap reduction FTE": table.reduction_p50,
        "reduction 5th": table.reduction_p5, "reduction 95th": table.reduction_p95,
        "P(smaller gap)": table.p_smaller_gap, "extra spend £m": table.extra_cost_p50,
        "£ per FTE closed": table.cost_per_fte_closed})
    return out.reset_index(drop=True)


def goals(table: pd.DataFrame) -> pd.DataFrame:
    """Each run's probability of meeting each of the scenario's goals (share of replicates)."""
    frame = goals_frame(table)
    frame.columns = [c[2:-1] for c in frame.columns]
    return frame


def spend_frame(ds: xr.Dataset) -> pd.DataFrame:
    """Spend by plan year, £ million, for each run: by kind, on each lever, and in total (median and
    5th to 95th percentile over replicates)."""
    try:
        kinds, years = yearly_flows(ds.cost, ds)
        levers, _ = yearly_flows(ds.lever_cost, ds)
    except PlotError:           # less than a year of results
        return pd.DataFrame(columns=["run", "plan year", "item", "p5", "p50", "p95"])
    parts = [(kinds.rename(kind="item"), ""), (levers.rename(lever="item"), "lever: "),
             (kinds.sum("kind").expand_dims(item=["total"]), "")]
    rows = []
    for var, prefix in parts:
        q = (var.load() / 1e6).quantile([0.05, 0.5, 0.95], dim="replicate")
        for run in run_labels(ds):
            for item in map(str, var["item"].values):
                for t, year in enumerate(years):
                    v = q.sel(scenario=run, item=item).isel(time=t).values
                    rows.append({"run": run, "plan year": year, "item": prefix + item,
                                 "p5": v[0], "p50": v[1], "p95": v[2]})
    return pd.DataFrame(rows)


def percentiles(ds: xr.Dataset) -> pd.DataFrame:
    """The main stocks as a tidy table: one row per run, period, staff group and place, with the
    5th to 95th percentiles over replicates (for spreadsheets, R or pandas)."""
    frames = []
    for var in TIDY:
        q = ds[var].load().quantile(list(Q), dim="replicate")
        df = q.to_dataframe(name="value")["value"].unstack("quantile")
        df.columns = [f"p{round(100 * x)}" for x in df.columns]
        df.insert(0, "variable", var)
        df.insert(1, "units", ds[var].attrs.get("units", ""))
        frames.append(df.reset_index())
    out = pd.concat(frames, ignore_index=True).rename(columns={"scenario": "run"})
    dim = area_dim(ds)
    for level in reversed(LEVELS):          # the areas above each row's, after its own column
        if level != dim and level in ds.coords and ds[level].dims == (dim,):
            above = dict(zip(map(str, ds[dim].values), map(str, ds[level].values)))
            out.insert(out.columns.get_loc(dim) + 1, level, out[dim].map(above))
    return out


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One workbook, a sheet per table."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            frame.to_excel(xl, sheet_name=name[:31], index=not isinstance(frame.index, pd.RangeIndex))
    return buf.getvalue()


def netcdf_bytes(folder: Path) -> bytes:
    """The whole experiment store as one netCDF file (h5netcdf, gzip), as ``wfsim run`` writes a run."""
    ds = open_experiment(folder).load()
    encoding = {name: {"compression": "gzip", "compression_opts": 1} for name in ds.data_vars}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.nc"
        ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)
        return path.read_bytes()


def report_bytes(folder: Path) -> bytes:
    """The experiment's report (``wfsim report``): one self-contained HTML file, written into the folder."""
    from ..experiments.report import write_report

    return write_report(folder, "html")[0].read_bytes()


__all__ = ["ALL", "areas", "baselines", "compare_months", "excel_bytes", "fan_frame", "goals", "headline",
           "netcdf_bytes", "open_results", "paired", "percentiles", "profession_labels", "readable", "report_bytes",
           "run_labels", "spend_frame", "stored_comparison", "touched_professions"]
