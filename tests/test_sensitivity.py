"""Global sensitivity analysis (sim/evidence): Sobol indices against their closed forms on an analytic
config, Morris ranking, screening, common random numbers, the report section and bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.evidence.design import Distribution
from sim.evidence.sensitivity import evaluate_design, load_sensitivity, run_sensitivity, write_sensitivity

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "configs" / "evidence" / "analytic_sensitivity.yaml"
SCENARIO = ROOT / "configs" / "analytic" / "sensitivity.yaml"
D, P, F, S, C = ("professions.staff.demand.fte_per_1000_population", "professions.staff.leave_rate",
                 "professions.staff.fte_per_head", "professions.staff.sickness_absence",
                 "professions.staff.cost_per_fte")
runner = CliRunner()


def study(**over) -> dict:
    data = yaml.safe_load(STUDY.read_text())
    data["scenario"] = str(SCENARIO)
    data.update(over)
    return data


# ---- closed forms ------------------------------------------------------------------------------------------

def power_moment(a: float, b: float, e: float) -> float:
    """E[(1 - p)^e] for p uniform on [a, b]."""
    return ((1 - a) ** (e + 1) - (1 - b) ** (e + 1)) / ((e + 1) * (b - a))


def uniform_moments(lo: float, hi: float) -> tuple[float, float]:
    """(E x, E x²) for x uniform on [lo, hi]."""
    m = (lo + hi) / 2
    return m, (hi - lo) ** 2 / 12 + m ** 2


def sum_product_indices(additive_var: float, factors: list[tuple[float, float]]):
    """First and total Sobol indices of Y = A(x0) + Π g_i(x_i), independent inputs: Var(A) and each
    factor's (E g, E g²). Returns (index of x0, first-order of each factor, total of each factor)."""
    mu = np.array([f[0] for f in factors])
    m2 = np.array([f[1] for f in factors])
    var = m2 - mu ** 2
    V = additive_var + np.prod(m2) - np.prod(mu ** 2)
    first = np.array([var[i] * np.prod(np.delete(mu ** 2, i)) for i in range(len(mu))])
    total = np.array([var[i] * np.prod(np.delete(m2, i)) for i in range(len(mu))])
    return additive_var / V, first / V, total / V


def closed_form() -> dict:
    """Sobol indices of the study's two outputs (see configs/analytic/sensitivity.yaml): the gap
    1,000 d − N f (1 − s)(1 − p)^5 and the spend (N c f / 12) Σ_k (1 − p)^((k+1)/12) over months 48-59."""
    N = 10000
    f, w = uniform_moments(0.6, 1.0), uniform_moments(0.9, 1.0)           # w = 1 − s, s ~ U[0, 0.1]
    gap_p = (N * power_moment(0.1, 0.3, 5), N ** 2 * power_moment(0.1, 0.3, 10))
    sd, s1, st = sum_product_indices(1000 ** 2 * 25 / 12, [gap_p, f, w])   # d ~ U[5, 10]: Var(1000 d)
    gap = {D: (sd, sd), P: (s1[0], st[0]), F: (s1[1], st[1]), S: (s1[2], st[2]), C: (0.0, 0.0)}
    e = [(k + 1) / 12 for k in range(48, 60)]
    h = (sum(power_moment(0.1, 0.3, a) for a in e) * N / 12,
         sum(power_moment(0.1, 0.3, a + b) for a in e for b in e) * (N / 12) ** 2)
    _, s1, st = sum_product_indices(0.0, [h, f, uniform_moments(30000, 50000)])
    spend = {D: (0.0, 0.0), P: (s1[0], st[0]), F: (s1[1], st[1]), S: (0.0, 0.0), C: (s1[2], st[2])}
    return {"gap_fte 2031-03 (staff)": gap, "spend 2031-03": spend}


def test_the_analytic_outputs_are_the_closed_form_functions():
    """The premise of the closed forms: the mean field gives exactly the stated gap and spend."""
    sa = load_sensitivity(study())
    X = np.array([[6.0, 0.15, 0.7, 0.02, 35000.0], [9.5, 0.28, 0.95, 0.09, 48000.0]])
    Y = evaluate_design(sa.data, sa.spec.inputs, X, sa.spec.outputs, sa.scenario, engine="expected",
                        replicates=1, seed=0)
    for (d, p, f, s, c), (gap, spend) in zip(X, Y):
        assert gap == pytest.approx(1000 * d - 10000 * f * (1 - s) * (1 - p) ** 5, rel=1e-5)
        assert spend == pytest.approx(10000 * c * f / 12 * sum((1 - p) ** ((k + 1) / 12) for k in range(48, 60)) / 1e6,
                                      rel=1e-9)


@pytest.fixture(scope="module")
def sobol_result():
    return run_sensitivity(load_sensitivity(study(samples=128)))


def test_sobol_indices_match_their_closed_forms_within_their_intervals(sobol_result):
    truth = closed_form()
    t = sobol_result.table
    checked = 0
    for out, by_input in truth.items():
        for name, (first, total) in by_input.items():
            for index, true in (("S1", first), ("ST", total)):
                row = t[(t.output == out) & (t.input == name) & (t.statistic == index)].iloc[0]
                assert abs(row.value - true) <= row.conf + 1e-9, (out, name, index, row.value, row.conf, true)
                checked += 1
    assert checked == 20
    # and the indices tell the story: demand and leaving drive the gap; cost drives spend, not the gap
    gap = t[(t.output == "gap_fte 2031-03 (staff)") & (t.statistic == "ST")].set_index("input").value
    assert list(gap.sort_values(ascending=False).index) == [D, P, F, S, C]


def test_results_dataset_table_design_and_figure(sobol_result, tmp_path):
    ds = sobol_result.dataset
    assert set(ds.data_vars) == {"S1", "S1_conf", "ST", "ST_conf"}
    assert list(ds.input.values) == [D, P, F, S, C]
    assert ds.output_units.sel(output="spend 2031-03").item().startswith("£ million")
    assert ds.input_units.sel(input=P).item() == "share per year"
    assert len(sobol_result.design) == 128 * 7
    paths = write_sensitivity(sobol_result, tmp_path)
    assert all(p.is_file() for p in paths)
    back = xr.open_dataset(tmp_path / "sensitivity.nc", engine="h5netcdf").load()
    np.testing.assert_allclose(back.ST.values, ds.ST.values)
    assert back.attrs["scenario_name"] == "analytic-sensitivity"


def test_morris_ranks_the_inputs_correctly():
    r = run_sensitivity(load_sensitivity(study(method="morris", samples=10)))
    t = r.table[r.table.statistic == "mu_star"]
    gap = t[t.output == "gap_fte 2031-03 (staff)"].set_index("input").value
    spend = t[t.output == "spend 2031-03"].set_index("input").value
    assert list(gap.sort_values(ascending=False).index) == [D, P, F, S, C]
    assert gap[C] == 0                                  # cost does not move the gap at all
    assert spend[P] > max(spend[F], spend[C]) > 0 and spend[D] == spend[S] == 0
    assert spend[F] == pytest.approx(spend[C], rel=0.35)  # equal Sobol shares: similar effects


def test_screening_on_the_mean_field_keeps_the_drivers():
    data = study(samples=8, screen={"trajectories": 8, "keep": 2})
    data["outputs"] = data["outputs"][:1]
    r = run_sensitivity(load_sensitivity(data))
    screen = r.table[r.table.stage == "screen"]
    main = r.table[r.table.stage == "main"]
    assert set(screen.input) == {D, P, F, S, C}
    assert set(main.input) == {D, P}                    # the two largest μ* for the gap
    assert set(r.design.stage) == {"screen", "main"}
    assert "screen_mu_star" in r.dataset and np.isnan(r.dataset.ST.sel(input=F)).all()


def test_monte_carlo_runs_share_random_numbers():
    """Every design point uses the same seed: points differing only in cost give the same gap, replicate
    by replicate, and the same point gives the same outputs."""
    sa = load_sensitivity(study(engine="kernel", replicates=4))
    X = np.array([[7.0, 0.2, 0.8, 0.05, 30000.0], [7.0, 0.2, 0.8, 0.05, 50000.0], [7.0, 0.2, 0.8, 0.05, 30000.0]])
    Y = evaluate_design(sa.data, sa.spec.inputs, X, sa.spec.outputs, sa.scenario, engine="kernel", replicates=4,
                        seed=7)
    assert Y[0, 0] == Y[1, 0] and Y[0, 1] != Y[1, 1]
    np.testing.assert_array_equal(Y[0], Y[2])
    other = evaluate_design(sa.data, sa.spec.inputs, X[:1], sa.spec.outputs, sa.scenario, engine="kernel",
                            replicates=4, seed=8)
    assert other[0, 0] != Y[0, 0]                      # a different seed: different random numbers


def test_goal_probability_output():
    data = yaml.safe_load(SCENARIO.read_text())
    data["goals"] = [{"name": "gap small", "metric": "gap_share", "by": "2031-03", "profession": "staff", "max": 0.5}]
    scen = tmp_scenario(data)
    sa = load_sensitivity(study(scenario=str(scen), engine="kernel", replicates=3,
                                outputs=[{"metric": "goal", "goal": "gap small"}]))
    X = np.array([[5.0, 0.1, 1.0, 0.0, 40000.0], [10.0, 0.3, 0.6, 0.1, 40000.0]])
    Y = evaluate_design(sa.data, sa.spec.inputs, X, sa.spec.outputs, sa.scenario, engine="kernel", replicates=3,
                        seed=1)
    assert Y[:, 0].tolist() == [1.0, 0.0]          # small demand, many staff: met; the reverse: not met


def tmp_scenario(data: dict) -> Path:
    import tempfile
    p = Path(tempfile.mkdtemp()) / "scenario.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_cli_writes_results_and_the_report_section(tmp_path):
    f = tmp_path / "study.yaml"
    f.write_text(yaml.safe_dump(study(samples=8)))
    out = tmp_path / "exp" / "sensitivity"
    r = runner.invoke(app, ["sensitivity", str(f), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Sobol indices" in r.output and "wrote" in r.output
    for name in ("sensitivity.csv", "sensitivity.nc", "design.csv", "sensitivity.png"):
        assert (out / name).is_file()
    from sim.evidence.report import sensitivity_section
    from sim.experiments.report import md_table
    md = "\n\n".join(sensitivity_section(tmp_path / "exp", lambda p: p.name, md_table))
    assert md.startswith("## Sensitivity") and "| professions.staff.leave_rate |" in md
    assert "sensitivity.png" in md
    assert sensitivity_section(tmp_path, lambda p: p.name, md_table) == []


def test_report_includes_the_section(tmp_path):
    """wfsim report on an experiment whose folder holds a sensitivity analysis shows it."""
    from sim.experiments import load_experiment, run_experiment
    from sim.experiments.report import write_report

    exp = load_experiment({"name": "tiny", "question": "Does anything change?", "scenario": str(SCENARIO),
                           "replicates": 2, "seed": 1, "years": 1, "every": "year", "block": 2,
                           "variants": {"baseline": {}}})
    run_experiment(exp, tmp_path, workers=1)
    f = tmp_path / "study.yaml"
    f.write_text(yaml.safe_dump(study(samples=4, method="morris")))
    assert runner.invoke(app, ["sensitivity", str(f), "--out", str(tmp_path / "sensitivity"), "-q"]).exit_code == 0
    text = write_report(tmp_path, "md")[0].read_text()
    assert "## Sensitivity: which assumptions drive the results" in text and "Morris μ*" in text


# ---- bad input ---------------------------------------------------------------------------------------------

def bad(tmp_path: Path, data) -> str:
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    r = runner.invoke(app, ["sensitivity", str(f), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    return r.output


def test_missing_file_exits_2(tmp_path):
    r = runner.invoke(app, ["sensitivity", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 2 and "file not found" in r.output


def test_unknown_dotted_path_is_named(tmp_path):
    data = study()
    data["inputs"]["professions.staff.leave_rte"] = {"low": 0.1, "high": 0.2}
    out = bad(tmp_path, data)
    assert "inputs.professions.staff.leave_rte" in out and "no such field" in out
    data = study()
    data["inputs"]["professions.nurse.leave_rate"] = {"low": 0.1, "high": 0.2}
    assert "professions.nurse: no such field" in bad(tmp_path, data)


def test_range_that_makes_an_invalid_scenario_is_named(tmp_path):
    data = study()
    data["inputs"][P] = {"low": 0.5, "high": 1.5}            # a leaving probability above 1
    out = bad(tmp_path, data)
    assert f"inputs.{P}" in out and "high end" in out


def test_year_table_needs_scale(tmp_path):
    data = yaml.safe_load(SCENARIO.read_text())
    data["professions"]["staff"]["leave_rate"] = {2026: 0.2, 2028: 0.15}
    s = study(scenario=str(tmp_scenario(data)))
    assert "year table" in bad(tmp_path, s)
    s["inputs"][P] = {"low": 0.5, "high": 1.5, "scale": True}
    sa = load_sensitivity(s)
    from sim.evidence.design import apply
    out = apply(sa.data, {P: sa.spec.inputs[P]}, [1.2])
    assert out["professions"]["staff"]["leave_rate"] == {"2026": pytest.approx(0.24), "2028": pytest.approx(0.18)}


def test_unknown_output_names_are_named(tmp_path):
    out = bad(tmp_path, study(outputs=[{"metric": "gap_fte", "profession": "nurse", "at": "2031-03"},
                                       {"metric": "gap_fte", "where": "Nowhere", "at": "2040-03"}]))
    assert "outputs.0.profession" in out and "outputs.1.where" in out and "outputs.1.at" in out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(low=st.floats(-1e6, 1e6, allow_nan=False), gap=st.floats(0, 1e6, allow_nan=False))
def test_low_not_below_high_exits_2_naming_the_field(tmp_path, low, gap):
    data = study()
    data["inputs"][P] = {"low": low + gap, "high": low}
    out = bad(tmp_path, data)
    assert f"inputs.{P}" in out and "must be below high" in out


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["uniform", "loguniform", "triangular", "normal", "lognormal"]),
       st.dictionaries(st.sampled_from(["low", "high", "mode", "mean", "sd", "median", "sd_log"]),
                       st.floats(-10, 10, allow_nan=False), max_size=4))
def test_distribution_declarations_are_valid_or_refused_plainly(dist, fields):
    """Any declaration either validates (and then its quantiles lie in its support, in order) or raises a
    validation error; never anything else."""
    from pydantic import ValidationError
    try:
        d = Distribution(dist=dist, **fields)
    except ValidationError:
        return
    q = d.ppf(np.array([0.0, 0.25, 0.5, 0.75, 1.0]))
    assert np.all(np.isfinite(q)) and np.all(np.diff(q) >= 0)
    lo, hi = d.frozen().support()
    assert lo <= q[0] and q[-1] <= hi


def test_whole_number_inputs_cover_each_value_equally():
    d = Distribution(low=2, high=5, integer=True)
    from sim.evidence.design import _changed
    values = [_changed(0, float(x), d) for x in d.ppf(np.linspace(0, 1, 4001))]
    counts = np.bincount(values)[2:]
    assert list(np.nonzero(np.bincount(values))[0]) == [2, 3, 4, 5]
    assert counts.min() / counts.max() > 0.99
