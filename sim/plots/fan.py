"""Fan chart: supply (effective FTE) against demand (required FTE) over time, summed over places."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..results.levels import area_dim
from .common import (check_profession, grid, load, new_figure, period_ends, profession_label, provenance,
                     replicate_note, select_scenario)

SERIES = (("effective_fte", "supply (effective FTE)", "tab:blue"), ("demand_fte", "demand (required FTE)", "tab:red"))
BANDS = ((0.05, 0.95, 0.15, "middle 90% of replicates"), (0.25, 0.75, 0.3, "middle 50% of replicates"))


def _year_ticks(x: np.ndarray, most: int = 6) -> np.ndarray:
    """Tick at the year ends among the period ends (every period if under a year), thinned."""
    months = x.astype("datetime64[M]")
    ends = x[(months - months[-1]).astype(int) % 12 == 0]
    ends = ends if len(ends) > 1 else x
    return ends[::-1][::int(np.ceil(len(ends) / most))][::-1]


def fan_chart(ds: xr.Dataset, profession: str | None = None, scenario: str | None = None):
    """One panel per profession (or the one named): the median over replicates of supply and demand,
    with bands holding the middle 50% and 90% of replicates (lines only when there are no replicates).
    Stocks are plotted at the last day of each period."""
    from matplotlib.patches import Patch

    one, label = select_scenario(ds, scenario)
    professions = [check_profession(one, profession)] if profession else [str(p) for p in one["profession"].values]
    x = period_ends(one)
    rows, cols = grid(len(professions))
    stochastic = "replicate" in one.dims
    how = f"median and bands of {replicate_note(one.effective_fte)}" if stochastic else "expected values"
    title = f"Supply and demand, FTE — {label} ({how})"
    fig = new_figure(max(4.4 * cols, 9.0), 2.9 * rows + 1.1 + (0.3 if cols < 3 else 0), None, provenance(ds.attrs, f"scenario {label}"))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    totals = {var: load(one[var].sel(profession=professions).sum(area_dim(one))) for var, _, _ in SERIES}
    if stochastic:
        qs = sorted({q for lo, hi, _, _ in BANDS for q in (lo, hi)} | {0.5})
        totals = {var: t.quantile(qs, dim="replicate") for var, t in totals.items()}
    ticks = _year_ticks(x)
    for i, prof in enumerate(professions):
        ax = axes[i // cols][i % cols]
        for var, name, colour in SERIES:
            t = totals[var].sel(profession=prof)
            if stochastic:
                for lo, hi, alpha, _ in BANDS:
                    ax.fill_between(x, t.sel(quantile=lo).values, t.sel(quantile=hi).values, color=colour,
                                    alpha=alpha, linewidth=0)
                t = t.sel(quantile=0.5)
            ax.plot(x, t.values, color=colour, linewidth=1.8, label=name, marker="." if len(x) < 20 else None)
        ax.set_title(profession_label(one, prof), fontsize=10)
        ax.grid(alpha=0.3)
        if i % cols == 0:
            ax.set_ylabel("FTE")
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.set_xticks(ticks, [str(t.astype("datetime64[M]")) for t in ticks])
    for j in range(len(professions), rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("end of period (year-month)")
        ax.tick_params(axis="x", labelrotation=30)
    handles, names = axes[0][0].get_legend_handles_labels()
    names = [f"{n}, {'median' if stochastic else 'value'}" for n in names]
    if stochastic:
        handles += [Patch(color="0.5", alpha=a + 0.1) for _, _, a, _ in BANDS]
        names += [b for _, _, _, b in BANDS]
    fig.legend(handles, names, loc="outside upper center", ncols=len(names) if cols >= 3 else 2, fontsize=8, frameon=False,
               title=title, title_fontproperties={"size": 12, "weight": "bold"})
    return fig
