"""Observed series (CSV) and the model's value for each observed row.

Columns (one row per observed number)::

    year | month, variable, profession, place, value, se, window_months, source, flag, note

- ``year``: a calendar year ``2019`` (January to December) or a financial year ``2018/19`` (April to March);
  or ``month``: ``2019-09``, the period ending with that month. Each row has exactly one of them.
- ``variable``: a stock at the end of the period (``headcount`` people, ``fte``, ``effective_fte``,
  ``demand_fte``, ``funded_posts``, ``gap_fte``, ``vacancies`` FTE), a flow over the ``window_months``
  (default 12) ending with it (``joiners``, ``leavers`` people; ``joiners.<source>``, ``leavers.<reason>``),
  or a rate (``leaver_rate``: leavers in the window ÷ mean of headcount at its start and end, a share;
  ``vacancy_rate``: vacancies ÷ funded posts at its end, a share). ``joiners`` and ``leavers`` leave out
  moves between places (``rotation_in``/``rotation_out``) and ``leavers`` leaves out in-service trainees
  completing their programme (they stay in the system).
- ``profession``, ``place`` (a provider, place, ICS or region): blank for all.
- ``se``: the standard error of ``value`` (its units); blank to use the calibration file's ``error``.
- ``source``, ``flag`` (e.g. ``S`` secondary, ``D`` derived, ``break``), ``note``: kept, not used.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..results.levels import area_mask
from ..scenario import ScenarioError

from .design import month_after, month_index

STOCKS = {"headcount": "people", "fte": "FTE", "effective_fte": "FTE", "demand_fte": "FTE",
          "funded_posts": "FTE", "gap_fte": "FTE", "vacancies": "FTE"}
FLOWS = {"joiners": "people", "leavers": "people"}
RATES = {"leaver_rate": "share of mean headcount", "vacancy_rate": "share of funded posts"}
OUT_OF_TOTAL = {"joiners": ("rotation_in",), "leavers": ("rotation_out", "completed_training")}
REQUIRED = ("variable", "value")
OPTIONAL = ("year", "month", "profession", "place", "se", "window_months", "source", "flag", "note")


def variables(sources, reasons) -> list[str]:
    return (list(STOCKS) + list(FLOWS) + [f"joiners.{s}" for s in sources] + [f"leavers.{r}" for r in reasons]
            + list(RATES))


@dataclass(frozen=True)
class Row:
    """One observed number and where the model's counterpart is read."""
    index: int              # the CSV line (header = line 1)
    variable: str
    profession: str
    place: str
    end: str                # YYYY-MM, the period's last month
    window: int             # months a flow or rate covers (stocks: 1)
    value: float
    se: float               # NaN: use the calibration's error model
    flag: str

    @property
    def kind(self) -> str:
        base = self.variable.split(".")[0]
        return "stock" if base in STOCKS else "rate" if base in RATES else "flow"

    @property
    def units(self) -> str:
        base = self.variable.split(".")[0]
        u = {**STOCKS, **RATES}.get(base) or f"people in {self.window} months"
        return u

    @property
    def series(self) -> tuple[str, str, str]:
        return (self.variable, self.profession, self.place)


def _period(year: str, month: str, line: int, label: str) -> str:
    if bool(year) == bool(month):
        raise ScenarioError([(f"line {line}", "give exactly one of year and month")], label)
    if month:
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
            raise ScenarioError([(f"line {line}: month", f"expected YYYY-MM, e.g. 2019-09; got {month!r}")], label)
        return month
    if re.fullmatch(r"[0-9]{4}", year):
        return f"{year}-12"
    m = re.fullmatch(r"([0-9]{4})/([0-9]{2})", year)
    if m and (int(m.group(1)) + 1) % 100 == int(m.group(2)):
        return f"{int(m.group(1)) + 1:04d}-03"
    raise ScenarioError([(f"line {line}: year", f"expected a calendar year (2019) or a financial year (2018/19); "
                                                f"got {year!r}")], label)


def read_observed(path: str | Path, label: str | None = None) -> list[Row]:
    """Rows of an observed-series CSV; ScenarioError naming the column or line of every problem."""
    p = Path(path)
    label = label or str(p)
    if not p.is_file():
        raise ScenarioError([("observed", f"file not found: {p}")], label)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, comment=None, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ScenarioError([("observed", f"{p}: not a readable CSV ({str(e).splitlines()[0]})")], label) from None
    cols = [c.strip() for c in df.columns]
    df.columns = cols
    optional = ", ".join(x for x in OPTIONAL if x not in ("year", "month"))
    problems = [(f"column {c!r}", f"required column is missing; the columns are {', '.join(REQUIRED)}, year or "
                                  f"month, and optionally {optional}") for c in REQUIRED if c not in cols]
    if "year" not in cols and "month" not in cols:
        problems.append(("column 'year' or 'month'", "required: each row's period (year 2019 or 2018/19, or "
                                                     "month 2019-09)"))
    problems += [(f"column {c!r}", f"unknown column; allowed: {', '.join(REQUIRED + OPTIONAL)}")
                 for c in cols if c not in REQUIRED + OPTIONAL]
    if problems:
        raise ScenarioError(problems, label)
    if df.empty:
        raise ScenarioError([("observed", f"{p} has no rows")], label)
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        line = i + 2
        get = lambda k: str(r.get(k, "")).strip()  # noqa: E731
        try:
            end = _period(get("year"), get("month"), line, label)
        except ScenarioError as e:
            problems += e.problems
            continue
        value, se, window = _number(get("value"), line, "value", problems), None, 12
        if get("se"):
            se = _number(get("se"), line, "se", problems)
            if se is not None and se <= 0:
                problems.append((f"line {line}: se", f"expected a standard error > 0; got {se:g}"))
        if get("window_months"):
            w = get("window_months")
            if not w.isdigit() or not 1 <= int(w) <= 120:
                problems.append((f"line {line}: window_months", f"expected a whole number of months 1 to 120; "
                                                                f"got {w!r}"))
            else:
                window = int(w)
        if value is None:
            continue
        rows.append(Row(line, get("variable"), get("profession"), get("place"), end, window, value,
                        math.nan if se is None else se, get("flag")))
    if problems:
        raise ScenarioError(problems, label)
    return rows


def _number(text: str, line: int, column: str, problems: list) -> float | None:
    try:
        v = float(text.replace(",", ""))
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        problems.append((f"line {line}: {column}", f"expected a number; got {text!r}"))
        return None
    return v


def check_rows(rows: list[Row], scenario, label: str, sources, reasons) -> None:
    """Every row names a variable, profession, place and period the scenario has."""
    allowed = variables(sources, reasons)
    places = {n for names in scenario.geography.names().values() for n in names}
    months = scenario.years * 12
    problems = []
    for r in rows:
        at = f"line {r.index}"
        if r.variable not in allowed:
            problems.append((f"{at}: variable", f"unknown variable {r.variable!r}; allowed: {', '.join(allowed)}"))
            continue
        if r.profession and r.profession not in scenario.professions:
            problems.append((f"{at}: profession", f"{r.profession!r} is not a profession of the scenario "
                                                  f"({', '.join(scenario.professions)}; blank for all)"))
        if r.place and r.place not in places:
            problems.append((f"{at}: place", f"{r.place!r} is not a provider, place, ICS or region of the scenario "
                                             f"({', '.join(sorted(places))}; blank for all)"))
        t = month_index(scenario.start, r.end)
        first = t - (r.window - 1 if r.kind != "stock" else 0)
        if not 0 <= t < months:
            problems.append((f"{at}: period", f"ends {r.end}, outside the scenario's months ({scenario.start} to "
                                              f"{month_after(scenario.start, months - 1)})"))
        elif first < 0:
            problems.append((f"{at}: period", f"the {r.window} months to {r.end} start before the scenario "
                                              f"({scenario.start})"))
    if problems:
        raise ScenarioError(problems, label)


def model_values(ds: xr.Dataset, rows: list[Row]) -> np.ndarray:
    """The model's counterpart of each row: (replicates, rows), or (1, rows) for the mean field."""
    rep = "replicate" in ds.dims
    def arr(name):
        a = ds[name].values
        return a if rep else a[None]
    hc = arr("headcount")
    joiners, leavers = arr("joiners"), arr("leavers")
    start = str(ds.time.values[0])[:7]
    profs = list(ds.profession.values)
    sources, reasons = list(ds.source.values), list(ds.reason.values)
    cache = {}
    out = np.empty((hc.shape[0], len(rows)))
    for j, r in enumerate(rows):
        p = [profs.index(r.profession)] if r.profession else slice(None)
        lmask = area_mask(ds, r.place) if r.place else slice(None)
        t = month_index(start, r.end)
        base, _, sub = r.variable.partition(".")

        def scoped(a, tt):
            return a[:, tt][:, p][:, :, lmask] if isinstance(p, list) else a[:, tt][:, :, lmask]

        if base in STOCKS:
            a = cache.setdefault(base, hc if base == "headcount" else arr(base))
            out[:, j] = scoped(a, t).sum(axis=(1, 2))
        elif base == "vacancy_rate":
            v = cache.setdefault("vacancies", arr("vacancies"))
            f = cache.setdefault("funded_posts", arr("funded_posts"))
            out[:, j] = scoped(v, t).sum(axis=(1, 2)) / scoped(f, t).sum(axis=(1, 2))
        else:
            t0 = t - r.window + 1
            flows = leavers if base in ("leavers", "leaver_rate") else joiners
            names = reasons if flows is leavers else sources
            keep = [names.index(sub)] if sub else [k for k, n in enumerate(names) if n not in OUT_OF_TOTAL[
                "leavers" if flows is leavers else "joiners"]]
            window = _window(flows, t0, t, keep, p, lmask)
            if base != "leaver_rate":
                out[:, j] = window
            else:
                end = scoped(hc, t).sum(axis=(1, 2))
                if t0 > 0:
                    begin = scoped(hc, t0 - 1).sum(axis=(1, 2))
                else:       # before the first month: undo its flows (stocks and flows balance exactly)
                    begin = scoped(hc, 0).sum(axis=(1, 2)) \
                        - _window(joiners, 0, 0, list(range(len(sources))), p, lmask) \
                        + _window(leavers, 0, 0, list(range(len(reasons))), p, lmask)
                out[:, j] = window / ((begin + end) / 2)
    return out


def _window(flows: np.ndarray, t0: int, t: int, keep: list[int], p, lmask) -> np.ndarray:
    """Flows (replicate, time, profession, place, source|reason) summed over months t0..t, the kept
    sources or reasons, and the scope."""
    a = flows[:, t0:t + 1][..., keep].sum(axis=-1)          # (replicate, months, profession, place)
    a = a[:, :, p] if isinstance(p, list) else a
    a = a[:, :, :, lmask]
    return a.sum(axis=(1, 2, 3))
