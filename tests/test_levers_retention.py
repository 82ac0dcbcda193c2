"""Retention, wellbeing and leadership levers (sim/levers/retention.py), checked against closed forms
on configs/analytic/lever_retention.yaml and lever_progression.yaml."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from helpers import assert_mean_within
from sim.model.compile import compile_plan

ANALYTIC = Path(__file__).parents[1] / "configs" / "analytic"
BASE = yaml.safe_load((ANALYTIC / "lever_retention.yaml").read_text(encoding="utf-8"))
PROGRESSION = yaml.safe_load((ANALYTIC / "lever_progression.yaml").read_text(encoding="utf-8"))
REPS = 150
EAST = 0.6


def scenario(*levers: dict, base: dict = BASE):
    """The analytic scenario with these levers (a key set to None is left out)."""
    d = copy.deepcopy(base)
    d["levers"] = [{k: v for k, v in lv.items() if v is not None} for lv in levers]
    return sim.load_scenario(d)


def months(d: dict = BASE) -> np.ndarray:
    return np.arange(d["years"] * 12)


def inflow_stock(j: float, p: float, k: float, m: np.ndarray) -> np.ndarray:
    """E[headcount] with j starts a month and leaving hazard k × -ln(1-p)/12: (j/q')(1-(1-q')^(m+1))."""
    q = 1 - (1 - p) ** (k / 12)
    return j / q * (1 - (1 - q) ** (m + 1))


def assert_bit_identical(a, b):
    for name in a.data_vars:
        if "lever" in a[name].dims:
            continue
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def assert_same_except(ex, base_ex, names=("headcount", "joiners", "leavers", "effective_fte"), **where):
    for name in names:
        np.testing.assert_array_equal(ex[name].sel(**where).values, base_ex[name].sel(**where).values, err_msg=name)


@pytest.fixture(scope="module")
def baseline():
    scn = scenario()
    return scn, sim.run(scn, replicates=REPS), sim.expected(scn)


# --- retention ---------------------------------------------------------------------------------------

RETENTION = {"lever": "retention", "profession": "nurse", "leave_rate_multiplier": 0.8,
             "cost_per_head_per_year": 120}


@pytest.mark.parametrize("ages", [None, [20, 40]])
def test_retention_steady_state_becomes_J_over_k_lambda(ages):
    scn = scenario({**RETENTION, "ages": ages})
    ex, ds = sim.expected(scn), sim.run(scn, replicates=REPS)
    m = months()
    formula = inflow_stock(100, 0.2, 0.8, m)
    hc = ex.headcount.sel(profession="nurse").sum("place").values
    np.testing.assert_allclose(hc, formula, rtol=1e-9)
    assert_mean_within(ds.headcount.sel(profession="nurse").sum("place").values, formula, what="retention")
    # the limit j/q' is J/(k·λ) to within the discrete-time error
    q = 1 - 0.8 ** (0.8 / 12)
    assert abs(100 / q - 1200 / (0.8 * -np.log(0.8))) / (100 / q) < 0.02
    # £120 per head a year, every head of the profession in scope
    np.testing.assert_allclose(ex.lever_cost.values[:, 0], hc * 10, rtol=1e-9)
    assert_mean_within(ds.lever_cost.values[:, :, 0], hc * 10, what="retention cost")


def test_retention_acts_only_in_its_window_and_slice(baseline):
    _, base_ds, base_ex = baseline
    scn = scenario({**RETENTION, "level": "place", "where": "West", "from": "2027-04", "until": "2028-03"})
    plan, plain = compile_plan(scn), compile_plan(scn, apply_levers=False)
    ratio = plan.leave_hazard / plain.leave_hazard
    np.testing.assert_allclose(ratio[12:24, 0, 1], 0.8, rtol=1e-12)
    ratio[12:24, 0, 1] = 1.0
    np.testing.assert_array_equal(ratio, 1.0)
    ex = sim.expected(scn)
    assert_same_except(ex, base_ex, profession="doctor")
    assert_same_except(ex, base_ex, profession="nurse", place="East")
    # West nurses: the baseline up to month 11, then the hazard × 0.8 for 12 months, then back
    q, q2 = 1 - 0.8 ** (1 / 12), 1 - 0.8 ** (0.8 / 12)
    h = np.zeros(len(months()))
    prev = 0.0
    for t in months():
        prev = prev * (1 - (q2 if 12 <= t <= 23 else q)) + 40
        h[t] = prev
    np.testing.assert_allclose(ex.headcount.sel(profession="nurse", place="West").values, h, rtol=1e-9)
    ds = sim.run(scn, replicates=REPS)
    np.testing.assert_array_equal(ds.headcount.isel(time=slice(0, 12)).values,
                                  base_ds.headcount.isel(time=slice(0, 12)).values)
    cost = ex.lever_cost.values[:, 0]
    assert not cost[:12].any() and not cost[24:].any()
    np.testing.assert_allclose(cost[12:24], h[12:24] * 10, rtol=1e-9)


def test_retention_by_age_acts_only_on_those_ages(baseline):
    _, base_ds, base_ex = baseline
    # nobody is 50-60 within the horizon: bit-identical to the baseline
    ds = sim.run(scenario({**RETENTION, "ages": [50, 60], "cost_per_head_per_year": 0}), replicates=REPS)
    assert_bit_identical(ds, base_ds)
    scn = scenario({**RETENTION, "ages": [25, 40], "level": "place", "where": "East"})
    plan = compile_plan(scn)
    mult = plan.leave_age_mult
    np.testing.assert_array_equal(mult[0, 0, 25:41], 0.8)
    mult[0, 0, 25:41] = 1.0
    np.testing.assert_array_equal(mult, 1.0)
    ex = sim.expected(scn)
    assert_same_except(ex, base_ex, place="West")
    assert_same_except(ex, base_ex, profession="doctor")
    # joiners are 20-24: East nurses keep more staff, but only once some of them turn 25
    east, base_east = (x.headcount.sel(profession="nurse", place="East").values for x in (ex, base_ex))
    assert np.array_equal(east[:6], base_east[:6]) and (east[-12:] > base_east[-12:]).all()


def test_multiplier_one_changes_nothing(baseline):
    _, base_ds, _ = baseline
    ds = sim.run(scenario({**RETENTION, "leave_rate_multiplier": 1, "cost_per_head_per_year": 0},
                          {**RETENTION, "leave_rate_multiplier": 1, "cost_per_head_per_year": 0, "ages": [20, 30]},
                          {"lever": "wellbeing", "profession": "nurse", "sickness_multiplier": 1},
                          {"lever": "leadership_cpd", "profession": "nurse", "to_profession": "doctor",
                           "progression_rate": 0, "leave_rate_multiplier": 1, "ramp_months": 6}),
                 replicates=REPS)
    assert_bit_identical(ds, base_ds)
    assert not ds.lever_cost.values.any()


# --- wellbeing ----------------------------------------------------------------------------------------

WELLBEING = {"lever": "wellbeing", "profession": "nurse", "sickness_multiplier": 0.6, "cost_per_head_per_year": 50}


def test_wellbeing_effective_fte_is_fte_times_one_minus_k_s(baseline):
    _, base_ds, base_ex = baseline
    scn = scenario(WELLBEING)
    ex, ds = sim.expected(scn), sim.run(scn, replicates=REPS)
    nurse = ex.sel(profession="nurse")
    np.testing.assert_allclose(nurse.effective_fte.values, nurse.fte.values * (1 - 0.6 * 0.05), rtol=1e-6)
    formula = inflow_stock(100, 0.2, 1.0, months()) * 0.9 * (1 - 0.6 * 0.05)
    np.testing.assert_allclose(nurse.effective_fte.sum("place").values, formula, rtol=1e-6)   # float32 results
    # headcount is untouched, replicate by replicate; effective FTE follows
    np.testing.assert_array_equal(ds.headcount.values, base_ds.headcount.values)
    np.testing.assert_allclose(ds.effective_fte.sel(profession="nurse").values,
                               base_ds.fte.sel(profession="nurse").values * (1 - 0.6 * 0.05), rtol=1e-6)
    assert_mean_within(ds.effective_fte.sel(profession="nurse").sum("place").values, formula, atol=0.01,
                       what="effective FTE")
    np.testing.assert_allclose(ex.lever_cost.values[:, 0], nurse.headcount.sum("place").values * 50 / 12,
                               rtol=1e-9)


def test_wellbeing_acts_only_in_its_window_and_slice(baseline):
    _, _, base_ex = baseline
    scn = scenario({**WELLBEING, "where": "East", "from": "2027-04", "until": "2028-03", "ramp_months": 4})
    ex = sim.expected(scn)
    assert_same_except(ex, base_ex, profession="doctor")
    assert_same_except(ex, base_ex, profession="nurse", place="West")
    np.testing.assert_array_equal(ex.headcount.values, base_ex.headcount.values)
    east = ex.sel(profession="nurse", place="East")
    s = 1 - east.effective_fte.values / east.fte.values
    k = np.ones(len(months()))
    k[12:24] = 1 + (0.6 - 1) * np.minimum(1, (np.arange(12) + 1) / 4)   # a 4-month ramp, then 0.6
    np.testing.assert_allclose(s, 0.05 * k, rtol=1e-5)
    # sickness is held at most 1
    worse = compile_plan(scenario({**WELLBEING, "sickness_multiplier": 10}))
    np.testing.assert_allclose(worse.sickness[:, 0], 0.5)
    twice = compile_plan(scenario({**WELLBEING, "sickness_multiplier": 10}, {**WELLBEING, "sickness_multiplier": 10}))
    np.testing.assert_array_equal(twice.sickness[:, 0], 1.0)


# --- leadership and CPD -------------------------------------------------------------------------------

CPD = {"lever": "leadership_cpd", "profession": "nurse", "to_profession": "advanced_practitioner",
       "progression_rate": 0.15, "leave_rate_multiplier": 0.9, "cost_per_head_per_year": 300}


def test_leadership_cpd_closed_form():
    scn = scenario(CPD, base=PROGRESSION)
    ex, ds = sim.expected(scn), sim.run(scn, replicates=REPS)
    m = months(PROGRESSION)
    a, b, n0 = 0.9 ** (0.9 / 12), 0.85 ** (1 / 12), 5000
    nurses = n0 * (a * b) ** (m + 1)
    advanced = n0 * a * (1 - b) * (1 - (a * b) ** (m + 1)) / (1 - a * b)
    np.testing.assert_allclose(ex.headcount.sel(profession="nurse").sum("place").values, nurses, rtol=1e-9)
    np.testing.assert_allclose(ex.headcount.sel(profession="advanced_practitioner").sum("place").values, advanced,
                               rtol=1e-9)
    moved = np.diff(np.concatenate([[0.0], advanced]))
    np.testing.assert_allclose(ex.leavers.sel(profession="nurse", reason="transfer_out").sum("place").values, moved,
                               rtol=1e-9)
    for prof, ref in (("nurse", nurses), ("advanced_practitioner", advanced)):
        assert_mean_within(ds.headcount.sel(profession=prof).sum("place").values, ref, what=prof)
    # each replicate keeps everyone who does not leave
    left = ds.leavers.sel(reason="leaver").sum(["profession", "place"]).cumsum("time")
    kept = ds.headcount.sum(["profession", "place"]) + left
    np.testing.assert_array_equal(kept.values, n0)
    np.testing.assert_allclose(ex.lever_cost.values[:, 0], nurses * 25, rtol=1e-9)


def test_leadership_cpd_acts_only_in_its_window_and_slice():
    base_scn = scenario(base=PROGRESSION)
    base_ex, base_ds = sim.expected(base_scn), sim.run(base_scn, replicates=REPS)
    scn = scenario({**CPD, "level": "place", "where": "West", "from": "2027-04"}, base=PROGRESSION)
    plan, plain = compile_plan(scn), compile_plan(scn, apply_levers=False)
    np.testing.assert_array_equal(plan.transfer_hazard[:12], plain.transfer_hazard[:12])
    np.testing.assert_array_equal(plan.transfer_hazard[:, :, 0], plain.transfer_hazard[:, :, 0])   # East
    np.testing.assert_allclose(plan.transfer_hazard[12:, 0, 1, 1], -np.log(0.85) / 12, rtol=1e-12)
    np.testing.assert_array_equal(plan.leave_hazard[:, :, 0], plain.leave_hazard[:, :, 0])
    ex = sim.expected(scn)
    assert_same_except(ex, base_ex, place="East")
    ds = sim.run(scn, replicates=REPS)
    np.testing.assert_array_equal(ds.headcount.isel(time=slice(0, 12)).values,
                                  base_ds.headcount.isel(time=slice(0, 12)).values)
    assert not ex.lever_cost.values[:12].any() and (ex.lever_cost.values[12:] > 0).all()


# --- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lever, field, words", [
    ({**RETENTION, "profession": "midwife"}, "levers.0.profession", ["midwife", "nurse", "doctor"]),
    ({**RETENTION, "leave_rate_multiplier": -0.5}, "levers.0.leave_rate_multiplier", ["0 to 10"]),
    ({**RETENTION, "leave_rate_multiplier": 11}, "levers.0.leave_rate_multiplier", ["0 to 10"]),
    ({**RETENTION, "ages": [55, 70], "from": "2027-04"}, "levers.0.from", ["whole horizon"]),
    ({**RETENTION, "ages": [55, 70], "until": "2027-04"}, "levers.0.until", ["whole horizon"]),
    ({**RETENTION, "ages": [55, 70], "ramp_months": 12}, "levers.0.ramp_months", ["whole horizon"]),
    ({**RETENTION, "ages": [70, 55]}, "levers.0.ages", ["youngest first", "[70, 55]"]),
    ({**RETENTION, "ages": [55, 170]}, "levers.0.ages", ["0 to 100", "170"]),
    ({**RETENTION, "ages": [55]}, "levers.0.ages", ["[youngest, oldest]"]),
    ({**RETENTION, "ages": [55.5, 60]}, "levers.0.ages", ["whole years"]),
    ({**WELLBEING, "sickness_multiplier": -1}, "levers.0.sickness_multiplier", ["0 to 10"]),
    ({**WELLBEING, "profession": "porter"}, "levers.0.profession", ["porter"]),
    ({**CPD, "to_profession": "consultant"}, "levers.0.to_profession", ["consultant", "nurse"]),
    ({**CPD, "to_profession": "nurse"}, "levers.0.to_profession", ["different"]),
    ({**CPD, "to_profession": None}, "levers.0.to_profession", ["progression_rate", "advanced_practitioner"]),
    ({**CPD, "progression_rate": 1.5}, "levers.0.progression_rate", ["0 to 0.99"]),
    ({**CPD, "cost_per_head_per_year": -3}, "levers.0.cost_per_head_per_year", ["from 0 to"]),
])
def test_bad_input_names_the_field(lever, field, words):
    data = copy.deepcopy(PROGRESSION if lever["lever"] == "leadership_cpd" else BASE)
    data["levers"] = [{k: v for k, v in lever.items() if v is not None}]
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(data)
    found = [msg for path, msg in info.value.problems if path == field]
    assert found, info.value.problems
    for w in words:
        assert w in found[0], found[0]


def test_adaptive_plan_may_not_raise_retention_by_age():
    data = copy.deepcopy(BASE)
    data["levers"] = [{**RETENTION, "ages": [55, 70], "id": "late_career"},
                      {"lever": "adaptive_plan", "profession": "nurse", "raise_levers": ["late_career"]}]
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(data)
    assert any(path == "levers.0.ages" and "adaptive" in msg for path, msg in info.value.problems)
