"""What every standard figure shares: picking one scenario of an experiment, checking a profession,
the figure itself (matplotlib's Agg canvas, no screen needed), the provenance footer and labels.

matplotlib is imported inside ``new_figure`` only, so importing ``sim.plots`` stays cheap.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..vocabulary import DEFAULT_OUTPUT_STEP, OUTPUT_STEP_MONTHS, period_last_month, periods_per_year, plan_year_label

# colours for categories with no colour of their own (futures, ICSs), in order: matplotlib's tableau set
PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


class PlotError(ValueError):
    """Bad input to a figure (unknown scenario, profession, year; not a results dataset): one line."""


def select_scenario(ds: xr.Dataset, scenario: str | None = None) -> tuple[xr.Dataset, str]:
    """One scenario's results and its label. A single run has no ``scenario`` dim: its name is the
    attribute scenario_name. An experiment defaults to its baseline (attribute ``baseline``)."""
    if "scenario" not in ds.dims:
        name = str(ds.attrs.get("scenario_name", ""))
        if scenario is not None and scenario != name:
            raise PlotError(f"scenario {scenario!r}: these results hold one scenario, {name!r}")
        return ds, name
    labels = scenario_labels(ds)
    if scenario is None:
        scenario = baseline_label(ds)
    if scenario not in labels:
        raise PlotError(f"scenario {scenario!r} is not in the experiment; it has: {', '.join(labels)}")
    return ds.sel(scenario=scenario), scenario


def scenario_labels(ds: xr.Dataset) -> list[str]:
    return [str(s) for s in ds["scenario"].values] if "scenario" in ds.dims else []


def baseline_label(ds: xr.Dataset) -> str:
    """The experiment's comparator scenario: attribute ``baseline`` if it names one, else the first."""
    labels = scenario_labels(ds)
    base = str(ds.attrs.get("baseline", ""))
    return base if base in labels else labels[0]


def check_profession(ds: xr.Dataset, profession: str) -> str:
    names = [str(p) for p in ds["profession"].values]
    if profession not in names:
        raise PlotError(f"profession {profession!r} is not in the results; they have: {', '.join(names)}")
    return profession


def profession_label(ds: xr.Dataset | None, profession: str) -> str:
    """The scenario's label for a staff group (attribute ``scenario``, JSON) without its parenthesis,
    else the code in words."""
    try:
        label = json.loads(ds.attrs["scenario"])["professions"][profession]["label"]
    except (AttributeError, KeyError, TypeError, ValueError):
        label = None
    return (label or profession.replace("_", " ")).split(" (")[0]


def time_step(ds: xr.Dataset) -> str:
    """month, quarter or year: the attribute time_step, else the spacing of the time labels."""
    if ds.attrs.get("time_step") in OUTPUT_STEP_MONTHS:
        return str(ds.attrs["time_step"])
    months = ds["time"].values[:2].astype("datetime64[M]").astype(int)
    gap = int(months[1] - months[0]) if len(months) == 2 else 1
    return {months: step for step, months in OUTPUT_STEP_MONTHS.items()}.get(gap, DEFAULT_OUTPUT_STEP)


def period_ends(ds: xr.Dataset) -> np.ndarray:
    """The last day of each period, where its stocks are measured."""
    months = ds["time"].values.astype("datetime64[M]") + OUTPUT_STEP_MONTHS[time_step(ds)]
    return months.astype("datetime64[D]") - 1


def last_month(ds: xr.Dataset) -> str:
    """The last month of the results ("2031-03"), as the run summary labels year ends."""
    return str(period_last_month(ds["time"].values[-1], time_step(ds)))


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def month_words(month: np.datetime64) -> str:
    """"March 2031" for 2031-03."""
    m = np.datetime64(month, "M").astype(int)
    return f"{MONTHS[m % 12]} {1970 + m // 12}"


def period_span(ds: xr.Dataset) -> str:
    """The months the results cover, for a title: "April 2026 to March 2036"."""
    first = ds["time"].values[0]
    return f"{month_words(first)} to {month_words(period_last_month(ds['time'].values[-1], time_step(ds)))}"


def yearly_flows(var: xr.DataArray, ds: xr.Dataset) -> tuple[xr.DataArray, list[str]]:
    """A flow summed into whole years from the start (plan years when the run starts in April), and
    their labels ("2026/27"); a trailing part-year is dropped."""
    per_year = periods_per_year(time_step(ds))
    n_years = var.sizes["time"] // per_year
    if n_years == 0:
        raise PlotError("the results cover less than one year: no yearly flows to show")
    yearly = var.isel(time=slice(0, n_years * per_year)).coarsen(time=per_year).sum()
    start = ds["time"].values[0].astype("datetime64[M]")
    return yearly, [plan_year_label(start + 12 * i) for i in range(n_years)]


def provenance(attrs: Mapping, what: str | None = None) -> str:
    """Footer text from a dataset's (or table's) attributes: the experiment and scenario, when the
    results were created, engine, seed and wfsim version."""
    parts = []
    if attrs.get("experiment_name"):
        parts.append(f"experiment {attrs['experiment_name']}")
    if what:
        parts.append(what)
    created = str(attrs.get("created", ""))
    if created:
        parts.append(f"created {created[:16].replace('T', ' ')}")
    for key, word in (("engine", "engine"), ("seed", "seed"), ("wfsim_version", "wfsim")):
        if key in attrs:
            parts.append(f"{word} {attrs[key]}")
    return " · ".join(parts) or "wfsim"


def replicate_note(var: xr.DataArray) -> str:
    n = var.sizes.get("replicate", 0)
    return f"{n} replicate{'s' if n != 1 else ''}" if n else "one (deterministic) run"


def fit_title(title: str, width: float, points: float = 12) -> str:
    """The title wrapped at words to the figure's width (inches), so no line of it is clipped (about 0.6 em
    a character in bold; the constrained layout makes room for the extra lines)."""
    import textwrap

    return textwrap.fill(title, width=max(20, int(width * 72 / (0.62 * points))), break_long_words=False)


def new_figure(width: float, height: float, title: str | None, footer: str):
    """A figure on the Agg canvas with a title and a provenance footer (the figure's x label, so that
    the constrained layout keeps room for it)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained", dpi=110)
    if title:  # a figure with a legend above its panels gives its title to the legend instead
        fig.suptitle(fit_title(title, width), fontsize=12, fontweight="bold")
    fig.supxlabel(footer, x=0.01, ha="left", fontsize=7.5, color="0.35")
    return fig


def grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def load(var: xr.DataArray) -> xr.DataArray:
    """Values in memory (an experiment store opened lazily reads its chunks here)."""
    return var.load() if hasattr(var, "load") else var
