"""Every run against its baseline, replicate by replicate (common random numbers), from the store alone.

Replicate r of two runs shares its random numbers, so the paired difference gap_base[r] − gap_run[r]
has far less noise than the difference of two independent samples; its percentiles are the
uncertainty in a lever's effect, not in the future as a whole.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr
from rich.table import Table

from ..results.levels import area_dim
from ..results.metrics import BelowLevel, BeyondHorizon, goal_met, period_index
from ..scenario.schema import Goal
from ..vocabulary import period_last_month, step_of

Q = (5, 50, 95)
ALL = "all professions"      # the net gap of the whole workforce, which pairs with the run's whole spend


def _with_total(var: xr.DataArray, professions: list[str]) -> xr.DataArray:
    """By profession (summed over areas), plus the total over every profession of the scenario."""
    area = area_dim(var)
    total = var.sum([area, "profession"]).expand_dims(profession=[ALL])
    return xr.concat([var.sel(profession=professions).sum(area), total], dim="profession")


def compare_settings(ds: xr.Dataset) -> tuple[list[str], list[str]]:
    """(professions, months) to compare, from the experiment stored in the dataset's attributes."""
    spec = json.loads(ds.attrs["experiment"])["experiment"]
    professions = spec["compare"]["professions"] or [str(p) for p in ds.profession.values]
    at = spec["compare"]["at"]
    if not at:
        first = ds.time.values[0].astype("datetime64[M]")
        last = period_last_month(ds.time.values[-1], step_of(ds.attrs))
        five = first + 59
        at = [str(m) for m in ([five] if five < last else []) + [last]]
    return professions, at


def _goals(ds: xr.Dataset, label: str) -> list[Goal]:
    runs = json.loads(ds.attrs["experiment"])["runs"]
    return [Goal.model_validate(g) for g in runs[label].get("goals", [])]


def comparison(ds: xr.Dataset, professions: list[str] | None = None, at: list[str] | None = None) -> pd.DataFrame:
    """One row per (run, profession, month): gap percentiles, paired gap reduction and extra cost against
    the baseline of the same future, £ per FTE of gap closed, and each goal's probability. The
    profession "all professions" is the net gap of the whole workforce: extra spend is the run's whole
    spend, so its £ per FTE closed is the one to compare plans that act on several professions."""
    default_prof, default_at = compare_settings(ds)
    professions, at = professions or default_prof, at or default_at
    baseline = ds.attrs["baseline"]
    labels = [str(s) for s in ds.scenario.values]
    variants = dict(zip(labels, map(str, ds.variant.values)))
    futures = dict(zip(labels, map(str, ds.future.values)))
    base_of = {s: next(b for b in labels if variants[b] == baseline and futures[b] == futures[s]) for s in labels}
    months = [(m, period_index(ds, m)) for m in at]
    gap, demand = (_with_total(ds[v], professions) for v in ("gap_fte", "demand_fte"))
    professions = list(professions) + [ALL]
    spend = ds.cost.sum("kind")
    rows = []
    for s in labels:
        goals = {}
        for g in _goals(ds, s):
            try:
                goals[f"P({g.name})"] = float(goal_met(ds.sel(scenario=s), g).mean())
            except (BeyondHorizon, BelowLevel):
                goals[f"P({g.name})"] = float("nan")
        b = base_of[s]
        for month, t in months:
            g_s = gap.sel(scenario=s).isel(time=t).load()
            g_b = gap.sel(scenario=b).isel(time=t).load()
            d_s = demand.sel(scenario=s).isel(time=t).load()
            c_s = spend.sel(scenario=s).isel(time=slice(0, t + 1)).sum("time").values
            c_b = spend.sel(scenario=b).isel(time=slice(0, t + 1)).sum("time").values
            extra = (c_s - c_b) / 1e6
            for p in professions:
                gs, gb = g_s.sel(profession=p).values, g_b.sel(profession=p).values
                red = gb - gs
                row = {"scenario": s, "variant": variants[s], "future": futures[s], "baseline": b,
                       "profession": p, "year": month}
                row.update({f"gap_p{q}": v for q, v in zip(Q, np.percentile(gs, Q))})
                row["gap_share_p50"] = float(np.median(gs / d_s.sel(profession=p).values))
                row.update({f"reduction_p{q}": v for q, v in zip(Q, np.percentile(red, Q))})
                row["p_smaller_gap"] = float(np.mean(red > 0)) if s != b else float("nan")
                row.update({f"extra_cost_p{q}": v for q, v in zip(Q, np.percentile(extra, Q))})
                r50, c50 = row["reduction_p50"], row["extra_cost_p50"]
                # only where the run closes the gap in at least 95% of replicates (else the ratio is noise)
                row["cost_per_fte_closed"] = c50 * 1e6 / r50 if s != b and row["reduction_p5"] > 0 else float("nan")
                row.update(goals)
                rows.append(row)
    df = pd.DataFrame(rows)
    df["rank"] = df.groupby(["future", "profession", "year"])["reduction_p50"].rank(ascending=False, method="min")
    df["rank"] = df["rank"].astype(int)
    return df.sort_values(["profession", "year", "future", "rank", "scenario"]).reset_index(drop=True)


COLUMNS = ("rank", "run", "gap FTE", "gap share", "gap reduction FTE", "P(smaller gap)", "extra spend £m",
           "£ per FTE closed")


def row_cells(row, brackets: str = "[]") -> list[str]:
    """One comparison row as the cells of COLUMNS: medians with 5th to 95th percentiles in ``brackets``."""
    def rng(k, fmt="{:,.0f}"):
        return (f"{fmt.format(row[k + '_p50'])} {brackets[0]}{fmt.format(row[k + '_p5'])} to "
                f"{fmt.format(row[k + '_p95'])}{brackets[1]}")

    is_base = row.scenario == row.baseline
    return [str(row["rank"]), row.scenario + (" (baseline)" if is_base and row.variant != "baseline" else ""),
            rng("gap"), f"{100 * row.gap_share_p50:.1f}%",
            "—" if is_base else rng("reduction"),
            "—" if is_base else f"{100 * row.p_smaller_gap:.0f}%",
            "—" if is_base else rng("extra_cost", "{:,.1f}"),
            "—" if np.isnan(row.cost_per_fte_closed) else f"{row.cost_per_fte_closed:,.0f}"]


def comparison_table(df: pd.DataFrame, title: str = "") -> Table:
    """The ranked comparison as a terminal table: medians with 5th–95th percentiles, one section per
    (profession, month, future)."""
    t = Table(title=title or "each run against its baseline, replicate by replicate (paired): median [5th to 95th "
                             "percentile] over replicates", title_justify="left")
    width = max(len(s) for s in df.scenario) + 2
    for col in COLUMNS:
        t.add_column(col, justify="left" if col == "run" else "right", no_wrap=col == "run",
                     min_width=width if col == "run" else None)
    many = df.future.nunique() > 1
    for i, ((prof, year, future), rows) in enumerate(df.groupby(["profession", "year", "future"], sort=False)):
        if i:
            t.add_section()
        t.add_row("", f"[bold]{prof} at {year}" + (f", {future}" if many else "") + "[/]")
        for _, row in rows.iterrows():
            t.add_row(*row_cells(row))
    return t


def goals_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Each run's probability of meeting each goal judged within the horizon (one row per run)."""
    cols = [c for c in df.columns if c.startswith("P(") and df[c].notna().any()]
    return df.drop_duplicates("scenario").set_index("scenario")[cols]


def goals_table(df: pd.DataFrame) -> Table | None:
    frame = goals_frame(df)
    if frame.empty or not len(frame.columns):
        return None
    t = Table(title="system goals: probability of meeting each (share of replicates)", title_justify="left")
    t.add_column("run")
    for c in frame.columns:
        t.add_column(c[2:-1], justify="right")
    for s, row in frame.iterrows():
        t.add_row(s, *percent_cells(row.values))
    return t


def percent_cells(values) -> list[str]:
    return ["—" if np.isnan(v) else f"{100 * v:.0f}%" for v in values]
