"""Uncertain inputs: a dotted path into the scenario, a distribution, and how a drawn number changes it.

Sensitivity files (``inputs:``) and calibration files (``parameters:``) declare them alike::

    professions.registered_nurse.leave_rate: {low: 0.07, high: 0.11}          # uniform, replaces the value
    programmes.nursing_degree.attrition: {dist: normal, mean: 0.25, sd: 0.03, low: 0, high: 1}
    professions.registered_nurse.recruitment.international: {low: 0.5, high: 1.5, scale: true}
    professions.consultant.recruitment.time_to_hire_months: {low: 2, high: 9, integer: true}

``scale: true`` multiplies what is at the path (a number, or every year of a year table, so a table keeps
its shape) by the drawn number; otherwise the drawn number replaces it. ``integer: true`` rounds it (the
scenario format wants whole numbers there). Paths run through the scenario as written in YAML (lists by
index, ``geography.places.0.population``); every step must exist, so a typo is named, not ignored.
"""
from __future__ import annotations

import copy
import math
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from .. import runs
from ..scenario import ScenarioError
from ..scenario.errors import pydantic_message
from ..scenario.reading import read_yaml
from ..scenario import scenario_dict

DEFAULT_SCENARIO = Path(str(files("sim") / "data" / "baseline_ics.yaml"))
TAIL = 1e-3      # unbounded distributions are cut at their 0.1% and 99.9% points where a range is needed

# units of the fields planners usually vary (the scenario format's own words); others: "as in the scenario"
UNITS = {
    "leave_rate": "share per year", "rotation_rate": "share per year", "sickness_absence": "share of FTE",
    "international": "people per year", "return_to_practice": "people per year", "domestic": "people per year",
    "time_to_hire_months": "months", "capacity_per_month": "hires per month", "attrition": "share of starters",
    "intake": "places per year", "fill_rate": "share of places", "local_employment": "share of completers",
    "fte_per_head": "FTE per person", "headcount": "people", "cost_per_fte": "£ per FTE per year",
    "vacancy_rate": "share of funded posts", "fte_per_1000_population": "FTE per 1,000 population",
    "growth": "share per year", "mean": "years", "cover": "share of vacant FTE", "premium": "share of pay",
    "pay_growth": "share per year", "budget_growth": "share per year", "years": "years",
}


YearMonth = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="a month, YYYY-MM")]


def month_index(start: str, when: str) -> int:
    """Months from ``start`` to ``when`` (both YYYY-MM)."""
    y0, m0 = map(int, start[:7].split("-"))
    y1, m1 = map(int, when[:7].split("-"))
    return (y1 - y0) * 12 + (m1 - m0)


def month_after(start: str, months: int) -> str:
    """The month ``months`` after ``start`` (YYYY-MM)."""
    y, m = map(int, start[:7].split("-"))
    k = y * 12 + (m - 1) + months
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(Model):
    """One uncertain number: its distribution and how it changes the scenario."""
    dist: Literal["uniform", "triangular", "normal", "lognormal", "loguniform"] = "uniform"
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sd_log: float | None = None
    scale: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _complete(self):
        need = {"uniform": ("low", "high"), "loguniform": ("low", "high"), "triangular": ("low", "mode", "high"),
                "normal": ("mean", "sd"), "lognormal": ("median", "sd_log")}[self.dist]
        allowed = set(need) | ({"low", "high"} if self.dist == "normal" else set())
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(need)}; missing {', '.join(missing)}")
        extra = [k for k in ("low", "high", "mode", "mean", "sd", "median", "sd_log")
                 if getattr(self, k) is not None and k not in allowed]
        if extra:
            raise ValueError(f"a {self.dist} distribution takes {', '.join(sorted(allowed))}; not {', '.join(extra)}")
        for k in ("low", "high", "mode", "mean", "sd", "median", "sd_log"):
            v = getattr(self, k)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{k} must be a finite number; got {v}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.dist == "triangular" and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode:g}) must lie between low and high")
        if self.dist == "loguniform" and self.low <= 0:
            raise ValueError(f"a loguniform distribution needs low > 0; got {self.low:g}")
        for k in ("sd", "sd_log", "median"):
            v = getattr(self, k)
            if v is not None and v <= 0:
                raise ValueError(f"{k} must be above 0; got {v:g}")
        if self.integer and self.dist in ("uniform", "loguniform") and math.floor(self.high) < math.ceil(self.low):
            raise ValueError(f"no whole number lies between low ({self.low:g}) and high ({self.high:g})")
        return self

    def frozen(self):
        """The scipy.stats distribution (whole numbers: a continuous one rounded, so each of
        low..high is equally likely for a uniform)."""
        lo, hi = self.low, self.high
        if self.integer and self.dist == "uniform":
            lo, hi = math.ceil(lo) - 0.5, math.floor(hi) + 0.5 - 1e-9
        if self.dist == "uniform":
            return stats.uniform(lo, hi - lo)
        if self.dist == "loguniform":
            return stats.loguniform(lo, hi)
        if self.dist == "triangular":
            return stats.triang((self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        if self.dist == "normal":
            if lo is None and hi is None:
                return stats.norm(self.mean, self.sd)
            a = -np.inf if lo is None else (lo - self.mean) / self.sd
            b = np.inf if hi is None else (hi - self.mean) / self.sd
            return stats.truncnorm(a, b, loc=self.mean, scale=self.sd)
        return stats.lognorm(self.sd_log, scale=self.median)

    def ppf(self, u) -> np.ndarray:
        """Values at probabilities ``u`` (0 and 1 are cut to the 0.1% and 99.9% points if unbounded)."""
        f = self.frozen()
        u = np.asarray(u, float)
        lo, hi = f.support()
        u = np.where((u <= 0) & ~np.isfinite(lo), TAIL, np.where((u >= 1) & ~np.isfinite(hi), 1 - TAIL, u))
        return f.ppf(u)

    def bounds(self) -> tuple[float, float]:
        """The range a fit searches: the support, cut to the 0.1% and 99.9% points where unbounded."""
        return float(self.ppf(0.0)), float(self.ppf(1.0))

    def describe(self) -> str:
        how = " × base value" if self.scale else ""
        whole = ", whole numbers" if self.integer else ""
        if self.dist in ("uniform", "loguniform"):
            return f"{self.dist} {self.low:g} to {self.high:g}{how}{whole}"
        if self.dist == "triangular":
            return f"triangular {self.low:g}, {self.mode:g}, {self.high:g}{how}{whole}"
        if self.dist == "normal":
            lo = "-∞" if self.low is None else f"{self.low:g}"
            hi = "∞" if self.high is None else f"{self.high:g}"
            cut = "" if self.low is None and self.high is None else f" cut to [{lo}, {hi}]"
            return f"normal mean {self.mean:g} sd {self.sd:g}{cut}{how}{whole}"
        return f"lognormal median {self.median:g} sd_log {self.sd_log:g}{how}{whole}"



def unit_of(path: str, dist: Distribution) -> str:
    if dist.scale:
        return "× base value"
    keys = [k for k in path.split(".") if not k.isdigit()]
    if len(keys) >= 2 and keys[-2] == "leave_rate_by_age":
        return "hazard multiplier"
    return UNITS.get(keys[-1], "as in the scenario")


# ---- files ------------------------------------------------------------------------------------------------

def read_file(path: str | Path, what: str) -> dict:
    """A YAML mapping from ``path``, read within the input limits (``sim.scenario.reading``); ScenarioError
    naming the file if it is missing, unreadable or not a mapping."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError([("", f"a {what} file is a mapping of keys (name, scenario, …)")], str(path))
    return data


def load_study(source, model, what: str):
    """(label, validated spec, folder its paths are relative to, base scenario, its resolved data) of a
    study file (or dict): the first steps every evidence command shares."""
    is_file = isinstance(source, (str, Path))
    label = str(source) if is_file else what
    spec = validate(model, read_file(source, what) if is_file else source, label)
    base = Path(source).absolute().parent if is_file else Path.cwd()
    scenario, sdata = base_scenario(resolve_path(spec.scenario, base, "scenario", label, DEFAULT_SCENARIO), label)
    return label, spec, base, scenario, sdata


def validate(model, data: dict, label: str):
    """``model.model_validate(data)``, or ScenarioError with one (field, message) per problem."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            where = ".".join(str(x) for x in err["loc"])
            problems.append((where, pydantic_message(err)))
        raise ScenarioError(problems, label) from None


def resolve_path(name: str, base: Path, field: str, label: str, default: Path | None = None) -> Path:
    """A file named in a file, relative to that file ('default': the embedded baseline scenario)."""
    if name == "default" and default is not None:
        return default
    p = Path(name) if Path(name).is_absolute() else base / name
    if not p.is_file():
        raise ScenarioError([(field, f"file not found: {p}")], label)
    return p


def base_scenario(path: Path, label: str):
    """The validated base scenario and its resolved data (levers and includes expanded)."""
    try:
        scenario = runs.load_scenario(path)
    except ScenarioError as e:
        raise ScenarioError([("scenario", line) for line in e.lines()], label) from None
    return scenario, scenario_dict(scenario)


# ---- dotted paths -----------------------------------------------------------------------------------------

def _walk(data, path: str, field: str, label: str):
    """(container, key) of the last step of ``path``; every step must exist."""
    keys = path.split(".")
    node = data
    for i, k in enumerate(keys):
        where = ".".join(keys[:i + 1])
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ScenarioError([(field, f"{where}: expected a list index 0 to {len(node) - 1}")], label)
            k = int(k)
        elif isinstance(node, dict):
            if k not in node:
                have = ", ".join(map(str, node)) or "none"
                raise ScenarioError([(field, f"{where}: no such field in the scenario; it has {have}")], label)
        else:
            raise ScenarioError([(field, f"{where}: {'.'.join(keys[:i])} is a {type(node).__name__} value, "
                                         f"not a section")], label)
        if i == len(keys) - 1:
            return node, k
        node = node[k]


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_paths(data: dict, inputs: dict[str, Distribution], section: str, label: str) -> None:
    """Every input's path exists and holds what its distribution can change; all problems at once."""
    problems = []
    for path, d in inputs.items():
        field = f"{section}.{path}"
        try:
            node, key = _walk(data, path, field, label)
        except ScenarioError as e:
            problems += e.problems
            continue
        value = node[key]
        table = isinstance(value, dict) and value and all(_is_number(x) for x in value.values())
        if d.scale and not (_is_number(value) or table):
            problems.append((field, f"holds {type(value).__name__} {value!r}; scale: true multiplies a number or "
                                    f"a year table"))
        elif not d.scale and isinstance(value, dict):
            problems.append((field, "is a year table (or a mapping); add scale: true to scale it as a whole"))
        elif not d.scale and not (_is_number(value) or value is None):
            problems.append((field, f"holds {type(value).__name__} {value!r}; only a number can be replaced"))
    if problems:
        raise ScenarioError(problems, label)


def _changed(value, x: float, d: Distribution):
    def one(v):
        out = v * x if d.scale else x
        return int(math.floor(out + 0.5)) if d.integer else float(out)
    if isinstance(value, dict):
        return {k: one(v) for k, v in value.items()}
    return one(value)


def apply(data: dict, inputs: dict[str, Distribution], values) -> dict:
    """A copy of the scenario data with each input's number applied at its path."""
    data = copy.deepcopy(data)
    for (path, d), x in zip(inputs.items(), values):
        node, key = _walk(data, path, path, "scenario")
        node[key] = _changed(node[key], float(x), d)
    return data


def scenario_at(data: dict, inputs: dict[str, Distribution], values, name: str | None = None):
    """The validated scenario at one point of the inputs (ScenarioError if the point is not a valid plan)."""
    return runs.load_scenario(apply(data, inputs, values), name=name)


def check_ranges(data: dict, inputs: dict[str, Distribution], section: str, label: str) -> None:
    """Each input at its extremes (the others at their medians) still makes a valid scenario."""
    medians = [float(d.ppf(0.5)) for d in inputs.values()]
    problems = []
    for i, (path, d) in enumerate(inputs.items()):
        for end, u in (("low end", 0.0), ("high end", 1.0)):
            x = list(medians)
            x[i] = float(d.ppf(u))
            try:
                scenario_at(data, inputs, x)
            except ScenarioError as e:
                why = "; ".join(f"{p}: {m}" for p, m in e.problems)
                problems.append((f"{section}.{path}", f"the {end} of the range ({x[i]:g}) makes an invalid "
                                                      f"scenario: {why}"))
                break
    if problems:
        raise ScenarioError(problems, label)
