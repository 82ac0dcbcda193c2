"""Who spent what and what it bought: each run's spend on levers by owner, the levers each owner holds,
budget control's scaling, and the run's paired gap reduction against its baseline.

Owners are the bodies that hold levers (the national body, a region, an ICS, a place). A run's gap
reduction is the whole run's (all its owners' levers together); where a run's levers have one owner,
it is what that owner's spend bought, and comparing runs that differ by one owner's levers isolates it.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from .. import runs
from ..model.compile import lever_label
from .compare import ALL

Q = (5, 50, 95)


def held_levers(scenario) -> dict[str, list[str]]:
    """owner → labels of the levers it holds in a validated scenario."""
    out: dict[str, list[str]] = {}
    for i, lever in enumerate(scenario.levers):
        out.setdefault(lever.owner_of(scenario), []).append(lever_label(lever, i, scenario.levers))
    return out


def spending_frame(ds: xr.Dataset, table: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, owner) that holds levers or spent on them: level, levers, spend over the horizon
    (£ million, percentiles over replicates), the lowest budget scale, and the run's paired reduction of
    the whole workforce's gap at the last month compared (FTE)."""
    if "spend_by_owner" not in ds or ds.sizes.get("owner", 0) == 0:
        return pd.DataFrame()
    scenarios = json.loads(ds.attrs["experiment"])["runs"]
    last = max(map(str, table["year"])) if len(table) else None
    rows = []
    for s in map(str, ds.scenario.values):
        held = held_levers(runs.load_scenario(scenarios[s], name=s))
        spend = ds.spend_by_owner.sel(scenario=s).sum("time").load() / 1e6
        scale = ds.budget_scale.sel(scenario=s).isel(replicate=0).min("time").load()
        mine = table[(table.scenario == s) & (table.profession == ALL) & (table.year.astype(str) == last)]
        for k, owner in enumerate(map(str, ds.owner.values)):
            spent = spend.isel(owner=k).values
            if owner not in held and not np.any(spent):
                continue
            row = {"run": s, "owner": owner, "level": str(ds.owner_level.values[k]),
                   "levers": ", ".join(held.get(owner, [])), "min_scale": float(scale.isel(owner=k)),
                   "at": last, "baseline": bool(len(mine)) and mine.iloc[0].baseline == s}
            row.update({f"spend_p{q}": v for q, v in zip(Q, np.percentile(spent, Q))})
            row.update({f"reduction_p{q}": (float(mine.iloc[0][f"reduction_p{q}"]) if len(mine) else float("nan"))
                        for q in Q})
            rows.append(row)
    return pd.DataFrame(rows)


def spending_md(frame: pd.DataFrame, md_table) -> list[str]:
    """The report's section on who spent what (nothing when no run has owners)."""
    if frame.empty:
        return []
    header = ["run", "owner", "level", "levers", "spend on levers £m", "lowest budget scale",
              "run's gap reduction FTE"]

    def rng(r, k, fmt):
        return f"{fmt.format(r[k + '_p50'])} ({fmt.format(r[k + '_p5'])} to {fmt.format(r[k + '_p95'])})"

    body = [[r.run, r.owner, r.level, r.levers or "—", rng(r, "spend", "{:,.2f}"), f"{r.min_scale:.2f}",
             "—" if r.baseline or np.isnan(r.reduction_p50) else rng(r, "reduction", "{:,.0f}")]
            for _, r in frame.iterrows()]
    at = frame["at"].iloc[0]
    return ["## Who spent what", "Spend on levers by owner (the body holding them) over the whole horizon, with "
            "the levers each holds and the lowest budget scale in any plan year (1: never scaled down; below 1: "
            "its levers, costed before the year on the expected path, would have cost more than its budget and "
            "were scaled down pro rata). What it bought: the run's paired reduction of the whole workforce's gap "
            f"against its baseline at {at} (all its owners' levers together; where a run's levers have one "
            "owner, it is what that owner's spend bought). Cells: median (5th to 95th percentile) over "
            "replicates.", md_table(header, body)]
