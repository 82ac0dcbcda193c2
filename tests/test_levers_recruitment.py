"""Recruitment levers (sim/levers/recruitment.py): international_recruitment, return_to_practice and
streamlined_recruitment, checked against closed forms on configs/analytic/lever_recruitment.yaml."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from helpers import assert_mean_within
from sim.model.compile import compile_plan

CONFIG = Path(__file__).parents[1] / "configs" / "analytic" / "lever_recruitment.yaml"
BASE = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
REPS = 150
M = BASE["years"] * 12
EAST, WEST = 0.6, 0.4                          # population shares of the two places
INTL = 1                                       # source index of international joiners


def scenario(*levers: dict):
    """The analytic scenario with these levers (a key set to None is left out)."""
    d = copy.deepcopy(BASE)
    d["levers"] = [{k: v for k, v in lv.items() if v is not None} for lv in levers]
    return sim.load_scenario(d)


def q_of(p: float) -> float:
    return 1 - (1 - p) ** (1 / 12)


def stock(j: np.ndarray, p: float) -> np.ndarray:
    """E[headcount at the end of month m] = Σ_{k≤m} j_k (1-q)^(m-k), starting empty."""
    m = np.arange(len(j))
    lag = m[:, None] - m[None, :]
    return np.where(lag >= 0, (1 - q_of(p)) ** np.maximum(lag, 0), 0.0) @ j


def nurse_starts() -> dict[str, np.ndarray]:
    """Expected nurse starts a month by source, all places, from the scenario's own numbers."""
    m = np.arange(M)
    return {"international": np.full(M, 240 / 12), "return_to_practice": np.full(M, 60 / 12),
            "domestic": np.where(m >= 24 + 3, 720 / 12, 360 / 12)}     # step in April 2028, 3 months to hire


def nurse(ds, place=None):
    sel = ds.sel(profession="nurse")
    return sel if place is None else sel.sel(place=place)


def assert_bit_identical(a, b):
    for name in a.data_vars:
        if "lever" in a[name].dims:
            continue
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


@pytest.fixture(scope="module")
def baseline():
    scn = scenario()
    return scn, sim.run(scn, replicates=REPS), sim.expected(scn)


# --- international recruitment ------------------------------------------------------------------

CAMPAIGN = {"lever": "international_recruitment", "profession": "nurse", "hires_per_year": 120,
            "cost_per_hire": 6000, "from": "2027-04"}


@pytest.fixture(scope="module")
def campaign():
    scn = scenario(CAMPAIGN)
    return scn, sim.run(scn, replicates=REPS), sim.expected(scn)


def test_international_campaign_raises_hires_and_stock_by_the_closed_form(campaign):
    scn, ds, ex = campaign
    starts = nurse_starts()
    extra = np.where(np.arange(M) >= 12, 120 / 12, 0.0)               # from April 2027, month 12
    intl = starts["international"] + extra
    j = intl + starts["return_to_practice"] + starts["domestic"]
    formula = stock(j, 0.15)
    np.testing.assert_allclose(nurse(ex).joiners.sel(source="international").sum("place").values, intl, rtol=1e-9)
    np.testing.assert_allclose(nurse(ex).headcount.sum("place").values, formula, rtol=1e-9)
    # shared by population: East takes 60%
    np.testing.assert_allclose(nurse(ex, "East").headcount.values, EAST * formula, rtol=1e-9)
    assert_mean_within(nurse(ds).headcount.sum("place").values, formula, what="campaign headcount")
    assert_mean_within(nurse(ds).joiners.sel(source="international").sum("place").values, intl,
                       what="international joiners")
    # the campaign's own effect: (ΔJ/12)/q (1-(1-q)^(m-11)) from month 12, tending to ΔJ/λ
    q = q_of(0.15)
    m = np.arange(M)
    gain = np.where(m >= 12, 10 / q * (1 - (1 - q) ** (m - 11)), 0.0)
    np.testing.assert_allclose(formula - stock(j - extra, 0.15), gain, rtol=1e-9, atol=1e-9)
    assert abs(10 / q - 120 / -np.log(0.85)) / (10 / q) < 0.01
    # cost: the campaign's joiners × £ per hire
    cost = ex.lever_cost.sel(lever="international_recruitment").values
    np.testing.assert_allclose(cost, extra * 6000, rtol=1e-9)
    np.testing.assert_allclose(ex.cost.sel(kind="levers").values, cost, rtol=1e-12)
    assert_mean_within(ds.lever_cost.sel(lever="international_recruitment").values, extra * 6000,
                       what="campaign cost")


def test_ethical_cap_bounds_international_starts():
    # baseline 240 a year: a campaign of 240 more under a cap of 360 adds only 120
    scn = scenario({**CAMPAIGN, "hires_per_year": 240, "ethical_cap": 360, "from": None})
    ex = sim.expected(scn)
    intl = nurse(ex).joiners.sel(source="international").sum("place").values
    np.testing.assert_allclose(intl, 360 / 12, rtol=1e-9)
    starts = nurse_starts()
    j = 360 / 12 + starts["return_to_practice"] + starts["domestic"]
    np.testing.assert_allclose(nurse(ex).headcount.sum("place").values, stock(j, 0.15), rtol=1e-9)
    np.testing.assert_allclose(ex.lever_cost.values[:, 0], 120 / 12 * 6000, rtol=1e-9)
    # a cap at or below the baseline adds nobody
    none = sim.expected(scenario({**CAMPAIGN, "ethical_cap": 200}))
    np.testing.assert_allclose(nurse(none).joiners.sel(source="international").sum("place").values, 240 / 12,
                               rtol=1e-12)
    assert not none.lever_cost.values.any()
    # at place level the cap bounds that place's own starts: East's baseline is 144 a year
    east = sim.expected(scenario({**CAMPAIGN, "level": "place", "where": "East", "hires_per_year": 100,
                                  "ethical_cap": 200, "from": None}))
    np.testing.assert_allclose(nurse(east, "East").joiners.sel(source="international").values, 200 / 12,
                               rtol=1e-9)
    np.testing.assert_allclose(nurse(east, "West").joiners.sel(source="international").values, 96 / 12,
                               rtol=1e-9)


def test_international_campaign_acts_only_in_its_window_and_slice(baseline):
    _, base_ds, base_ex = baseline
    lever = {**CAMPAIGN, "level": "place", "where": "West", "until": "2028-03"}
    scn = scenario(lever)
    with_, without = compile_plan(scn), compile_plan(scn, apply_levers=False)
    changed = with_.recruit_rate != without.recruit_rate
    assert changed[12:24, 0, 1, 0].all()                               # nurses, West, international
    changed[12:24, 0, 1, 0] = False
    assert not changed.any()
    ex = sim.expected(scn)
    for name in ("headcount", "joiners", "leavers"):
        np.testing.assert_array_equal(ex[name].sel(profession="doctor").values,
                                      base_ex[name].sel(profession="doctor").values)
        np.testing.assert_array_equal(nurse(ex, "East")[name].values, nurse(base_ex, "East")[name].values)
    np.testing.assert_array_equal(nurse(ex, "West").joiners.isel(time=slice(24, None)).values,
                                  nurse(base_ex, "West").joiners.isel(time=slice(24, None)).values)
    ds = sim.run(scn, replicates=REPS)
    for name in ("headcount", "joiners", "leavers"):
        np.testing.assert_array_equal(ds[name].isel(time=slice(0, 12)).values,
                                      base_ds[name].isel(time=slice(0, 12)).values)
    cost = ex.lever_cost.values[:, 0]
    assert not cost[:12].any() and not cost[24:].any()
    np.testing.assert_allclose(cost[12:24], 120 / 12 * 6000, rtol=1e-9)   # all 120 go to West


def test_zero_hires_change_nothing(baseline):
    scn, base_ds, _ = baseline
    quiet = scenario({**CAMPAIGN, "hires_per_year": 0},
                     {"lever": "return_to_practice", "profession": "doctor", "hires_per_year": 0,
                      "cost_per_returner": 2000})
    ds = sim.run(quiet, replicates=REPS)
    assert_bit_identical(ds, base_ds)
    assert not ds.lever_cost.values.any()


# --- return to practice ------------------------------------------------------------------------------

def test_return_to_practice_closed_form_in_its_place():
    lever = {"lever": "return_to_practice", "profession": "doctor", "hires_per_year": {2026: 60, 2027: 120},
             "cost_per_returner": 2000, "level": "place", "where": "West"}
    scn = scenario(lever)
    ex, ds = sim.expected(scn), sim.run(scn, replicates=REPS)
    base = sim.expected(scenario())
    m = np.arange(M)
    extra = np.where(m >= 12, 120 / 12, 60 / 12)                        # year table: from April 2027
    doc_west = ex.sel(profession="doctor", place="West")
    np.testing.assert_allclose(doc_west.joiners.sel(source="return_to_practice").values, extra, rtol=1e-9)
    j = WEST * (120 + 120) / 12 + extra
    np.testing.assert_allclose(doc_west.headcount.values, stock(j, 0.1), rtol=1e-9)
    assert_mean_within(ds.headcount.sel(profession="doctor", place="West").values, stock(j, 0.1),
                       what="return to practice headcount")
    # nothing moves in East or for nurses
    for name in ("headcount", "joiners"):
        np.testing.assert_array_equal(ex[name].sel(place="East").values, base[name].sel(place="East").values)
        np.testing.assert_array_equal(nurse(ex)[name].values, nurse(base)[name].values)
    np.testing.assert_allclose(ex.lever_cost.values[:, 0], extra * 2000, rtol=1e-9)
    assert_mean_within(ds.lever_cost.values[:, :, 0], extra * 2000, what="returner cost")


# --- streamlined recruitment ------------------------------------------------------------------------

STREAMLINED = {"lever": "streamlined_recruitment", "profession": "nurse", "months_saved": 2,
               "saving_per_hire": 500}


def test_streamlined_recruitment_moves_the_step_earlier():
    scn = scenario(STREAMLINED)
    ex, ds = sim.expected(scn), sim.run(scn, replicates=REPS)
    m = np.arange(M)
    starts = nurse_starts()
    domestic = np.where(m >= 27 - 2, 720 / 12, 360 / 12)              # step at month 25 instead of 27
    np.testing.assert_allclose(nurse(ex).joiners.sel(source="domestic").sum("place").values, domestic, rtol=1e-9)
    np.testing.assert_allclose(nurse(ex).joiners.sel(source="international").sum("place").values,
                               starts["international"], rtol=1e-9)
    j = domestic + starts["international"] + starts["return_to_practice"]
    np.testing.assert_allclose(nurse(ex).headcount.sum("place").values, stock(j, 0.15), rtol=1e-9)
    assert_mean_within(nurse(ds).joiners.sel(source="domestic").sum("place").values, domestic,
                       what="domestic joiners")
    assert_mean_within(nurse(ds).headcount.sum("place").values, stock(j, 0.15), what="streamlined headcount")
    # a saving (negative cost) on every experienced hire through the faster process
    np.testing.assert_allclose(ex.lever_cost.values[:, 0], -500 * j, rtol=1e-9)
    assert_mean_within(ds.lever_cost.values[:, :, 0], -500 * j, what="saving")
    plan = compile_plan(scn)
    assert list(plan.time_to_hire) == [1, 2]                           # nurses 3 → 1 months; doctors as they were


def test_streamlined_recruitment_acts_only_in_its_window_and_slice(baseline):
    _, base_ds, base_ex = baseline
    lever = {**STREAMLINED, "level": "place", "where": "East", "from": "2028-01", "until": "2028-06",
             "ramp_months": 3}
    scn = scenario(lever)
    plan, plain = compile_plan(scn), compile_plan(scn, apply_levers=False)
    assert list(plan.time_to_hire) == [3, 2]                           # a partial lever keeps the lag
    diff = plan.recruit_rate != plain.recruit_rate
    assert diff[25:27, 0, 0, 2].all()                                  # East nurses' domestic starts, months 25-26
    diff[25:27, 0, 0, 2] = False
    assert not diff.any()
    ex = sim.expected(scn)
    dom = nurse(ex, "East").joiners.sel(source="domestic").values
    np.testing.assert_allclose(dom, EAST * np.where((np.arange(M) >= 25), 720, 360) / 12, rtol=1e-9)
    for name in ("headcount", "joiners"):
        np.testing.assert_array_equal(nurse(ex, "West")[name].values, nurse(base_ex, "West")[name].values)
        np.testing.assert_array_equal(ex[name].sel(profession="doctor").values,
                                      base_ex[name].sel(profession="doctor").values)
    ds = sim.run(scn, replicates=REPS)
    np.testing.assert_array_equal(ds.headcount.isel(time=slice(0, 25)).values,
                                  base_ds.headcount.isel(time=slice(0, 25)).values)
    # the saving counts East's hires through the faster process: a third, two thirds, then all of them
    delivered = np.zeros(M)
    delivered[21:27] = [1 / 3, 2 / 3, 1, 1, 1, 1]                      # 2028-01 to 2028-06, 3-month ramp
    hires = nurse(ex, "East").joiners.sel(source=["international", "return_to_practice", "domestic"]).sum("source")
    np.testing.assert_allclose(ex.lever_cost.values[:, 0], -500 * delivered * hires.values, rtol=1e-9)


def test_no_months_saved_changes_nothing(baseline):
    _, base_ds, _ = baseline
    ds = sim.run(scenario({**STREAMLINED, "months_saved": 0}), replicates=REPS)
    assert_bit_identical(ds, base_ds)
    assert not ds.lever_cost.values.any()


# --- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lever, field, words", [
    ({**CAMPAIGN, "profession": "midwife"}, "levers.0.profession", ["midwife", "nurse", "doctor"]),
    ({**CAMPAIGN, "ethical_cap": -1}, "levers.0.ethical_cap", ["from 0 to"]),
    ({**CAMPAIGN, "hires_per_year": -5}, "levers.0.hires_per_year", ["from 0 to"]),
    ({**CAMPAIGN, "cost_per_hire": "lots"}, "levers.0.cost_per_hire", ["lots"]),
    ({"lever": "return_to_practice", "profession": "porter", "hires_per_year": 5}, "levers.0.profession",
     ["porter", "nurse"]),
    ({**STREAMLINED, "months_saved": 4}, "levers.0.months_saved", ["time_to_hire_months", "0 to 3"]),
    ({**STREAMLINED, "months_saved": 1.5}, "levers.0.months_saved", []),
    ({**STREAMLINED, "profession": "Nurse"}, "levers.0.profession", ["Nurse", "nurse"]),
    ({**CAMPAIGN, "colour": "red"}, "levers.0.colour", []),
])
def test_bad_input_names_the_field(lever, field, words):
    with pytest.raises(sim.ScenarioError) as info:
        scenario(lever)
    found = [msg for path, msg in info.value.problems if path == field]
    assert found, info.value.problems
    for w in words:
        assert w in found[0], found[0]
