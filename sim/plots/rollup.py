"""Roll-up: one variable at the last period by area at the run's output level, and summed to each level
above it (a run by place: by place, by ICS and for the region)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..results.levels import area_dim
from ..vocabulary import LEVELS as ORDER
from .common import (PALETTE, PlotError, check_profession, last_month, load, new_figure, profession_label, provenance,
                     replicate_note, select_scenario)

LEVELS = (("provider", "provider"), ("place", "place"), ("ics", "integrated care system"), ("region", "region"),
          ("nation", "nation"))


NAMES = {"gap_fte": "FTE gap (demand − effective FTE)", "vacancies": "vacant funded FTE",
         "headcount": "staff in post", "effective_fte": "effective FTE", "demand_fte": "required FTE",
         "unmet_fte": "demand met by nobody, FTE"}


def rollup_values(ds: xr.Dataset, variable: str = "gap_fte", scenario: str | None = None,
                  profession: str | None = None) -> dict[str, xr.DataArray]:
    """The variable at the last period, summed over every dimension but the area (and replicate), then
    rolled up within each replicate by ``groupby`` on each level above it (``ics``, ``region``…): {level:
    values}."""
    one, _ = select_scenario(ds, scenario)
    if variable not in one.data_vars:
        raise PlotError(f"variable {variable!r} is not in the results")
    var = one[variable]
    area = area_dim(one)
    if area not in var.dims:
        raise PlotError(f"variable {variable!r} has no {area} dimension to roll up")
    if profession is not None:
        if "profession" not in var.dims:
            raise PlotError(f"variable {variable!r} is not by profession")
        var = var.sel(profession=check_profession(one, profession))
    if "time" in var.dims:
        var = var.isel(time=-1)
    var = load(var.sum([d for d in var.dims if d not in (area, "replicate")]))
    out = {area: var}
    for level in ORDER[ORDER.index(area) + 1:]:
        if level in var.coords:
            out[level] = var.groupby(level).sum()
    return out


def rollup(ds: xr.Dataset, variable: str = "gap_fte", scenario: str | None = None, profession: str | None = None):
    """A panel per level: the variable at the last period by area at the run's level (by place, coloured by
    ICS, for a run by place), then by ICS and for the region; the median over replicates with whiskers
    from the 5th to the 95th percentile. All professions are summed unless one is named."""
    values = rollup_values(ds, variable, scenario, profession)
    one, label = select_scenario(ds, scenario)
    area = area_dim(one)
    units = one[variable].attrs.get("units", "")
    what = (profession_label(one, profession) if profession
            else "all professions" if "profession" in one[variable].dims else "")
    when = f"end of {last_month(one)}" if "time" in one[variable].dims else ""
    stochastic = "replicate" in values[area].dims
    stat = f"median, whiskers 5th–95th percentile of {replicate_note(values[area])}" if stochastic else "value"
    levels = [(k, name) for k, name in LEVELS if k in values]
    heights = [values[k].sizes[k] for k, _ in levels]
    fig = new_figure(8.0, 1.6 + 0.32 * sum(heights) + 0.5 * len(levels),
                     f"{NAMES.get(variable, variable)} by {_listed([k if k != 'ics' else 'ICS' for k, _ in levels])}"
                     f" — {label}" + (f", {what}" if what else "")
                     + (f", at {when}" if when else ""), provenance(ds.attrs, f"scenario {label}"))
    axes = fig.subplots(len(levels), 1, squeeze=False, gridspec_kw={"height_ratios": [h + 1 for h in heights]})
    ics_of = dict(zip(map(str, one[area].values), map(str, one["ics"].values))) if "ics" in one.coords else {}
    icss = list(dict.fromkeys(ics_of.values()))
    for ax, (level, name) in zip(axes[:, 0], levels):
        v = values[level]
        names = [str(n) for n in v[level].values]
        if stochastic:
            q = v.quantile([0.05, 0.5, 0.95], dim="replicate")
            mid = q.sel(quantile=0.5).values
            err = np.vstack([np.maximum(mid - q.sel(quantile=0.05).values, 0),
                             np.maximum(q.sel(quantile=0.95).values - mid, 0)])
        else:
            mid, err = v.values, None
        colour = ([PALETTE[icss.index(ics_of[n]) % len(PALETTE)] for n in names] if level == area and icss
                  else [PALETTE[icss.index(n) % len(PALETTE)] for n in names] if level == "ics" else "0.4")
        y = np.arange(len(names))
        ax.barh(y, mid, xerr=err, color=colour, height=0.6, error_kw={"ecolor": "black", "capsize": 3, "linewidth": 1})
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"by {name}", fontsize=10, loc="left")
        ax.xaxis.set_major_formatter("{x:,.0f}")
        ax.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel(f"{NAMES.get(variable, variable)} ({units}; {stat})")
    return fig


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
