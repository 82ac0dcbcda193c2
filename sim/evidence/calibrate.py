"""Calibration: fit chosen scenario parameters to observed series, first on the mean field, then as a
posterior from Monte Carlo runs (ABC-SMC, see ``abc.py``).

A calibration file::

    name: england_nurses
    scenario: england_nurses.yaml              # relative to this file
    observed: england_nurses.csv               # the observed series (see observed.py for the columns)
    seed: 1
    parameters:                                # priors; same forms as a sensitivity file's inputs
      professions.nurse_hv.leave_rate: {low: 0.04, high: 0.12}
      professions.nurse_hv.recruitment.domestic: {low: 15000, high: 45000}
    error: {relative: 0.05}                    # se of rows without one: 5% of the value; or a prior to fit it
    abc: {particles: 300, max_generations: 10}
    backtest: {series: {variable: leavers, profession: nurse_hv}, origins: [2014-09], horizon: 4}

The observation model: observed = one Monte Carlo run of the scenario + Gaussian error with the row's
standard error. The mean-field fit (scipy's least squares on ``sim.expected``) centres ABC's first
proposal; the posterior itself comes from Monte Carlo runs only.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.optimize import least_squares

from .. import runs
from ..scenario import ScenarioError

from .abc import Posterior, abc_smc, weighted_quantile
from .design import (Distribution, Model, YearMonth, apply, check_paths, check_ranges, load_study, month_index,
                     resolve_path, scenario_at, unit_of)
from .observed import Row, check_rows, model_values, read_observed

ERROR = "error.relative"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class ErrorModel(Model):
    relative: Annotated[float, Field(gt=0, le=10)] | Distribution = Field(
        0.05, description="standard error of rows without an se, as a share of the value; a distribution fits it")


class ABCSettings(Model):
    particles: Annotated[int, Field(ge=20, le=100_000, strict=True)] = 300
    max_generations: Annotated[int, Field(ge=1, le=100, strict=True)] = 10
    ess_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.5
    runs_per_particle: Annotated[int, Field(ge=1, le=1000, strict=True)] = 1
    check_replicates: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 100


class SeriesRef(Model):
    variable: str
    profession: str = ""
    place: str = ""


class BacktestSpec(Model):
    series: SeriesRef
    origins: list[YearMonth] = Field(min_length=1, description="fit on rows ending at or before each month")
    horizon: Annotated[int, Field(ge=1, le=50, strict=True)] = 3


class CalibrationSpec(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    scenario: str = "default"
    observed: str
    seed: Annotated[int, Field(ge=0, strict=True)] = 0
    parameters: dict[str, Distribution] = Field(min_length=1)
    error: ErrorModel = ErrorModel()
    abc: ABCSettings = ABCSettings()
    backtest: BacktestSpec | None = None


@dataclass(frozen=True)
class Calibration:
    spec: CalibrationSpec
    path: Path | None
    scenario: object
    data: dict
    rows: tuple[Row, ...]
    observed_path: Path

    @property
    def fitted_error(self) -> bool:
        return isinstance(self.spec.error.relative, Distribution)

    @property
    def names(self) -> list[str]:
        return list(self.spec.parameters) + ([ERROR] if self.fitted_error else [])

    @property
    def dists(self) -> list[Distribution]:
        return list(self.spec.parameters.values()) + ([self.spec.error.relative] if self.fitted_error else [])

    @property
    def years(self) -> int:
        """Runs stop at the last observed month (engines are prefix-consistent)."""
        last = max(month_index(self.scenario.start, r.end) for r in self.rows)
        return math.ceil((last + 1) / 12)


def load_calibration(source) -> Calibration:
    """Validate a calibration file (or dict), its scenario and its observed CSV; ScenarioError lists problems."""
    label, spec, base, scenario, sdata = load_study(source, CalibrationSpec, "calibration")
    observed = resolve_path(spec.observed, base, "observed", label)
    rows = read_observed(observed, f"{label}: observed {observed.name}")
    names = runs.expected(scenario, years=1)          # the results' joiner sources and leaver reasons
    check_rows(rows, scenario, f"{label}: observed {observed.name}", list(names.source.values),
               list(names.reason.values))
    if ERROR in spec.parameters:
        raise ScenarioError([(f"parameters.{ERROR}", "the error scale is set under error: relative")], label)
    check_paths(sdata, spec.parameters, "parameters", label)
    check_ranges(sdata, spec.parameters, "parameters", label)
    whole = [d.bounds() for d in spec.parameters.values() if d.integer]
    if math.prod(math.floor(hi) - math.ceil(lo) + 1 for lo, hi in whole) > 50:
        raise ScenarioError([("parameters", "the mean-field fit searches every combination of whole-number "
                                            "parameters: more than 50 here; narrow their ranges")], label)
    if spec.backtest is not None:
        _check_backtest(spec.backtest, rows, label)
    return Calibration(spec, Path(source) if isinstance(source, (str, Path)) else None, scenario, sdata,
                       tuple(rows), observed)


def _check_backtest(bt: BacktestSpec, rows, label: str) -> None:
    ref = (bt.series.variable, bt.series.profession, bt.series.place)
    series = [r for r in rows if r.series == ref]
    if not series:
        have = sorted({" / ".join(x or "(all)" for x in r.series) for r in rows})
        raise ScenarioError([("backtest.series", f"no observed rows for {' / '.join(x or '(all)' for x in ref)}; "
                                                 f"the CSV has {', '.join(have)}")], label)
    for i, origin in enumerate(bt.origins):
        before = [r for r in series if r.end <= origin]
        after = [r for r in series if r.end > origin]
        if len(before) < 4:     # a linear trend's forecast needs 2 degrees of freedom for a finite CRPS
            raise ScenarioError([(f"backtest.origins.{i}", f"needs at least 4 observations of the series up to "
                                                           f"{origin} (for the naive forecasts); found {len(before)}")],
                                label)
        if not after:
            raise ScenarioError([(f"backtest.origins.{i}", f"no observation of the series after {origin} to score")],
                                label)


class Prior:
    """The parameters' joint prior (independent), for ABC."""

    def __init__(self, dists: list[Distribution]):
        self.frozen = [d.frozen() for d in dists]
        support = np.array([f.support() for f in self.frozen], float)
        self.lo, self.hi = support[:, 0], support[:, 1]
        self.scale = np.array([b - a for a, b in (d.bounds() for d in dists)])

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        out = np.zeros(len(theta))
        for j, f in enumerate(self.frozen):
            out += f.logpdf(theta[:, j])
        return np.where(self.inside(theta), out, -np.inf)

    def inside(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        return np.all((theta >= self.lo) & (theta <= self.hi), axis=1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.column_stack([f.rvs(size=n, random_state=rng) for f in self.frozen])


@dataclass
class MeanFieldFit:
    theta: np.ndarray
    cov: np.ndarray
    values: np.ndarray          # the mean field at theta, every row
    cost: float                 # sum of squared standardised residuals of the rows used
    evaluations: int


@dataclass
class CalibrationResult:
    calibration: Calibration
    used: np.ndarray            # rows the fit used
    mean_field: MeanFieldFit
    posterior: Posterior
    parameters: pd.DataFrame
    fit: pd.DataFrame
    draws: np.ndarray           # posterior predictive draws (draws, rows): a run plus observation error
    scenario_data: dict         # the calibrated scenario (posterior medians)


def _se(cal: Calibration, rows, relative) -> np.ndarray:
    """Standard error of each row: its own, or ``relative`` × |value|."""
    y = np.array([r.value for r in rows])
    own = np.array([r.se for r in rows])
    return np.where(np.isnan(own), np.asarray(relative)[..., None] * np.maximum(np.abs(y), 1e-9), own)


def _mean_field(cal: Calibration, used: np.ndarray, evaluate: Callable) -> MeanFieldFit:
    """Least squares on the mean field (scipy), whole-number parameters by enumeration; the Laplace covariance."""
    dists = list(cal.spec.parameters.values())
    whole = [j for j, d in enumerate(dists) if d.integer]
    cont = [j for j, d in enumerate(dists) if not d.integer]
    rows = [r for r, u in zip(cal.rows, used) if u]
    y = np.array([r.value for r in rows])
    rel0 = float(cal.spec.error.relative.ppf(0.5)) if cal.fitted_error else cal.spec.error.relative
    se = _se(cal, rows, rel0)
    count = [0]

    def values(x):
        count[0] += 1
        return evaluate(x)

    def residual(xc, xi):
        x = np.empty(len(dists))
        x[cont], x[whole] = xc, xi
        return (values(x)[used] - y) / se

    medians = np.array([d.ppf(0.5) for d in dists])
    bounds = np.array([d.bounds() for d in dists])
    choices = [range(math.ceil(bounds[j, 0]), math.floor(bounds[j, 1]) + 1) for j in whole]
    best = None
    for xi in itertools.product(*choices):
        xi = np.array(xi, float)
        if cont:
            lo, hi = bounds[cont, 0], bounds[cont, 1]
            r = least_squares(residual, np.clip(medians[cont], lo, hi), bounds=(lo, hi), args=(xi,),
                              x_scale=(hi - lo) / 4, method="trf")
            cost, xc, jac = 2 * r.cost, r.x, r.jac
        else:
            res = residual(np.empty(0), xi)
            cost, xc, jac = float(res @ res), np.empty(0), np.zeros((len(y), 0))
        if best is None or cost < best[0]:
            best = (cost, xc, xi, jac)
    cost, xc, xi, jac = best
    theta = np.empty(len(dists))
    theta[cont], theta[whole] = xc, xi
    cov = np.zeros((len(dists), len(dists)))
    if cont:
        sub = np.linalg.pinv(jac.T @ jac)
        width = bounds[cont, 1] - bounds[cont, 0]
        sd = np.sqrt(np.clip(np.diag(sub), (width * 1e-4) ** 2, (width / 2) ** 2))   # within the prior's width
        corr = np.clip(sub / np.sqrt(np.outer(np.diag(sub), np.diag(sub)).clip(1e-300)), -0.99, 0.99)
        np.fill_diagonal(corr, 1.0)
        cov[np.ix_(cont, cont)] = corr * np.outer(sd, sd)
    for j in whole:
        cov[j, j] = 1.0
    mf = values(theta)
    if cal.fitted_error:        # the error scale: root mean square of the relative residuals (its profile MLE)
        own = np.isnan([r.se for r in rows])
        rel = ((mf[used] - y) / np.maximum(np.abs(y), 1e-9))[own]
        lo, hi = cal.spec.error.relative.bounds()
        sigma = float(np.clip(np.sqrt(np.mean(rel ** 2)) if len(rel) else rel0, lo, hi))
        theta = np.append(theta, sigma)
        cov = np.pad(cov, ((0, 1), (0, 1)))
        cov[-1, -1] = (sigma ** 2) / max(2 * len(rel), 1)
    return MeanFieldFit(theta, cov, mf, cost, count[0])


def calibrate(cal: Calibration, used: np.ndarray | None = None, progress: Callable | None = None,
              draws: int = 2000) -> CalibrationResult:
    """Fit the parameters to the rows marked ``used`` (default all) and predict every row.

    ``progress(stage, done, total, note)`` reports the mean-field evaluations and each ABC simulation.
    """
    used = np.ones(len(cal.rows), bool) if used is None else np.asarray(used, bool)
    k = len(cal.spec.parameters)
    params = cal.spec.parameters
    rows = list(cal.rows)
    y = np.array([r.value for r in rows])
    years = cal.years

    def mean_field_values(x):
        ds = runs.expected(scenario_at(cal.data, params, x[:k]), years=years)
        if progress:
            progress("mean field", None, None, "")
        return model_values(ds, rows)[0]

    mf = _mean_field(cal, used, mean_field_values)
    prior = Prior(cal.dists)
    rng = np.random.default_rng(np.random.SeedSequence([cal.spec.seed, 14]))
    settings = cal.spec.abc
    total = settings.particles * settings.max_generations
    done = [0]

    def simulate(theta, seeds, generation):
        out = np.empty((len(theta), settings.runs_per_particle, len(rows)))
        for i, (x, s) in enumerate(zip(theta, seeds)):
            ds = runs.run(scenario_at(cal.data, params, x[:k]), replicates=settings.runs_per_particle, seed=int(s),
                         years=years)
            out[i] = model_values(ds, rows)
            done[0] += 1
            if progress:
                progress("abc", done[0], total, f"generation {generation + 1}")
        return out

    def relative(theta):
        return theta[:, -1] if cal.fitted_error else np.full(len(theta), cal.spec.error.relative)

    yu = y[used]
    urows = [r for r, u in zip(rows, used) if u]

    def loglik(theta, sims, eps):
        """The observation-error log density tempered by 1/ε²: for a fixed error this is the Gaussian kernel
        of width ε × se (up to a constant); tempered as a whole, a fitted error scale keeps its balance
        between fit and spread at every ε."""
        se = _se(cal, urows, relative(theta))[:, None, :]                    # (particles, 1, rows used)
        r = (sims[:, :, used] - yu) / se
        return (-0.5 * np.sum(r ** 2, axis=2) - np.sum(np.log(se), axis=2)) / eps ** 2

    post = abc_smc(prior, simulate, loglik, particles=settings.particles, rng=rng, start=(mf.theta, mf.cov),
                   max_generations=settings.max_generations, ess_fraction=settings.ess_fraction,
                   progress=(lambda g, eps, e: progress("generation", g, settings.max_generations,
                                                        f"tolerance {eps:.3g}, effective sample {e:.0f}"))
                   if progress else None)
    particle, run = post.resample(draws, rng)
    sims = post.sims[particle, run]
    own = np.array([r.se for r in rows])
    se = np.where(np.isnan(own), relative(post.theta[particle])[:, None] * np.abs(sims), own)
    predictive = sims + rng.standard_normal(sims.shape) * se
    medians = post.quantile([0.5])[0]
    calibrated = apply(cal.data, params, medians[:k])
    table = _parameter_table(cal, mf, post)
    rel = medians[-1] if cal.fitted_error else cal.spec.error.relative
    return CalibrationResult(cal, used, mf, post, table, _fit_table(cal, used, mf, predictive, rel), predictive,
                             calibrated)


def _parameter_table(cal: Calibration, mf: MeanFieldFit, post: Posterior) -> pd.DataFrame:
    q = post.quantile(QUANTILES)
    mean = post.weights @ post.theta
    sd = np.sqrt(post.weights @ (post.theta - mean) ** 2)
    rows = []
    for j, (name, d) in enumerate(zip(cal.names, cal.dists)):
        rows.append({"parameter": name, "units": "share of the value" if name == ERROR else unit_of(name, d),
                     "prior": d.describe(), "mean_field": mf.theta[j], "mean_field_sd": math.sqrt(mf.cov[j, j]),
                     "posterior_median": q[2, j], "ci90_low": q[0, j], "ci90_high": q[4, j],
                     "posterior_mean": mean[j], "posterior_sd": sd[j]})
    return pd.DataFrame(rows)


def _fit_table(cal: Calibration, used, mf: MeanFieldFit, predictive: np.ndarray, rel: float) -> pd.DataFrame:
    q = np.quantile(predictive, QUANTILES, axis=0)
    se = _se(cal, cal.rows, rel)
    return pd.DataFrame({
        "line": [r.index for r in cal.rows], "variable": [r.variable for r in cal.rows],
        "profession": [r.profession for r in cal.rows], "place": [r.place for r in cal.rows],
        "end": [r.end for r in cal.rows], "units": [r.units for r in cal.rows], "flag": [r.flag for r in cal.rows],
        "observed": [r.value for r in cal.rows], "se": se, "used": used, "mean_field": mf.values,
        **{f"q{int(p * 100):02d}": q[i] for i, p in enumerate(QUANTILES)},
    })


def check_fit(result: CalibrationResult, replicates: int | None = None, seed: int = 1) -> pd.DataFrame:
    """Run the calibrated scenario (Monte Carlo) and compare it with every observed row: does the fitted
    scenario reproduce the series? z = (observed − run mean) ÷ √(run variance + se²)."""
    cal = result.calibration
    n = replicates or cal.spec.abc.check_replicates
    ds = runs.run(runs.load_scenario(result.scenario_data), replicates=n, seed=seed, years=cal.years)
    v = model_values(ds, list(cal.rows))
    fit = result.fit
    se = fit.se.values
    z = (fit.observed.values - v.mean(0)) / np.sqrt(v.var(0) + se ** 2)
    return fit[["line", "variable", "profession", "place", "end", "observed", "used"]].assign(
        run_mean=v.mean(0), run_q05=np.quantile(v, 0.05, 0), run_q95=np.quantile(v, 0.95, 0), z=z)


def coverage_summary(result: CalibrationResult, truth: dict[str, float]) -> dict[str, bool]:
    """Whether each parameter's 90% credible interval holds its true value (for synthetic checks)."""
    t = result.parameters.set_index("parameter")
    return {p: bool(t.loc[p, "ci90_low"] <= v <= t.loc[p, "ci90_high"]) for p, v in truth.items()}


__all__ = ["CalibrationSpec", "Calibration", "CalibrationResult", "load_calibration", "calibrate", "fit_calibration",
           "check_fit", "coverage_summary", "weighted_quantile"]

fit_calibration = calibrate     # the package-level name (``sim.evidence.calibrate`` is this module)
