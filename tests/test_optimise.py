"""wfsim optimise: bad input names the field (exit 2), the Pareto frontier is what it says, and the command
writes a plan that `wfsim run --plan` takes, an evaluation experiment on fresh replicates and a report section."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from typer.testing import CliRunner

from sim.cli import app
from sim.cli.optimise import load_problem
from sim.optimise.pareto import frontier, spread
from sim.runs import load_scenario
from sim.scenario import ScenarioError
from sim.scenario.loading import read_yaml

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "configs" / "optimise" / "analytic_two_levers.yaml"
GOAL = "Nurse gap at most 5% of demand by March 2029"
HYPO = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _data(**changes) -> dict:
    data = read_yaml(FILE)
    data["scenario"] = str(FILE.parent / data["scenario"])
    data.update(changes)
    return data


def _problems(data) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        load_problem(data)
    return info.value.problems


def _fields(data) -> list[str]:
    return [p for p, _ in _problems(data)]


# ---- bad input ----------------------------------------------------------------------------------------------

def test_bad_input_names_the_field():
    d = _data()
    cases = {
        "levers.0.lever": {"levers": [{**d["levers"][0], "lever": "more_nurses"}, d["levers"][1]]},
        "levers.1.chnage": {"levers": [d["levers"][0], {**d["levers"][1], "chnage": 0.1}]},
        "decisions.degree.lever": {"decisions": {**d["decisions"], "degree": {**d["decisions"]["degree"],
                                                                                "lever": "nope"}}},
        "decisions.degree.field": {"decisions": {**d["decisions"], "degree": {**d["decisions"]["degree"],
                                                                                "field": "places"}}},
        "decisions.degree.high": {"decisions": {**d["decisions"], "degree": {**d["decisions"]["degree"],
                                                                               "low": 0.5, "high": 0.1}}},
        "constraints.0.goal": {"constraints": [{"goal": "Nurse gap at most 4%", "probability": 0.8}]},
        "constraints.0.by": {"constraints": [{"metric": "gap_share", "profession": "nurse", "by": "2031-03",
                                              "max": 0.05, "probability": 0.8}]},
        "constraints.0.profession": {"constraints": [{"metric": "gap_share", "profession": "doctor",
                                                      "by": "2028-03", "max": 0.05, "probability": 0.8}]},
        "constraints.0.probability": {"constraints": [{"goal": GOAL, "probability": 1.5}]},
        "objective.to": {"objective": {"minimise": "spend", "to": "2025-03"}},
        "evaluate.seed": {"evaluate": {"seed": 3}},
        "futures.high.set.professions.nurse.demnad": {"futures": {"high": {"set": {
            "professions.nurse.demnad.growth": 0.01}}}},
    }
    for field, change in cases.items():
        problems = _problems(_data(**change))
        assert any(p == field or p.startswith(field) for p, _ in problems), (field, problems)
    # the unknown lever lists the registered ones; reversed bounds say which is which
    msg = dict(_problems(_data(**cases["levers.0.lever"])))["levers.0.lever"]
    assert "training_places" in msg
    msg = dict(_problems(_data(**cases["decisions.degree.high"])))["decisions.degree.high"]
    assert "0.5" in msg and "0.1" in msg


def test_a_bound_that_makes_an_invalid_lever_is_named():
    d = _data()
    d["decisions"]["degree"]["high"] = 20.0           # training_places.change allows -1 to 10
    problems = _problems(d)
    assert problems[0][0] == "decisions.degree.high" and "change" in problems[0][1]


@HYPO
@given(low=st.floats(-0.9, 9, allow_nan=False), width=st.floats(0, 5, allow_nan=False))
def test_reversed_or_equal_bounds_are_refused(low, width):
    d = _data()
    d["decisions"]["degree"].update(low=low + width, high=low, step=None)
    assert "decisions.degree.high" in _fields(d)


@HYPO
@given(field=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
def test_unknown_lever_parameters_are_refused(field):
    allowed = {"change", "cost_per_extra_starter", "from", "until", "ramp_months"}
    d = _data()
    d["decisions"]["degree"]["field"] = field
    if field in allowed:
        return
    assert "decisions.degree.field" in _fields(d)


@HYPO
@given(year=st.integers(1990, 2100), month=st.integers(1, 12))
def test_goal_dates_outside_the_horizon_are_refused(year, month):
    when = f"{year:04d}-{month:02d}"
    inside = "2026-04" <= when <= "2029-03"
    d = _data(constraints=[{"metric": "gap_share", "profession": "nurse", "by": when, "max": 0.05,
                            "probability": 0.8}])
    if inside:
        load_problem(d)
    else:
        assert "constraints.0.by" in _fields(d)


def test_cli_bad_input_exits_2(tmp_path):
    d = _data()
    d["decisions"]["conversion"].update(low=0.4, high=0.2)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    r = CliRunner().invoke(app, ["optimise", str(path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    assert "decisions.conversion.high" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


# ---- the Pareto frontier -----------------------------------------------------------------------------------

@HYPO
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25))
def test_frontier_is_the_non_dominated_set(rows):
    t = pd.DataFrame(rows, columns=["spend_m", "gap", "risk"]).astype(float)
    front = frontier(t, ["spend", "gap", "risk"])
    x = t.to_numpy()
    for i in range(len(x)):
        dominated = any(np.all(x[j] <= x[i]) and np.any(x[j] < x[i]) for j in range(len(x)))
        if i in front:
            assert not dominated
        else:       # off the frontier: dominated, or a repeat of a frontier plan's numbers
            assert dominated or any(np.all(x[j] == x[i]) for j in front)
    assert list(t.spend_m.iloc[front]) == sorted(t.spend_m.iloc[front])
    picks = spread(front, t, 3)
    assert len(picks) == min(3, len(front)) and set(picks) <= set(front)


# ---- the command, end to end -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pareto_run(tmp_path_factory):
    """Spend against risk and gap under two futures, on the analytic staff group: a short search, then the
    evaluation experiment and the report."""
    out = tmp_path_factory.mktemp("pareto")
    d = _data(futures={"central": {}, "high": {"set": {"professions.nurse.demand.fte_per_1000_population": 1.498}}},
              objective={"minimise": ["spend", "risk", "gap"], "spend": "levers"},
              constraints=[{"goal": GOAL, "probability": 0.5}],
              search={"trials": 16, "batch": 4, "replicates": 2, "seed": 1, "confidence": 0.5},
              evaluate={"replicates": 4, "seed": 2, "block": 4, "pareto_points": 3})
    path = out / "pareto.yaml"
    path.write_text(yaml.safe_dump(d))
    r = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out / "result"), "--workers", "1"])
    assert r.exit_code == 0, r.output
    return out / "result", r.output


def test_pareto_run_writes_frontier_plan_and_fresh_evaluation(pareto_run):
    folder, output = pareto_run
    summary = json.loads((folder / "optimisation.json").read_text())
    trials = pd.read_csv(folder / "trials.csv")
    assert len(trials) == 16 and summary["futures"] == ["central", "high"]
    front = pd.DataFrame(summary["frontier"])
    assert len(front) >= 2
    # along the frontier, spending more buys less risk (or a smaller gap)
    f = front.sort_values("spend_m")
    assert (np.diff(f.risk) <= 1e-12).all() or (np.diff(f.gap) <= 1e-12).any()
    fresh = pd.DataFrame(summary["fresh"])
    assert fresh.variant.iloc[0] == "baseline" and fresh.spend_m.iloc[0] == 0
    assert {"P(1)", "P(1) low", "P(1) high", "spend_m@high", "P(1)@central"} <= set(fresh.columns)
    # the fresh numbers come from the evaluation experiment's own seed and replicates
    ev = yaml.safe_load((folder / "evaluation.yaml").read_text())
    assert ev["seed"] == 2 and ev["replicates"] == 4 and set(ev["futures"]) == {"central", "high"}
    assert (folder / "results.zarr").is_dir() and (folder / "pareto.png").is_file()


def test_best_plan_runs_with_run_plan(pareto_run):
    folder, _ = pareto_run
    summary = json.loads((folder / "optimisation.json").read_text())
    if summary["best"] is None:
        pytest.skip("no frontier plan met the goal on the search's replicates")
    scenario = load_scenario(ROOT / "configs" / "analytic" / "optimise.yaml", plans=[folder / "best_plan.yaml"])
    chosen = summary["best"]["decisions"]
    changes = {x.id: x.change for x in scenario.levers}
    assert changes == {"degree_places": pytest.approx(chosen["degree"]),
                       "conversion_places": pytest.approx(chosen["conversion"])}


def test_report_has_the_optimisation_section(pareto_run):
    folder, _ = pareto_run
    r = CliRunner().invoke(app, ["report", str(folder), "--format", "md"])
    assert r.exit_code == 0, r.output
    text = (folder / "report.md").read_text()
    assert "## Optimisation: the best plan under the goals" in text
    assert "Pareto frontier of the search" in text and "fresh replicates" in text
    assert "![optimisation](pareto.png)" in text


def test_pareto_figure_returns_a_figure(pareto_run):
    from sim.optimise.plots import pareto_figure

    folder, _ = pareto_run
    summary = json.loads((folder / "optimisation.json").read_text())
    trials = pd.read_csv(folder / "trials.csv")
    front = [int(np.flatnonzero(trials.trial.values == t)[0]) for t in pd.DataFrame(summary["frontier"]).trial]
    fig = pareto_figure(trials, front, None, pd.DataFrame(summary["fresh"]))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
