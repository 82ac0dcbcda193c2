"""Figures of the evidence: sensitivity tornado, calibration fit, backtest forecasts. Each returns a Figure."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

NAIVE_COLOURS = {"last value": "#7a7a7a", "linear trend": "#b07aa1"}


def _grid(n: int, width: float = 5.2, height: float = 3.2, cols: int = 2) -> tuple[Figure, list]:
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n)]
    return fig, axes


def _short(path: str, width: int = 40) -> str:
    """An input's path for an axis label: without the section name, cut from the left if long."""
    for section in ("professions.", "programmes."):
        path = path.removeprefix(section)
    return path if len(path) <= width else "…" + path[-(width - 1):]


def sensitivity_figure(ds: xr.Dataset) -> Figure:
    """Tornado of each output's drivers: total and first-order Sobol indices with their bootstrap
    intervals (or Morris μ* when that was the method), inputs sorted by importance."""
    sobol = "ST" in ds
    outputs = list(ds.output.values)
    fig, axes = _grid(len(outputs), height=max(2.2, 0.45 * ds.sizes["input"] + 1.2))
    for ax, out in zip(axes, outputs):
        s = ds.sel(output=out)
        key = "ST" if sobol else "mu_star"
        vals = s[key].values
        ok = ~np.isnan(vals)
        order = np.argsort(np.where(ok, vals, -np.inf))
        order = [i for i in order if ok[i]]
        names = [_short(str(ds.input.values[i])) for i in order]
        y = np.arange(len(order))
        if sobol:
            ax.barh(y, s.ST.values[order], xerr=s.ST_conf.values[order], color="#9ecae1", label="total (ST)",
                    capsize=2)
            ax.barh(y, s.S1.values[order], height=0.45, xerr=s.S1_conf.values[order], color="#08519c",
                    label="first order (S1)", capsize=2)
            ax.set_xlabel("share of output variance")
            ax.set_xlim(left=min(0.0, float(np.nanmin(s.S1.values)) - 0.05))
        else:
            ax.barh(y, s.mu_star.values[order], xerr=s.mu_star_conf.values[order], color="#08519c",
                    label="μ* (mean |effect|)", capsize=2)
            ax.plot(s.sigma.values[order], y, "o", color="#f58518", label="σ (interactions)")
            ax.set_xlabel(f"change over the input's range ({ds.output_units.sel(output=out).item()})")
        ax.set_yticks(y, names, fontsize=8)
        ax.set_title(f"{out}\n({ds.output_units.sel(output=out).item()})", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
        if not order:
            ax.text(0.5, 0.5, "output does not vary", transform=ax.transAxes, ha="center")
    fig.suptitle(f"{ds.attrs.get('sensitivity_name', '')}: what drives each output "
                 f"({'Sobol' if sobol else 'Morris'}, {_runs(ds)})", fontsize=10)
    return fig


def _runs(ds: xr.Dataset) -> str:
    return "mean field" if ds.attrs.get("engine") == "expected" else \
        f"kernel × {ds.attrs.get('replicates')} replicates, common random numbers"


def fit_figure(fit: pd.DataFrame, title: str = "") -> Figure:
    """Each observed series against the mean-field fit and the posterior predictive median and 50%/90% bands."""
    series = list(fit.groupby(["variable", "profession", "place"], sort=False, dropna=False))
    fig, axes = _grid(len(series))
    for ax, ((var, prof, place), rows) in zip(axes, series):
        x = pd.to_datetime(rows["end"]).values
        ax.fill_between(x, rows.q05, rows.q95, color="#9ecae1", alpha=0.5, label="posterior 90%")
        ax.fill_between(x, rows.q25, rows.q75, color="#4292c6", alpha=0.5, label="posterior 50%")
        ax.plot(x, rows.q50, color="#08519c", label="posterior median")
        ax.plot(x, rows.mean_field, "--", color="#e6550d", label="mean-field fit")
        used = rows.used.values.astype(bool)
        ax.errorbar(x[used], rows.observed.values[used], yerr=1.645 * rows.se.values[used], fmt="o", color="k",
                    ms=4, capsize=2, label="observed (±1.645 se)")
        if (~used).any():
            ax.plot(x[~used], rows.observed.values[~used], "o", mfc="white", mec="k", ms=4, label="held out")
        scope = ", ".join(str(v) for v in (prof, place) if isinstance(v, str) and v)
        ax.set_title(f"{var}" + (f" ({scope})" if scope else "") + f"\n{rows.units.iloc[0]}", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def backtest_figure(scores: pd.DataFrame, history: pd.DataFrame, title: str = "") -> Figure:
    """The observed series, and from each forecast origin the model's 50%/90% bands and median beside the
    naive forecasts' medians."""
    origins = list(dict.fromkeys(scores.origin))
    fig, axes = _grid(len(origins), width=6.0, cols=min(3, len(origins)))
    hx = pd.to_datetime(history["end"]).values
    for ax, origin in zip(axes, origins):
        ax.plot(hx, history.observed, "o-", color="k", ms=3, lw=1, label="observed")
        rows = scores[(scores.origin == origin) & (scores.method == "model")]
        x = pd.to_datetime(rows["end"]).values
        ax.fill_between(x, rows.q05, rows.q95, color="#9ecae1", alpha=0.6, label="model 90%")
        ax.fill_between(x, rows.q25, rows.q75, color="#4292c6", alpha=0.6, label="model 50%")
        ax.plot(x, rows.q50, color="#08519c", label="model median")
        for method, colour in NAIVE_COLOURS.items():
            r = scores[(scores.origin == origin) & (scores.method == method)]
            ax.plot(pd.to_datetime(r["end"]).values, r.q50, "--", color=colour, label=method)
        ax.axvline(np.datetime64(origin), color="#999", lw=0.8)
        ax.set_title(f"fitted to {origin}", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
