"""Pipeline chart: joiners by source (stacked up) and leavers by reason (stacked down) per year."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..results.levels import area_dim
from .common import (check_profession, load, new_figure, profession_label, provenance, replicate_note,
                     select_scenario, yearly_flows)

COLOURS = {
    "newly_qualified": "tab:green", "international": "tab:blue", "return_to_practice": "tab:cyan",
    "domestic": "tab:olive", "rotation_in": "tab:gray", "training_start": "tab:purple", "transfer_in": "tab:brown",
    "retirement": "tab:orange", "leaver": "tab:red", "rotation_out": "silver", "completed_training": "plum",
    "transfer_out": "rosybrown",
}


WORDS = {"leaver": "other leaving", "rotation_in": "rotation in (between places)",
         "rotation_out": "rotation out (between places)"}


def _words(code: str) -> str:
    return WORDS.get(code, code.replace("_", " "))


def pipeline_chart(ds: xr.Dataset, profession: str, scenario: str | None = None):
    """Joiners by source above zero and leavers by reason below it, in each year, summed over places:
    the mean over replicates (means add up, so each stack's height is the mean total). Sources and
    reasons that are zero throughout are left out. Black dots: the mean net change."""
    one, label = select_scenario(ds, scenario)
    check_profession(one, profession)
    flows = {}
    for var, dim in (("joiners", "source"), ("leavers", "reason")):
        v = load(one[var].sel(profession=profession).sum(area_dim(one)))
        yearly, years = yearly_flows(v, one)
        if "replicate" in yearly.dims:
            yearly = yearly.mean("replicate")
        flows[var] = yearly.transpose(dim, "time")
    stat = "mean over " + replicate_note(one.joiners) if "replicate" in one.dims else "expected values"
    fig = new_figure(max(7.0, 0.9 * len(years) + 4), 5.6,
                     f"Joiners and leavers — {profession_label(one, profession)}, {label}",
                     provenance(ds.attrs, f"scenario {label}"))
    ax = fig.subplots()
    x = np.arange(len(years))
    for var, dim, sign in (("joiners", "source", 1), ("leavers", "reason", -1)):
        base = np.zeros(len(years))
        for key in flows[var][dim].values:
            h = sign * flows[var].sel({dim: key}).values.astype(float)
            if not np.any(h):
                continue
            ax.bar(x, h, bottom=base, width=0.7, color=COLOURS.get(str(key)), label=f"{var[:-1]}: {_words(str(key))}",
                   edgecolor="white", linewidth=0.5)
            base = base + h
    net = flows["joiners"].sum("source").values - flows["leavers"].sum("reason").values
    ax.plot(x, net, "o", color="black", label="net change", zorder=3)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, years)
    ax.set_xlabel("plan year (April to March)" if "/" in years[0] else "year from the start")
    ax.set_ylabel(f"people per year ({stat}); leavers below zero")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.grid(axis="y", alpha=0.3)
    fig.legend(loc="outside right center", fontsize=8, frameon=False)
    return fig
