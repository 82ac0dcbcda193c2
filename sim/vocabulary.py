"""The words every layer shares, defined once: months (``YYYY-MM``), output steps, plan years, levels of
the geography, engine names, the names of the default scenario, the shipped files and an experiment's files, and the package's
name on the package index.

It sits below every other module of ``sim`` (the import-linter contracts in pyproject.toml keep it
there), so anything may use it and it uses nothing of ``sim``. Months are counted as whole numbers:
``absolute_month("2026-04") = 2026 * 12 + 3``, so month arithmetic is integer arithmetic.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

# --- months --------------------------------------------------------------------------------------------
YEAR_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")      # a month as written in files: YYYY-MM
APRIL = 4                                                    # a plan year (and a year table's value) starts in April


def parse_month(text: str) -> tuple[int, int]:
    """(year, calendar month 1-12) of a ``YYYY-MM`` month (already validated)."""
    year, month = text.split("-")
    return int(year), int(month)


def absolute_month(text: str) -> int:
    """Months since January of year 0: the month as one whole number."""
    year, month = parse_month(text)
    return year * 12 + (month - 1)


def month_text(absolute: int) -> str:
    """``YYYY-MM`` of a month given by :func:`absolute_month`."""
    return f"{absolute // 12:04d}-{absolute % 12 + 1:02d}"


def month_index(start: str, when: str) -> int:
    """Months from ``start`` to ``when`` (both YYYY-MM): 0 for the first month of a run."""
    return absolute_month(when) - absolute_month(start)


def last_month(start: str, months: int) -> str:
    """``YYYY-MM`` of the last month of a run of ``months`` months from ``start``."""
    return month_text(absolute_month(start) + months - 1)


def calendar_months(start: str, months: int) -> np.ndarray:
    """[months] calendar month (1 = January … 12) of each month of a run from ``start``."""
    m0 = parse_month(start)[1]
    return (m0 - 1 + np.arange(months)) % 12 + 1


def month_dates(start: str, months: int) -> np.ndarray:
    """[months] the first day of each month of a run from ``start`` (datetime64[ns], as xarray stores time)."""
    first = np.datetime64(start, "M")
    return np.arange(first, first + months).astype("datetime64[ns]")


# --- output steps: what ``--every`` and an experiment's ``every`` accept --------------------------------------
OUTPUT_STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}
OUTPUT_STEPS = tuple(OUTPUT_STEP_MONTHS)
DEFAULT_OUTPUT_STEP = "month"


def step_of(attrs) -> str:
    """The output step of a results dataset (its attribute ``time_step``; month if absent)."""
    return attrs.get("time_step", DEFAULT_OUTPUT_STEP)


def periods_per_year(step: str) -> int:
    return 12 // OUTPUT_STEP_MONTHS[step]


def period_last_month(first: np.datetime64, step: str) -> np.datetime64:
    """The last month of the output period that starts in month ``first``."""
    return np.datetime64(first, "M") + OUTPUT_STEP_MONTHS[step] - 1


def plan_year_label(first: np.datetime64) -> str:
    """``2026/27`` for the twelve months from April 2026 (a plan year); ``2026-09`` for twelve months
    that do not start in April (a run that starts in another month)."""
    month = np.datetime64(first, "M")
    year, calendar = parse_month(str(month))
    return f"{year}/{(year + 1) % 100:02d}" if calendar == APRIL else str(month)


# --- levels of the geography: the output level (``--level``, the results' area dimension) -------------------
LEVELS = ("provider", "place", "ics", "region", "nation")      # from the employer up to the whole nation
DEFAULT_LEVEL = "place"


def levels_above(level: str) -> tuple[str, ...]:
    """The levels above ``level`` up to the region (the results' coordinates on the area dimension)."""
    return LEVELS[LEVELS.index(level) + 1:LEVELS.index("nation")]


# --- engines -----------------------------------------------------------------------------------------------
ENGINES = ("kernel", "agents")           # the Monte Carlo engines (``sim.expected`` is the mean field)
DEFAULT_ENGINE = "kernel"

# --- files -------------------------------------------------------------------------------------------------
DATA = Path(__file__).resolve().parent / "data"       # shipped with the package (pyproject's package-data)
DEFAULT_SCENARIO = DATA / "baseline_ics.yaml"        # the embedded baseline ICS
SHIPPED_CONFIGS = DATA / "configs"                   # the repository's configs/ (a link there; copies in a wheel)
SHIPPED_PLANS = SHIPPED_CONFIGS / "levers"           # the action plans: ``--plan train`` finds train.yaml here
SHIPPED_EXPERIMENTS = DATA / "experiments"           # the repository's experiments/
RESULTS_FOLDER = Path("results")        # default home of outputs, relative to the working folder
STORE = "results.zarr"                  # an experiment's results store, in its output folder
MANIFEST = "manifest.json"              # the finished blocks of that store
COMPARISON = "comparison.csv"           # the experiment's comparison table, beside the store


# --- the package -------------------------------------------------------------------------------------------
# Its name on the package index: ``pip install wfsim-ics`` (``wfsim`` there is another project). The import
# package is ``sim`` and the command ``wfsim``.
DISTRIBUTION = "wfsim-ics"


def package_version() -> str:
    """The installed version of wfsim (``wfsim --version``, the results' ``wfsim_version``); ``0+unknown``
    when running from a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path, not installed
        return "0+unknown"
