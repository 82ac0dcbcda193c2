"""Backtests: fit on the rows observed up to a month T, forecast the next observations of one series, and
score the forecasts against what happened, beside two naive forecasts.

Scores per forecast (lower CRPS and APE are better; a calibrated forecast's 50% and 90% bands hold the
observed value about 50% and 90% of the time):

- ``crps``: continuous ranked probability score, in the series' units (scoringrules; the model's from its
  posterior predictive draws, the naive forecasts' from their closed forms);
- ``ape``: absolute percentage error of the median, |median − observed| ÷ |observed|;
- ``in50``, ``in90``: whether the central 50% and 90% bands hold the observed value.

The naive forecasts use only the series' own values up to T: **last value** (a random walk: the last
value, spread by the standard deviation of year-on-year changes × √steps, normal) and **linear trend**
(least squares on time, with its Student-t prediction interval).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import scoringrules as sr
from scipy import stats

from .calibrate import QUANTILES, Calibration, CalibrationResult, calibrate
from .design import month_index

METHODS = ("model", "last value", "linear trend")


@dataclass
class BacktestResult:
    scores: pd.DataFrame         # one row per origin, forecast and method
    summary: pd.DataFrame        # per method (and per steps ahead): mean CRPS, MAPE, coverage
    history: pd.DataFrame        # the whole observed series
    fits: list[CalibrationResult]


def _series(cal: Calibration):
    bt = cal.spec.backtest
    ref = (bt.series.variable, bt.series.profession, bt.series.place)
    idx = [i for i, r in enumerate(cal.rows) if r.series == ref]
    return sorted(idx, key=lambda i: cal.rows[i].end)


def _years(a: str, b: str) -> float:
    return month_index(a, b) / 12.0


def naive_forecasts(ends: list[str], values: np.ndarray, targets: list[str]) -> dict[str, dict]:
    """Predictive distributions (scipy frozen) of the two naive forecasts at each target month."""
    x = np.array([_years(ends[0], e) for e in ends])
    xt = np.array([_years(ends[0], e) for e in targets])
    steps = np.arange(1, len(targets) + 1)
    sd_rw = np.std(np.diff(values), ddof=1)
    last = [stats.norm(values[-1], max(sd_rw, 1e-12) * np.sqrt(h)) for h in steps]
    n = len(x)
    b, a = np.polyfit(x, values, 1)
    resid = values - (a + b * x)
    s = np.sqrt(resid @ resid / (n - 2)) if n > 2 else 0.0
    sxx = ((x - x.mean()) ** 2).sum()
    trend = [stats.t(n - 2, loc=a + b * t, scale=max(s * np.sqrt(1 + 1 / n + (t - x.mean()) ** 2 / sxx), 1e-12))
             for t in xt]
    return {"last value": last, "linear trend": trend}


def _crps_frozen(dist, y: float) -> float:
    name = dist.dist.name
    if name == "norm":
        return float(sr.crps_normal(y, dist.mean(), dist.std()))
    df = dist.args[0]
    loc, scale = dist.kwds["loc"], dist.kwds["scale"]
    return float(sr.crps_t(y, df, loc, scale))


def score(y: float, q: dict[float, float], crps: float) -> dict:
    return {"crps": crps, "ape": abs(q[0.5] - y) / abs(y) if y else np.nan,
            "in50": q[0.25] <= y <= q[0.75], "in90": q[0.05] <= y <= q[0.95],
            **{f"q{int(p * 100):02d}": q[p] for p in QUANTILES}}


def run_backtest(cal: Calibration, progress: Callable | None = None) -> BacktestResult:
    """Fit at each origin and score the forecasts of the backtest series (see the module docstring)."""
    bt = cal.spec.backtest
    series = _series(cal)
    ends = [cal.rows[i].end for i in series]
    values = np.array([cal.rows[i].value for i in series])
    rows, fits = [], []
    for k, origin in enumerate(bt.origins):
        used = np.array([r.end <= origin for r in cal.rows])
        train = [j for j, e in enumerate(ends) if e <= origin]
        target = [j for j, e in enumerate(ends) if e > origin][:bt.horizon]
        result = calibrate(cal, used, progress=(lambda *a, k=k: progress(k, *a)) if progress else None)
        fits.append(result)
        naive = naive_forecasts([ends[j] for j in train], values[train], [ends[j] for j in target])
        for h, j in enumerate(target):
            y = values[j]
            draws = result.draws[:, series[j]]
            q = dict(zip(QUANTILES, np.quantile(draws, QUANTILES)))
            base = {"origin": origin, "end": ends[j], "steps_ahead": h + 1, "observed": y}
            rows.append({**base, "method": "model", **score(y, q, float(sr.crps_ensemble(y, draws)))})
            for method, dists in naive.items():
                d = dists[h]
                q = {p: float(d.ppf(p)) for p in QUANTILES}
                rows.append({**base, "method": method, **score(y, q, _crps_frozen(d, y))})
    scores = pd.DataFrame(rows)
    history = pd.DataFrame({"end": ends, "observed": values})
    return BacktestResult(scores, summarise(scores), history, fits)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean CRPS, mean absolute percentage error and band coverage per method, over all forecasts and
    per steps ahead."""
    def agg(df):
        return pd.Series({"forecasts": len(df), "crps": df.crps.mean(), "mape": df.ape.mean(),
                          "coverage50": df.in50.mean(), "coverage90": df.in90.mean()})

    overall = scores.groupby("method", sort=False).apply(agg, include_groups=False).reset_index()
    overall.insert(1, "steps_ahead", "all")
    by_step = scores.groupby(["method", "steps_ahead"], sort=False).apply(agg, include_groups=False).reset_index()
    by_step["steps_ahead"] = by_step.steps_ahead.astype(str)
    out = pd.concat([overall, by_step], ignore_index=True)
    out["method"] = pd.Categorical(out.method, METHODS, ordered=True)
    return out.sort_values(["steps_ahead", "method"], key=lambda c: c if c.name == "method" else
                           c.map(lambda s: -1 if s == "all" else int(s))).reset_index(drop=True)


def verdict(summary: pd.DataFrame, units: str) -> str:
    """One plain sentence: does the model beat the naive forecasts on CRPS (and MAPE)?"""
    s = summary[summary.steps_ahead == "all"].set_index("method")
    m = s.loc["model"]
    parts = []
    for naive in ("last value", "linear trend"):
        n = s.loc[naive]
        word = "beats" if m.crps < n.crps else "does not beat"
        parts.append(f"{word} the {naive} forecast (CRPS {m.crps:,.4g} vs {n.crps:,.4g} {units}; "
                     f"MAPE {m.mape:.1%} vs {n.mape:.1%})")
    return "The model " + "; it ".join(parts) + (f", over {int(m.forecasts)} forecasts. Its 50% and 90% bands "
                                                 f"held {m.coverage50:.0%} and {m.coverage90:.0%} of the outcomes.")
