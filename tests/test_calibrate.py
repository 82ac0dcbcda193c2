"""Calibration (sim/evidence): observed series, the mean-field fit, the ABC-SMC posterior on synthetic
series from known parameters, the calibrated scenario, and bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.evidence.calibrate import calibrate, check_fit, coverage_summary, load_calibration
from sim.evidence.calibrated import write_calibration
from sim.evidence.observed import model_values, read_observed
from sim.scenario import scenario_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "configs" / "evidence" / "synthetic_staff.yaml"
LEAVE, HIRES = "professions.staff.leave_rate", "professions.staff.recruitment.domestic"
PRIORS = {LEAVE: {"low": 0.05, "high": 0.25}, HIRES: {"low": 1000, "high": 6000}}
runner = CliRunner()


def observation_rows() -> pd.DataFrame:
    """Six financial years of leavers and the headcount at each March: the series the tests observe."""
    years = range(2026, 2032)
    rows = [{"year": f"{y}/{(y + 1) % 100:02d}", "month": "", "variable": "leavers", "profession": "staff"}
            for y in years]
    rows += [{"year": "", "month": f"{y + 1}-03", "variable": "headcount", "profession": "staff"} for y in years]
    return pd.DataFrame(rows).assign(place="", value=0.0)


def synthetic(tmp_path: Path, truth: dict, *, seed: int, relative: float = 0.03, expected: bool = False,
              frame: pd.DataFrame | None = None) -> Path:
    """Observed series drawn from the model at ``truth``: one Monte Carlo run (seed ``seed``) plus Gaussian
    observation error of ``relative`` × value; or the mean field exactly (``expected``)."""
    data = scenario_dict(sim.load_scenario(SCENARIO))
    for path, v in truth.items():
        node = data
        *head, last = path.split(".")
        for k in head:
            node = node[k]
        node[last] = v
    frame = observation_rows() if frame is None else frame
    path = tmp_path / f"observed-{seed}.csv"
    frame.to_csv(path, index=False)
    rows = read_observed(path)
    scenario = sim.load_scenario(data)
    if expected:
        values = model_values(sim.expected(scenario), rows)[0]
    else:
        values = model_values(sim.run(scenario, replicates=1, seed=seed), rows)[0]
        values = values + np.random.default_rng(seed).standard_normal(len(values)) * relative * np.abs(values)
    frame.assign(value=values).to_csv(path, index=False, float_format="%.10g")
    return path


def calibration(observed: Path, **over) -> dict:
    data = {"name": "synthetic", "scenario": str(SCENARIO), "observed": str(observed), "seed": 3,
            "parameters": PRIORS, "error": {"relative": 0.03}, "abc": {"particles": 150, "runs_per_particle": 2}}
    data.update(over)
    return data


# ---- observed series and the model's counterparts ------------------------------------------------------------

def test_periods_flows_and_rates_against_closed_forms(tmp_path):
    """On the decay config (no inflow, leaving probability p a year): leavers in a year = N(1 - p) ... and
    the leaver rate (leavers ÷ mean headcount at the year's start and end) = 2p / (2 - p), in the first
    year (its start rebuilt from the first month's flows) as in later ones."""
    csv = tmp_path / "o.csv"
    csv.write_text("year,month,variable,profession,place,value,window_months\n2026/27,,leaver_rate,staff,,0,\n"
                   "2027/28,,leaver_rate,staff,,0,\n2027,,leavers,staff,Only,0,\n,2027-03,headcount,staff,,0,\n"
                   ",2026-06,leavers,staff,One ICS,0,3\n,2026-06,leavers.leaver,staff,,0,3\n")
    rows = read_observed(csv)
    assert [r.end for r in rows] == ["2027-03", "2028-03", "2027-12", "2027-03", "2026-06", "2026-06"]
    ds = sim.expected(ROOT / "configs" / "analytic" / "decay.yaml")
    v = model_values(ds, rows)[0]
    N, p = 10000, 0.2
    assert v[0] == pytest.approx(2 * p / (2 - p), rel=1e-6) and v[1] == pytest.approx(2 * p / (2 - p), rel=1e-6)
    assert v[2] == pytest.approx(N * (1 - p) ** (9 / 12) - N * (1 - p) ** (21 / 12), rel=1e-6)  # Jan-Dec 2027
    assert v[3] == pytest.approx(N * (1 - p), rel=1e-6)
    assert v[4] == pytest.approx(N - N * (1 - p) ** (3 / 12), rel=1e-6)      # April to June 2026
    assert v[5] == pytest.approx(v[4])                                         # nobody retires: all leave
    mc = model_values(sim.run(ROOT / "configs" / "analytic" / "decay.yaml", replicates=3, seed=1, years=2), rows)
    assert mc.shape == (3, 6) and np.all(mc[:, 3] <= N)


def test_mean_field_fit_recovers_exact_parameters(tmp_path):
    """Series from the mean field itself: least squares finds the parameters that made them."""
    truth = {LEAVE: 0.16, HIRES: 2700.0}
    cal = load_calibration(calibration(synthetic(tmp_path, truth, seed=0, expected=True)))
    from sim.evidence.calibrate import _mean_field
    from sim.evidence.design import scenario_at

    rows = list(cal.rows)
    mf = _mean_field(cal, np.ones(len(rows), bool), lambda x: model_values(
        sim.expected(scenario_at(cal.data, cal.spec.parameters, x), years=cal.years), rows)[0])
    assert mf.theta == pytest.approx([0.16, 2700.0], rel=1e-4)
    assert mf.cost < 1e-6


def test_whole_number_parameter_is_found_by_search(tmp_path):
    """Time to hire (whole months) delays a change in hiring (the pipeline at the start is steady): monthly
    headcounts around the step identify it exactly."""
    months = [f"2027-{m:02d}" for m in range(3, 13)] + [f"2028-{m:02d}" for m in range(1, 4)]
    frame = pd.DataFrame({"year": "", "month": months, "variable": "headcount", "profession": "staff", "place": "",
                          "value": 0.0})
    step = {2026: 3000.0, 2027: 6000.0}
    truth = {"professions.staff.recruitment.time_to_hire_months": 3, LEAVE: 0.12, HIRES: step}
    obs = synthetic(tmp_path, truth, seed=0, expected=True, frame=frame)
    import json
    base = json.loads(json.dumps(scenario_dict(sim.load_scenario(SCENARIO))))
    base["professions"]["staff"]["recruitment"]["domestic"] = step
    scenario = tmp_path / "step.yaml"
    scenario.write_text(yaml.safe_dump(base))
    cal = load_calibration(calibration(obs, scenario=str(scenario), parameters={
        "professions.staff.recruitment.time_to_hire_months": {"low": 0, "high": 8, "integer": True},
        LEAVE: {"low": 0.05, "high": 0.25}}))
    from sim.evidence.calibrate import _mean_field
    from sim.evidence.design import scenario_at
    rows = list(cal.rows)
    mf = _mean_field(cal, np.ones(len(rows), bool), lambda x: model_values(
        sim.expected(scenario_at(cal.data, cal.spec.parameters, x), years=cal.years), rows)[0])
    assert mf.theta[0] == 3 and mf.theta[1] == pytest.approx(0.12, rel=1e-3)


# ---- the posterior on synthetic series -------------------------------------------------------------------------

TRUTH = {LEAVE: 0.14, HIRES: 3500.0}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cal")
    cal = load_calibration(calibration(synthetic(tmp, TRUTH, seed=999)))
    return cal, calibrate(cal), tmp


def test_posterior_recovers_the_true_parameters(fitted):
    cal, result, _ = fitted
    post = result.posterior
    assert post.epsilon == 1.0                            # reached the observation error itself
    assert post.ess > 30
    t = result.parameters.set_index("parameter")
    for name, true in TRUTH.items():
        z = (t.loc[name, "posterior_median"] - true) / t.loc[name, "posterior_sd"]
        assert abs(z) < 3, (name, z)
        assert t.loc[name, "ci90_low"] < t.loc[name, "posterior_median"] < t.loc[name, "ci90_high"]
    # the Monte Carlo posterior is no narrower than the mean field's Laplace approximation, which ignores
    # the model's own randomness
    assert (t.posterior_sd >= 0.8 * t.mean_field_sd).all()


def test_the_calibrated_scenario_reproduces_the_series(fitted, tmp_path):
    cal, result, _ = fitted
    check = check_fit(result, replicates=60)
    assert check.z.abs().mean() < 1.5 and check.z.abs().max() < 4
    fit = result.fit
    assert ((fit.q05 <= fit.observed) & (fit.observed <= fit.q95)).mean() >= 0.75
    paths = write_calibration(result, tmp_path, check)
    assert all(p.is_file() for p in paths)
    text = (tmp_path / "calibrated.yaml").read_text()
    assert text.startswith("# Calibrated scenario written by wfsim calibrate")
    assert "90% credible interval" in text and "ABC-SMC" in text
    scenario = sim.load_scenario(tmp_path / "calibrated.yaml")
    t = result.parameters.set_index("parameter")
    assert scenario.professions["staff"].leave_rate == pytest.approx(t.loc[LEAVE, "posterior_median"])
    assert scenario.professions["staff"].recruitment.domestic == pytest.approx(t.loc[HIRES, "posterior_median"])
    assert "Calibrated to" in scenario.description


def test_same_seed_same_posterior(fitted):
    _, _, tmp = fitted
    small = calibration(tmp / "observed-999.csv", abc={"particles": 30, "max_generations": 2})
    one, two = calibrate(load_calibration(small)), calibrate(load_calibration(small))
    np.testing.assert_array_equal(one.posterior.theta, two.posterior.theta)
    np.testing.assert_array_equal(one.posterior.weights, two.posterior.weights)
    np.testing.assert_array_equal(one.draws, two.draws)
    other = calibrate(load_calibration({**small, "seed": 4}))
    assert not np.array_equal(one.posterior.theta, other.posterior.theta)


def test_fitted_error_scale(tmp_path):
    """With the error scale fitted, its posterior holds the scale that generated the data."""
    obs = synthetic(tmp_path, TRUTH, seed=31, relative=0.05)
    cal = load_calibration(calibration(obs, error={"relative": {"low": 0.005, "high": 0.3}}, seed=5,
                                       abc={"particles": 100, "max_generations": 12}))
    result = calibrate(cal)
    t = result.parameters.set_index("parameter")
    assert result.posterior.epsilon == 1.0
    assert t.loc["error.relative", "ci90_low"] < 0.05 < t.loc["error.relative", "ci90_high"]


@pytest.mark.slow
def test_credible_intervals_cover_the_truth_at_their_nominal_rate(tmp_path):
    """Repeated fits to synthetic series from parameters drawn from the prior: the 90% intervals hold the
    truth about 90% of the time (simulation-based calibration). Printed with pytest -s."""
    print(coverage_study(tmp_path, fits=40))


def coverage_study(tmp_path: Path, fits: int) -> str:
    rng = np.random.default_rng(2024)
    hits = []
    for k in range(fits):
        truth = {LEAVE: float(rng.uniform(0.05, 0.25)), HIRES: float(rng.uniform(1000, 6000))}
        cal = load_calibration(calibration(synthetic(tmp_path, truth, seed=10_000 + k), seed=k))
        hits.append(coverage_summary(calibrate(cal), truth))
    frame = pd.DataFrame(hits)
    n = frame.size
    rate = frame.values.mean()
    lo, hi = _binomial_range(n, 0.9)
    assert lo <= rate * n <= hi, (rate, lo, hi)
    per = ", ".join(f"{c}: {frame[c].mean():.0%}" for c in frame)
    return (f"90% credible intervals held the true value in {rate:.1%} of {n} intervals ({fits} fits; {per}); "
            f"99% binomial range for a calibrated posterior: {lo / n:.0%} to {hi / n:.0%}")


def _binomial_range(n: int, p: float) -> tuple[int, int]:
    from scipy import stats
    return int(stats.binom.ppf(0.005, n, p)), int(stats.binom.ppf(0.995, n, p))


# ---- bad input ---------------------------------------------------------------------------------------------------

def cli_bad(tmp_path: Path, data: dict) -> str:
    f = tmp_path / "cal.yaml"
    f.write_text(yaml.safe_dump(data))
    r = runner.invoke(app, ["calibrate", str(f), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    return r.output


def test_missing_files_exit_2(tmp_path):
    r = runner.invoke(app, ["calibrate", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 2 and "file not found" in r.output
    out = cli_bad(tmp_path, calibration(tmp_path / "missing.csv"))
    assert "observed" in out and "file not found" in out


def test_csv_missing_columns_are_named(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("year,variable,profession,vaule\n2026/27,leavers,staff,300\n")
    out = cli_bad(tmp_path, calibration(csv))
    assert "column 'value'" in out and "required column is missing" in out
    assert "column 'vaule'" in out and "unknown column" in out
    csv.write_text("variable,value\nleavers,300\n")
    assert "column 'year' or 'month'" in cli_bad(tmp_path, calibration(csv))


def test_csv_unknown_variables_professions_and_periods_are_named(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("year,month,variable,profession,place,value,se\n"
                   "2026/27,,leavers,staff,,300,\n"
                   "2027/28,,leaverz,staff,,300,\n"
                   "2027/28,,leavers,nurse,Nowhere,300,\n"
                   ",2040-03,headcount,staff,,300,\n"
                   "2026,,leavers,staff,,300,\n"
                   "2026/28,,leavers,staff,,abc,-1\n")
    out = cli_bad(tmp_path, calibration(csv))
    assert "line 7: year" in out                    # a malformed period is reported while reading
    csv.write_text("\n".join(csv.read_text().splitlines()[:-1]) + "\n")
    out = cli_bad(tmp_path, calibration(csv))
    assert "line 3: variable" in out and "unknown variable 'leaverz'" in out and "leaver_rate" in out
    assert "line 4: profession" in out and "line 4: place" in out
    assert "line 5: period" in out and "outside the scenario" in out
    assert "line 6: period" in out and "start before the scenario" in out


def test_bad_parameters_are_named(tmp_path):
    obs = synthetic(tmp_path, TRUTH, seed=1)
    out = cli_bad(tmp_path, calibration(obs, parameters={"professions.staff.leave_rat": {"low": 0.1, "high": 0.2}}))
    assert "parameters.professions.staff.leave_rat" in out
    out = cli_bad(tmp_path, calibration(obs, parameters={LEAVE: {"low": 0.2, "high": 0.1}}))
    assert f"parameters.{LEAVE}" in out and "must be below high" in out
    out = cli_bad(tmp_path, calibration(obs, error={"relative": -1}))
    assert "error.relative" in out
    out = cli_bad(tmp_path, calibration(obs, parameters={
        "professions.staff.recruitment.time_to_hire_months": {"low": 0, "high": 24, "integer": True},
        "geography.places.0.population": {"low": 400000, "high": 400100, "integer": True}}))
    assert "parameters:" in out and "more than 50" in out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12), min_size=1, max_size=3,
                unique=True))
def test_any_unknown_column_is_named(tmp_path, extra):
    from sim import ScenarioError
    from sim.evidence.observed import OPTIONAL, REQUIRED
    extra = [c for c in extra if c not in REQUIRED + OPTIONAL]
    if not extra:
        return
    csv = tmp_path / "h.csv"
    csv.write_text(",".join(["year", "variable", "value", *extra]) + "\n" + ",".join(["2026", "leavers", "1"] +
                                                                                   ["x"] * len(extra)) + "\n")
    with pytest.raises(ScenarioError) as e:
        read_observed(csv)
    fields = [p for p, _ in e.value.problems]
    assert fields == [f"column {c!r}" for c in extra]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=15).filter(lambda s: "," not in s and "\n" not in s and "\r" not in s
                                                      and '"' not in s))
def test_any_unknown_variable_is_named(tmp_path, name):
    from sim import ScenarioError
    from sim.evidence.observed import check_rows, variables
    ds = sim.expected(SCENARIO, years=1)
    if name.strip() in variables(ds.source.values, ds.reason.values) or not name.strip():
        return
    csv = tmp_path / "v.csv"
    pd.DataFrame({"year": ["2026/27"], "variable": [name], "value": [1.0]}).to_csv(csv, index=False)
    rows = read_observed(csv)
    with pytest.raises(ScenarioError) as e:
        check_rows(rows, sim.load_scenario(SCENARIO), "x", list(ds.source.values), list(ds.reason.values))
    assert e.value.problems[0][0] == "line 2: variable" and "unknown variable" in e.value.problems[0][1]


def test_cli_calibrate_prints_and_writes(fitted, tmp_path):
    _, _, tmp = fitted
    f = tmp_path / "cal.yaml"
    f.write_text(yaml.safe_dump(calibration(tmp / "observed-999.csv", abc={"particles": 30, "max_generations": 2,
                                                                             "check_replicates": 5})))
    r = runner.invoke(app, ["calibrate", str(f), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    for text in ("Calibrated parameters", "professions.staff.leave_rate", "share per year", "ABC-SMC",
                 "reproduce the series", "calibrated.yaml"):
        assert text in r.output
    assert sim.load_scenario(tmp_path / "out" / "calibrated.yaml").name == "synthetic-staff-calibrated"
