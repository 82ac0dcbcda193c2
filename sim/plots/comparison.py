"""Figures from an experiment's comparison table (one row per scenario, profession and plan-year end,
paired against the baseline of the same future): gap reduction by variant, and extra cost against it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .common import PALETTE, PlotError, month_words, new_figure, profession_label, provenance

COLUMNS = ("scenario", "variant", "future", "profession", "year", "reduction_p5", "reduction_p50", "reduction_p95",
           "extra_cost_p5", "extra_cost_p50", "extra_cost_p95")


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise PlotError(f"comparison table: missing column(s) {', '.join(missing)}")
    return table


def comparison_rows(table: pd.DataFrame, profession: str, year, baseline: str | None = None) -> pd.DataFrame:
    """The table's rows for one profession and plan-year end ("2031-03"; an int 2031 means the plan
    year ending in March 2031), without the baselines' own rows: those whose ``baseline`` column names
    themselves, else (or when ``baseline`` is given) those of the baseline variant."""
    check_table(table)
    professions = sorted(map(str, table["profession"].unique()))
    if profession not in professions:
        raise PlotError(f"profession {profession!r} is not in the comparison table; it has: {', '.join(professions)}")
    rows = table[table["profession"].astype(str) == profession]
    years = rows["year"].astype(str)
    want = str(year)
    match = years == want if isinstance(year, str) else years.str.startswith(f"{int(year)}-")
    if not match.any():
        raise PlotError(f"year {want!r} is not in the comparison table; it has: {', '.join(sorted(years.unique()))}")
    rows = rows[match]
    if baseline is None and "baseline" in rows.columns:  # each row names its comparator
        rows = rows[rows["scenario"].astype(str) != rows["baseline"].astype(str)]
    else:
        base = str(baseline or table.attrs.get("baseline") or "baseline")
        base_variant = base.split("@")[0]
        rows = rows[(rows["scenario"].astype(str) != base) & (rows["variant"].astype(str) != base_variant)]
    if rows.empty:
        raise PlotError(f"comparison table: no scenario other than the baseline for {profession} in {want}")
    return rows


def _when(year) -> str:
    """"the end of March 2031" for a plan-year end "2031-03" (else the label as given)."""
    try:
        return f"the end of {month_words(np.datetime64(str(year), 'M'))}"
    except ValueError:
        return str(year)


def _footer(table: pd.DataFrame, ds: xr.Dataset | None, baseline: str | None) -> str:
    attrs = dict(ds.attrs) if ds is not None else dict(table.attrs)
    base = baseline or attrs.get("baseline") or "baseline"
    return provenance(attrs, f"each scenario compared with {base} of its future (paired replicates)")


def _colours(rows: pd.DataFrame) -> list:
    futures = list(dict.fromkeys(rows["future"].astype(str)))
    return [PALETTE[futures.index(f) % len(PALETTE)] for f in rows["future"].astype(str)]


def _spread(rows: pd.DataFrame, stem: str) -> np.ndarray:
    mid = rows[f"{stem}_p50"].to_numpy(float)
    return np.vstack([np.maximum(mid - rows[f"{stem}_p5"].to_numpy(float), 0),
                      np.maximum(rows[f"{stem}_p95"].to_numpy(float) - mid, 0)])


def _future_legend(ax, rows: pd.DataFrame) -> None:
    futures = list(dict.fromkeys(rows["future"].astype(str)))
    if len(futures) > 1:
        colours = dict(zip(rows["future"].astype(str), _colours(rows)))
        from matplotlib.patches import Patch

        ax.legend([Patch(color=colours[f]) for f in futures], [f"future: {f}" for f in futures], fontsize=8,
                  loc="best", frameon=False)


def lever_comparison(table: pd.DataFrame, profession: str, year, *, baseline: str | None = None,
                     ds: xr.Dataset | None = None):
    """The gap reduction of each scenario against the baseline of its future, one horizontal bar each
    (median, with the 5th to 95th percentile interval), largest reduction at the top. ``ds``, if given,
    supplies the footer's provenance (else the table's attrs)."""
    rows = comparison_rows(table, profession, year, baseline).sort_values("reduction_p50", ascending=False)
    title = f"Gap reduction vs baseline — {profession_label(ds, profession)}, at {_when(year)}"
    fig = new_figure(8.0, 1.6 + 0.42 * len(rows), title,
                     _footer(table, ds, baseline))
    ax = fig.subplots()
    y = np.arange(len(rows))
    ax.barh(y, rows["reduction_p50"].to_numpy(float), xerr=_spread(rows, "reduction"), color=_colours(rows),
            height=0.6, error_kw={"ecolor": "black", "capsize": 3, "linewidth": 1})
    ax.set_yticks(y, rows["scenario"].astype(str))
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("reduction in the FTE gap vs baseline, FTE (median; whiskers 5th–95th percentile)")
    ax.xaxis.set_major_formatter("{x:,.0f}")
    ax.grid(axis="x", alpha=0.3)
    _future_legend(ax, rows)
    return fig


def cost_vs_gap(table: pd.DataFrame, profession: str, year, *, baseline: str | None = None,
                ds: xr.Dataset | None = None):
    """Extra spend (£ million, from the start to the year end) against the gap reduction (FTE) of each
    scenario vs its baseline: medians with 5th–95th percentile intervals both ways, labelled."""
    rows = comparison_rows(table, profession, year, baseline)
    title = f"Extra cost against gap reduction — {profession_label(ds, profession)}, to {_when(year)}"
    fig = new_figure(8.0, 6.0, title,
                     _footer(table, ds, baseline))
    ax = fig.subplots()
    xs, ys = rows["reduction_p50"].to_numpy(float), rows["extra_cost_p50"].to_numpy(float)
    for i, colour in enumerate(_colours(rows)):
        ax.errorbar(xs[i:i + 1], ys[i:i + 1], xerr=_spread(rows, "reduction")[:, i:i + 1],
                    yerr=_spread(rows, "extra_cost")[:, i:i + 1], fmt="o", color=colour, capsize=3, linewidth=1)
    offsets = ((6, 6, "left"), (6, -12, "left"), (-6, 6, "right"), (-6, -12, "right"))  # labels of close points
    for i, (name, x, y) in enumerate(zip(rows["scenario"].astype(str), xs, ys)):
        dx, dy, ha = offsets[i % len(offsets)]
        ax.annotate(name, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=8, ha=ha)
    ax.axvline(0, color="0.5", linewidth=0.8)
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.update_datalim([(0, 0)])                 # both axes from zero: the reduction and the spend are read from it
    ax.autoscale_view()
    ax.set_xlabel("reduction in the FTE gap vs baseline, FTE (median, 5th–95th percentile)")
    ax.set_ylabel("extra spend vs baseline to the year end, £ million")
    ax.xaxis.set_major_formatter("{x:,.0f}")
    ax.yaxis.set_major_formatter("{x:,.1f}")
    ax.grid(alpha=0.3)
    _future_legend(ax, rows)
    return fig
