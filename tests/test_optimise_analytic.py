"""wfsim optimise against closed forms: the deterministic staff group of configs/analytic/optimise.yaml, whose
cheapest mix of two training levers is known (conversion places at their bound, 9% more degree places:
£720,000), the robust measures under a second, higher-demand future, and a resumed search."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from sim.cli.optimise import load_problem
from sim.optimise.search import judge, run_search
from sim.scenario.loading import read_yaml

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "configs" / "optimise" / "analytic_two_levers.yaml"
OPTIMUM = 0.72                      # £m: 3 × (9 × £10,000 + 25 × £6,000)
HIGH = {"set": {"professions.nurse.demand.fte_per_1000_population": 1.498}}   # demand 1,498 FTE


def _data(**changes) -> dict:
    data = read_yaml(FILE)
    data["scenario"] = str(FILE.parent / data["scenario"])
    for k, v in changes.items():
        data[k] = v
    return data


def _point(degree: float, conversion: float) -> dict:
    return {"degree": degree, "conversion": conversion}


def test_closed_form_points():
    """The measures give the closed form: spend 3 × (100x × £10,000 + 50y × £6,000), the goal met exactly
    when 200x + 100y ≥ 68 extra completers."""
    problem = load_problem(FILE)
    for (x, y), spend, p in [((0.09, 0.5), 0.72, 1.0), ((0.08, 0.5), 0.69, 0.0), ((0.34, 0.0), 1.02, 1.0),
                             ((0.10, 0.48), 0.732, 1.0), ((0.0, 0.0), 0.0, 0.0)]:
        m = judge(problem, problem.plan_levers(_point(x, y)), seed=1, replicates=3)
        assert m.spend == pytest.approx(spend, abs=1e-9)
        assert m.probability == [p]
        assert m.feasible == (p == 1.0)


def test_search_finds_the_optimum_within_two_percent(tmp_path):
    problem = load_problem(FILE)
    result = run_search(problem, tmp_path, workers=1)
    best = result.trials.iloc[result.best]
    assert best.feasible and best["P(1)"] == 1.0
    assert OPTIMUM <= best.spend_m <= 1.02 * OPTIMUM, best
    # every trial the search judged feasible really meets 200x + 100y ≥ 68 (whole starters)
    t = result.trials
    completers = 2 * np.round(100 * t.degree) + 2 * np.round(50 * t.conversion)
    assert ((completers >= 68) == t.feasible).all()


def test_robust_measures_have_closed_forms():
    """Under a second future with demand 1,498 FTE (1,424 staff needed: 124 extra completers), the plan
    that meets the goal in both futures is y = 0.5, x = 0.37 (£1.56m); the central optimum meets it in
    one future of two."""
    both, central = _point(0.37, 0.5), _point(0.09, 0.5)
    cases = {"mean": {"robust": {"measure": "mean"}}, "worst": {"robust": {"measure": "worst"}},
             "cvar": {"robust": {"measure": "cvar", "alpha": 0.5}}}
    for name, extra in cases.items():
        cons = [{"goal": "Nurse gap at most 5% of demand by March 2029", "probability": 0.5}]
        problem = load_problem(_data(futures={"central": {}, "high": HIGH}, constraints=cons, **extra))
        m_both = judge(problem, problem.plan_levers(both), seed=1, replicates=3)
        m_central = judge(problem, problem.plan_levers(central), seed=1, replicates=3)
        assert m_both.spend == pytest.approx(1.56) and m_central.spend == pytest.approx(0.72)
        assert m_both.feasible
        assert m_central.futures["central"]["probability"] == [1.0]
        assert m_central.futures["high"]["probability"] == [0.0]
        # mean pools the futures: P = 0.5 meets 0.5; worst takes the high future (P = 0); CVaR of the worst
        # 50% of replicates is the high future's gap share, above 5%
        assert m_central.feasible == (name == "mean"), name
        assert m_central.probability == ([0.5] if name != "worst" else [0.0])
    barely = judge(problem, problem.plan_levers(_point(0.36, 0.5)), seed=1, replicates=3)
    assert not barely.feasible and barely.futures["high"]["probability"] == [0.0]


def _table(result):
    return result.trials.drop(columns=["trial"]).reset_index(drop=True)


def test_resumed_search_equals_an_uninterrupted_one(tmp_path):
    data = _data(search={"trials": 12, "batch": 4, "replicates": 2, "seed": 9, "confidence": 0.5})
    whole = run_search(load_problem(data), tmp_path / "whole", workers=1)

    def stop(n):
        if n >= 4:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run_search(load_problem(data), tmp_path / "cut", workers=1, on_batch=stop)
    resumed = run_search(load_problem(data), tmp_path / "cut", workers=1)
    assert len(resumed.trials) == 12
    assert _table(resumed).equals(_table(whole))
    # the first trial is the plan as written in the file (no extra places), which misses the goal
    assert whole.trials.iloc[0][["degree", "conversion", "feasible"]].tolist() == [0.0, 0.0, False]
    # a changed file is refused rather than mixed into the stored search
    changed = copy.deepcopy(data)
    changed["decisions"]["degree"]["high"] = 0.9
    from sim.scenario import ScenarioError
    with pytest.raises(ScenarioError, match="--out"):
        run_search(load_problem(changed), tmp_path / "cut", workers=1)


@pytest.mark.slow
def test_worker_processes_do_not_change_the_search(tmp_path):
    data = _data(search={"trials": 8, "batch": 4, "replicates": 2, "seed": 9, "confidence": 0.5})
    one = run_search(load_problem(data), tmp_path / "one", workers=1)
    two = run_search(load_problem(data), tmp_path / "two", workers=2)
    assert _table(one).equals(_table(two))
