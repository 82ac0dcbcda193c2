"""Area 10 lever (shared recruitment and deployment pool): the closed form of
configs/analytic/lever_pool.yaml on the kernel, the agents engine and the mean field; a pool alone in
its ICS changes nothing; the window; costs; bad input."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import poisson

import sim
from helpers import assert_mean_within
from sim.model.compile import compile_plan
from sim.model.pools import water_fill

POOL = yaml.safe_load((Path(__file__).parents[1] / "configs" / "analytic" / "lever_pool.yaml").read_text())
LEVER = {"lever": "shared_pool", "owner": "North", "cost_per_year": 120000, "cost_per_hire": 500}
MONTHS = POOL["years"] * 12


def with_levers(*levers: dict) -> dict:
    d = copy.deepcopy(POOL)
    d["levers"] = list(levers)
    return d


def parts():
    """From the config alone: staff N_l, whole vacant posts V_l and monthly arrivals λ_l of each place."""
    nurse = POOL["professions"]["nurse"]
    places = [p for ics in POOL["geography"]["icss"] for p in ics["places"]]
    pop = np.array([p["population"] for p in places], float)
    heads = np.array([nurse["headcount"][p["name"]] for p in places], float)
    posts = np.floor(heads / (1 - nurse["vacancy_rate"]) + 1e-9)
    lam = nurse["recruitment"]["domestic"] / 12 * pop / pop.sum()
    return heads, posts - heads, lam


def filled(v: float, lam: float, months: np.ndarray) -> np.ndarray:
    """E[min(V, Poisson(λ (m+1)))] for each month m."""
    k = np.arange(int(v))
    return np.array([poisson.sf(k, lam * (m + 1)).sum() for m in months])


def closed_form(pooled: bool) -> np.ndarray:
    """[M, 3] expected staff at A, B, C; pooled: North's total (A + B) instead of A and B."""
    heads, vac, lam = parts()
    m = np.arange(MONTHS)
    each = heads[None, :] + np.stack([filled(vac[i], lam[i], m) for i in range(3)], axis=1)
    if pooled:
        each[:, 0] = heads[0] + heads[1] + filled(vac[0] + vac[1], lam[0] + lam[1], m)
        each[:, 1] = np.nan
    return each


@pytest.fixture(scope="module")
def runs():
    base, pooled = sim.load_scenario(POOL), sim.load_scenario(with_levers(LEVER))
    return (base, pooled, sim.run(base, replicates=200), sim.run(pooled, replicates=200))


def north_and_c(ds, what="headcount"):
    x = ds[what].sel(profession="nurse")
    return np.stack([x.sel(place=["A", "B"]).sum("place").values, x.sel(place="C").values], axis=-1)


def test_without_a_pool_each_place_fills_its_own_vacancies(runs):
    _, _, ds0, _ = runs
    assert_mean_within(ds0.headcount.sel(profession="nurse").values, closed_form(False), what="no pool")
    # B's vacancies are still open at the horizon: hires at A who found none were lost
    assert ds0.headcount.sel(profession="nurse", place="B").isel(time=-1).mean() < parts()[0][1] + parts()[1][1] - 1


def test_the_pool_fills_the_ics_vacancies_together(runs):
    _, _, ds0, ds = runs
    truth = closed_form(True)
    assert_mean_within(north_and_c(ds), truth[:, [0, 2]], what="North and C with the pool")
    # hires land where the vacancies are: B's staff pass what B's own hires could give it
    b, b0 = (x.headcount.sel(profession="nurse", place="B").isel(time=12).mean() for x in (ds, ds0))
    assert b > b0 + 5
    # the pool never fills past the funded posts; every hire is a joiner by its source where it starts
    heads, vac, _ = parts()
    assert np.all(ds.headcount.sel(profession="nurse").values <= (heads + vac)[None, None, :])
    joined = ds.joiners.sel(profession="nurse", source="domestic").cumsum("time")
    np.testing.assert_array_equal(ds.headcount.sel(profession="nurse").values - heads, joined.values)


def test_agents_engine_and_mean_field_follow_the_pool():
    pooled = sim.load_scenario(with_levers(LEVER))
    truth = closed_form(True)[:, [0, 2]]
    agents = sim.run(pooled, replicates=60, engine="agents")
    assert_mean_within(north_and_c(agents), truth, what="agents engine with the pool")
    ex = sim.expected(pooled)
    # the mean field's moment closure is within one post per place of the closed form: without a pool it
    # is too (its continuity correction leaves a place at its cap at ~0.9 over the whole posts)
    assert np.all(np.abs(north_and_c(ex) - truth) <= [2.0, 1.0])
    np.testing.assert_allclose(sim.expected(sim.load_scenario(POOL)).headcount.sel(profession="nurse").values,
                               closed_form(False), atol=1.0)
    b = ex.headcount.sel(profession="nurse", place="B").values
    assert b[12] > closed_form(False)[12, 1] + 5


def test_a_pool_alone_in_its_ics_is_bit_identical():
    ds0 = sim.run(sim.load_scenario(POOL), replicates=20, seed=3)
    alone = dict(LEVER, owner="South", cost_per_year=0, cost_per_hire=0)
    ds = sim.run(sim.load_scenario(with_levers(alone)), replicates=20, seed=3)
    for name in ds0.data_vars:
        if "lever" not in ds0[name].dims:
            np.testing.assert_array_equal(ds[name].values, ds0[name].values, err_msg=name)
    assert np.all(ds.lever_cost.values == 0)


def test_the_pool_works_only_in_its_window():
    lever = dict(LEVER, **{"from": "2027-04", "until": "2027-09"})
    ds = sim.run(sim.load_scenario(with_levers(lever)), replicates=40, seed=5)
    ds0 = sim.run(sim.load_scenario(POOL), replicates=40, seed=5)
    for name in ("headcount", "joiners"):
        np.testing.assert_array_equal(ds[name].isel(time=slice(0, 12)).values, ds0[name].isel(time=slice(0, 12)).values)
    plan = compile_plan(sim.load_scenario(with_levers(lever)))
    on = np.zeros(MONTHS, bool)
    on[12:18] = True
    assert np.all((plan.pool[:, 0, :2] >= 0) == on[:, None]) and np.all(plan.pool[:, 0, 2] == -1)
    assert plan.pool[12, 0, 0] == plan.pool[12, 0, 1]
    # in force: more of B's vacancies are filled than by its own hires alone
    b, b0 = (x.headcount.sel(profession="nurse", place="B").isel(time=17).mean() for x in (ds, ds0))
    assert b > b0 + 2


def test_costs_running_and_per_hire(runs):
    _, _, _, ds = runs
    hires = ds.joiners.sel(profession="nurse", source="domestic", place=["A", "B"]).sum("place")
    expected = 120000 / 12 + 500 * hires
    np.testing.assert_allclose(ds.lever_cost.sel(lever="shared_pool").values, expected.values, rtol=1e-12)


def test_pool_levels_group_locations_by_area():
    plan = compile_plan(sim.load_scenario(with_levers(dict(LEVER, owner=None, pool_level="region"))))
    assert len(set(plan.pool[0, 0])) == 1                       # one region: one pool of all three
    plan = compile_plan(sim.load_scenario(with_levers(dict(LEVER, owner=None))))
    ids = plan.pool[0, 0]
    assert ids[0] == ids[1] != ids[2]                           # one pool per ICS
    two = compile_plan(sim.load_scenario(with_levers(dict(LEVER, owner="North"), dict(LEVER, owner="South", id="s"))))
    assert two.pool[0, 0, 0] != two.pool[0, 0, 2]               # levers' pools never merge


def test_water_fill_fills_the_emptiest_first():
    np.testing.assert_allclose(water_fill(np.array([5.0, 1.0, 3.0]), 3.0), [2.5, 0.0, 0.5])   # down to 2.5
    np.testing.assert_allclose(water_fill(np.array([5.0, 1.0, 3.0]), 9.0), [5.0, 1.0, 3.0])
    np.testing.assert_allclose(water_fill(np.array([2.0, 2.0]), 1.0), [0.5, 0.5])
    assert water_fill(np.array([4.0]), 0.0).sum() == 0


@pytest.mark.parametrize("lever,field,text", [
    (dict(LEVER, profession="midwife"), "levers.0.profession", "nurse"),
    (dict(LEVER, pool_level="trust"), "levers.0.pool_level", "ics"),
    (dict(LEVER, cost_per_year=-1), "levers.0.cost_per_year", "from 0 to"),
    (dict(LEVER, cost_per_hire="lots"), "levers.0.cost_per_hire", "lots"),
    (dict(LEVER, owner="West"), "levers.0.owner", "West"),
    (dict(LEVER, pooled=True), "levers.0.pooled", ""),
])
def test_bad_input_names_the_field(lever, field, text):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(with_levers(lever))
    hits = [msg for f, msg in err.value.problems if f.startswith(field)]
    assert hits and any(text in msg for msg in hits), err.value.problems
