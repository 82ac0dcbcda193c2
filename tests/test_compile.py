"""Compiling a scenario into plan tensors: year tables, exact monthly rates, splits, pipelines."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import sim
from sim.model.compile import compile_plan, monthly_hazard, series, split

CONFIGS = Path(__file__).parents[1] / "configs"


def test_year_table_values_hold_from_april():
    # start 2026-04: months 0..11 are Apr 2026..Mar 2027
    v = series({2026: 850, 2028: 1000}, "2026-04", 36)
    assert np.all(v[:24] == 850) and np.all(v[24:] == 1000)
    # the first value also holds before its year
    w = series({2027: 5, 2028: 7}, "2026-01", 36)
    assert np.all(w[:27] == 5) and w[27] == 7      # April 2028 is month 27 from January 2026
    assert np.all(series(0.3, "2026-04", 5) == 0.3)


def test_monthly_probability_is_exact_not_divided_by_twelve():
    p = 0.25
    h = monthly_hazard(np.array([p]))[0]
    assert np.isclose(1 - np.exp(-h), 1 - (1 - p) ** (1 / 12))
    assert np.isclose(np.exp(-12 * h), 1 - p)


@given(st.floats(0, 1e5), st.lists(st.floats(0.01, 1e6), min_size=1, max_size=8))
def test_split_gives_whole_numbers_adding_up(total, weights):
    parts = split(total, np.array(weights))
    assert parts.dtype.kind == "i" and parts.min() >= 0
    assert parts.sum() == round(total)
    exact = round(total) * np.array(weights) / sum(weights)
    assert np.all(np.abs(parts - exact) < 1 + 1e-9)


def test_headcount_split_by_population_and_mapping():
    scn = sim.load_scenario(CONFIGS / "examples" / "spec_example.yaml")
    plan = compile_plan(scn)
    assert plan.init_headcount.sum() == 11500
    pops = np.array([p.population for p in scn.geography.places])
    np.testing.assert_allclose(plan.init_headcount[0] / 11500, pops / pops.sum(), atol=1e-4)
    data = sim.scenario.scenario_dict(scn)
    data["professions"]["registered_nurse"]["headcount"] = {"North": 1, "South": 2, "City": 3}
    assert compile_plan(sim.load_scenario(data)).init_headcount.tolist() == [[1, 2, 3]]


def test_steady_pipeline_at_start_holds_the_cohorts_in_training():
    scn = sim.load_scenario(CONFIGS / "examples" / "spec_example.yaml")
    plan = compile_plan(scn)
    g = scn.programmes["nursing_degree"]
    starts = sorted({int(s) for s in plan.init_cohorts[:, 2]})
    assert starts == [-31, -19, -7]               # Septembers 2023, 2024, 2025 before April 2026
    q = 1 - (1 - g.attrition) ** (1 / 36)
    for s in starts:
        n = plan.init_cohorts[plan.init_cohorts[:, 2] == s, 3].sum()
        assert abs(n - g.intake * (1 - q) ** (-1 - s)) <= 1


def test_levers_transform_the_plan_in_their_window():
    scn = sim.load_scenario(CONFIGS / "examples" / "spec_example.yaml")
    with_levers, without = compile_plan(scn), compile_plan(scn, apply_levers=False)
    month = 17                                   # 2027-09, the training_places lever's start
    assert with_levers.intake[5].sum() == without.intake[5].sum() == 850
    assert with_levers.intake[month].sum() == 935 and without.intake[month].sum() == 850
    ratio = with_levers.leave_hazard / without.leave_hazard
    np.testing.assert_allclose(ratio[:6], 1.0)   # retention from 2026-10 (month 6)
    np.testing.assert_allclose(ratio[6:], 0.9)


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_rotation_needs_another_place_in_the_ics(rate):
    data = sim.scenario.scenario_dict(sim.load_scenario(CONFIGS / "analytic" / "decay.yaml"))
    data["professions"]["staff"]["rotation_rate"] = rate
    plan = compile_plan(sim.load_scenario(data))
    assert np.all(plan.rotation_hazard == 0)      # one place: nowhere to rotate to
