"""Education levers (sim/levers/education.py) on configs/analytic/lever_education.yaml: closed forms for
the projection (exact) and the Monte Carlo mean (within sampling error), nothing outside the window or
slice, no effect when the lever is null, and bad input named by field."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from helpers import assert_mean_within
from sim.model.compile import compile_plan

CONFIG = Path(__file__).parents[1] / "configs" / "analytic" / "lever_education.yaml"
BASE = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
R = 150
# intake months (September) counted from the start, 2026-04
SEPT = np.array([5, 17, 29, 41, 53])
A = 0.25                                   # degree attrition
NORTH, SOUTH = 0.6, 0.4                    # population shares


def scenario(*levers, degree=None, apprenticeship=None, years=None):
    d = copy.deepcopy(BASE)
    d["levers"] = list(levers)
    d["programmes"]["degree"].update(degree or {})
    d["programmes"]["apprenticeship"].update(apprenticeship or {})
    if years:
        d["years"] = years
    return sim.load_scenario(d)


def starters(scn, prog="degree"):
    """Whole starters per month, all places [M]."""
    plan = compile_plan(scn)
    return plan.intake[:, plan.programmes.index(prog), :].sum(axis=-1)


def total(da, prog="degree"):
    return da.sel(programme=prog).sum("place").values


@pytest.fixture(scope="module")
def baseline():
    scn = scenario()
    return sim.expected(scn), sim.run(scn, replicates=R)


# ---------------------------------------------------------------------------------------------- closed forms

def test_training_places_add_completions_exactly_two_years_later(baseline):
    ex0, _ = baseline
    scn = scenario({"lever": "training_places", "programme": "degree", "change": 0.1, "from": "2027-04",
                    "cost_per_extra_starter": 500})
    np.testing.assert_array_equal(starters(scn)[SEPT], [1000, 1100, 1100, 1100, 1100])
    ex, ds = sim.expected(scn), sim.run(scn, replicates=R)
    comp = total(ex.completions)
    np.testing.assert_allclose(comp[SEPT[2:]], np.array([1000, 1100, 1100]) * (1 - A), rtol=1e-9)
    assert np.count_nonzero(comp) == 3
    # +10% places from September 2027 give +10% completions in September 2029, the programme's length later
    np.testing.assert_allclose(comp[41] / total(ex0.completions)[41], 1.1, rtol=1e-9)
    np.testing.assert_allclose(comp[29], total(ex0.completions)[29], rtol=1e-12)
    assert_mean_within(total(ds.completions), comp, what="completions")
    # cost: 500 per extra starter, 100 extra in September 2027, to the penny
    cost = ds.lever_cost.sel(lever="training_places").values
    assert abs(cost[:, 17] - 100 * 500).max() < 0.005
    assert np.all(cost[:, np.setdiff1d(np.arange(60), SEPT[1:])] == 0)


def test_training_places_stop_at_placement_capacity():
    lever = {"lever": "training_places", "programme": "degree", "change": 0.1, "from": "2027-04"}
    scn = scenario(lever, degree={"placement_capacity": 1050})
    np.testing.assert_array_equal(starters(scn)[SEPT], [1000, 1050, 1050, 1050, 1050])
    comp = total(sim.expected(scn).completions)
    np.testing.assert_allclose(comp[[29, 41]], [1000 * (1 - A), 1050 * (1 - A)], rtol=1e-9)
    # ... and placement_capacity lifts the limit: now the full +10% starts
    more = {"lever": "placement_capacity", "programme": "degree", "extra_per_year": 100}
    np.testing.assert_array_equal(starters(scenario(lever, more, degree={"placement_capacity": 1050}))[SEPT],
                                  [1000, 1100, 1100, 1100, 1100])


def test_placement_capacity_raises_starters_and_costs_per_place():
    lever = {"lever": "placement_capacity", "programme": "degree", "extra_per_year": 50, "from": "2027-04",
             "cost_per_place_per_year": 1200}
    scn = scenario(lever, degree={"placement_capacity": 900})
    np.testing.assert_array_equal(starters(scn)[SEPT], [900, 950, 950, 950, 950])
    ex, ds = sim.expected(scn), sim.run(scn, replicates=R)
    comp = total(ex.completions)
    np.testing.assert_allclose(comp[[29, 41, 53]], np.array([900, 950, 950]) * (1 - A), rtol=1e-9)
    assert_mean_within(total(ds.completions), comp, what="completions")
    # 50 extra places × £1,200 a year = £5,000 a month from April 2027, to the penny
    want = np.where(np.arange(60) >= 12, 5000.0, 0.0)
    assert np.abs(ds.lever_cost.sel(lever="placement_capacity").values - want).max() < 0.005
    assert np.abs(ex.lever_cost.sel(lever="placement_capacity").values - want).max() < 0.005
    # as a share: +10% of 900
    share = dict(lever, extra_per_year=0, change=0.1)
    scn = scenario(share, degree={"placement_capacity": 900})
    np.testing.assert_array_equal(starters(scn)[SEPT], [900, 990, 990, 990, 990])
    np.testing.assert_allclose(sim.expected(scn).lever_cost.values[:, 0], 90 * 1200 / 12 * (np.arange(60) >= 12),
                               rtol=1e-12)


def test_attrition_reduction_exact_completions_and_trainees(baseline):
    ex0, _ = baseline
    r = 0.2
    scn = scenario({"lever": "attrition_reduction", "programme": "degree", "reduction": r, "from": "2027-04",
                    "until": "2028-03", "cost_per_starter": 300})
    ex, ds = sim.expected(scn), sim.run(scn, replicates=R)
    comp = total(ex.completions)
    np.testing.assert_allclose(comp[[29, 41, 53]], [750, 1000 * (1 - A * (1 - r)), 750], rtol=1e-9)
    assert_mean_within(total(ds.completions), comp, what="completions")
    # the September 2027 cohort survives k months as 1000·(1 - a')^(k/24), a' = a(1 - r)
    k = np.arange(24)
    diff = total(ex.trainees)[17 + k] - total(ex0.trainees)[17 + k]
    np.testing.assert_allclose(diff, 1000 * ((1 - A * (1 - r)) ** (k / 24) - (1 - A) ** (k / 24)), atol=1e-9)
    assert_mean_within(total(ds.trainees), total(ex.trainees), what="trainees")
    cost = ex.lever_cost.values[:, 0]
    assert abs(cost[17] - 1000 * 300) < 0.005 and np.count_nonzero(cost) == 1


def test_local_employment_change_to_and_cap():
    lever = {"lever": "local_employment", "programme": "degree", "change": 0.2, "from": "2028-04",
             "until": "2029-03", "cost_per_completer": 1000}
    scn = scenario(lever)
    ex, ds = sim.expected(scn), sim.run(scn, replicates=R)
    nq = ex.joiners.sel(source="newly_qualified", profession="graduate").sum("place").values
    np.testing.assert_allclose(nq[[29, 41, 53]], [750 * 0.8, 750 * 0.6, 750 * 0.6], rtol=1e-9)
    assert_mean_within(ds.joiners.sel(source="newly_qualified", profession="graduate").sum("place").values, nq,
                       what="newly qualified")
    # cost: £1,000 per completer in the window, replicate by replicate, to the penny
    comp = ds.completions.sel(programme="degree").sum("place").values
    want = comp * 1000.0 * ((np.arange(60) >= 24) & (np.arange(60) <= 35))
    assert np.abs(ds.lever_cost.values[:, :, 0] - want).max() < 0.005
    for extra, share in (({"change": None, "to": 0.9}, 0.9), ({"change": 0.5}, 1.0)):
        ex = sim.expected(scenario(dict(lever, **extra)))
        nq = ex.joiners.sel(source="newly_qualified", profession="graduate").sum("place").values
        np.testing.assert_allclose(nq[29], 750 * share, rtol=1e-9)


def test_apprenticeship_route_opens_an_in_service_route():
    lever = {"lever": "apprenticeship_route", "programme": "apprenticeship", "starters_per_year": 120,
             "cost_per_apprentice_year": 6000}
    scn = scenario(lever)
    np.testing.assert_array_equal(starters(scn, "apprenticeship")[SEPT], [120] * 5)
    ex, ds = sim.expected(scn), sim.run(scn, replicates=R)
    # apprentices are support staff while they train: training starts, and support headcount = trainees
    ts = ex.joiners.sel(source="training_start", profession="support").sum("place").values
    np.testing.assert_allclose(ts[SEPT], 120, rtol=1e-12)
    np.testing.assert_array_equal(ds.headcount.sel(profession="support").values,
                                  ds.trainees.sel(programme="apprenticeship").values)
    comp = total(ex.completions, "apprenticeship")
    np.testing.assert_allclose(comp[[29, 41, 53]], 120 * 0.9, rtol=1e-9)
    assert_mean_within(total(ds.completions, "apprenticeship"), comp, what="apprenticeship completions")
    # cost: £6,000 per apprentice-year, £500 a month per apprentice in training, to the penny
    tr = total(ds.trainees, "apprenticeship")
    assert np.abs(ds.lever_cost.values[:, :, 0] - tr * 500.0).max() < 0.005
    np.testing.assert_allclose(ex.lever_cost.values[6, 0], 120 * 0.9 ** (1 / 24) * 500, rtol=1e-9)
    # set: the route's intake replaces the programme's
    scn = scenario(dict(lever, mode="set", **{"from": "2027-04"}), apprenticeship={"intake": 200})
    np.testing.assert_array_equal(starters(scn, "apprenticeship")[SEPT], [200, 120, 120, 120, 120])


def test_widening_participation_fills_places():
    lever = {"lever": "widening_participation", "programme": "degree", "change": 0.1, "from": "2027-04",
             "cost_per_year": 24000}
    scn = scenario(lever, degree={"fill_rate": 0.8})
    np.testing.assert_array_equal(starters(scn)[SEPT], [800, 900, 900, 900, 900])
    ex, ds = sim.expected(scn), sim.run(scn, replicates=R)
    tr = total(ex.trainees)        # the September 2026 cohort, a year on, plus the new starters
    np.testing.assert_allclose(tr[SEPT[:2]], [800, 800 * (1 - A) ** (12 / 24) + 900], rtol=1e-12)
    np.testing.assert_allclose(total(ex.completions)[[29, 41]], [600, 675], rtol=1e-9)
    assert_mean_within(total(ds.completions), total(ex.completions), what="completions")
    assert np.abs(ds.lever_cost.values[:, :, 0] - 2000.0 * (np.arange(60) >= 12)).max() < 0.005
    # capped at a full fill: it cannot create places
    scn = scenario(dict(lever, change=0.5), degree={"fill_rate": 0.8})
    np.testing.assert_array_equal(starters(scn)[SEPT], [800, 1000, 1000, 1000, 1000])


def test_supply_expansion_commitment_linear_path():
    lever = {"lever": "supply_expansion_commitment", "programme": "degree", "target": 1600, "from": "2026-09",
             "by": "2029-09"}
    scn = scenario(lever)
    path = 1000 + 600 * np.clip((SEPT - 5) / (41 - 5), 0, 1)
    np.testing.assert_array_equal(starters(scn)[SEPT], path)          # 1000, 1200, 1400, 1600, 1600
    ex, ds = sim.expected(scn), sim.run(scn, replicates=R)
    np.testing.assert_allclose(total(ex.completions)[[29, 41, 53]], path[:3] * (1 - A), rtol=1e-9)
    assert_mean_within(total(ds.completions), total(ex.completions), what="completions")
    assert_mean_within(total(ds.trainees), total(ex.trainees), what="trainees")
    # by a year: April of it (month 36); starters are the path rounded to whole people
    scn = scenario(dict(lever, by=2029))
    path = 1000 + 600 * np.clip((SEPT - 5) / (36 - 5), 0, 1)
    np.testing.assert_array_equal(starters(scn)[SEPT], np.round(path))
    comp = total(sim.expected(scn).completions)
    np.testing.assert_allclose(comp[SEPT[2:]], np.round(path[:3]) * (1 - A), rtol=1e-9)


# ------------------------------------------------------------------------- nothing outside window or slice

def _changed(a, b, name):
    x, y = getattr(a, name), getattr(b, name)
    return {tuple(int(v) for v in i) for i in np.argwhere(x != y)}


G_DEG, G_APP, NTH, STH = 0, 1, 0, 1
WINDOWED = [
    # lever, programme overrides, plan array, the cells it may change ([M, G, L] or [M, G])
    ({"lever": "training_places", "programme": "degree", "change": 0.2, "where": "North", "from": "2027-04",
      "until": "2027-12"}, {}, "intake", {(17, G_DEG, NTH)}),
    ({"lever": "placement_capacity", "programme": "degree", "extra_per_year": 50, "from": "2027-04",
      "until": "2027-12"}, {"degree": {"placement_capacity": 900}}, "placement_capacity", {(17, G_DEG)}),
    ({"lever": "attrition_reduction", "programme": "degree", "reduction": 0.3, "where": "South",
      "from": "2027-04", "until": "2027-12"}, {}, "prog_dropout", {(m, G_DEG, STH) for m in range(12, 21)}),
    ({"lever": "local_employment", "programme": "degree", "change": 0.2, "where": "North", "from": "2028-04",
      "until": "2028-12"}, {}, "local_employment", {(m, G_DEG, NTH) for m in range(24, 33)}),
    ({"lever": "apprenticeship_route", "programme": "apprenticeship", "starters_per_year": 100, "where": "South",
      "from": "2027-04", "until": "2027-12"}, {}, "intake", {(17, G_APP, STH)}),
    ({"lever": "widening_participation", "programme": "degree", "change": 0.1, "where": "North",
      "from": "2027-04", "until": "2027-12"}, {"degree": {"fill_rate": 0.8}}, "fill_rate",
     {(m, G_DEG, NTH) for m in range(12, 21)}),
    ({"lever": "supply_expansion_commitment", "programme": "degree", "target": 1400, "by": "2029-09",
      "where": "North", "from": "2027-09", "until": "2029-12"}, {}, "intake", {(29, G_DEG, NTH), (41, G_DEG, NTH)}),
]


@pytest.mark.parametrize("lever,over,array,cells", WINDOWED, ids=[w[0]["lever"] for w in WINDOWED])
def test_nothing_outside_window_or_slice(lever, over, array, cells):
    base, with_lever = scenario(**over), scenario(lever, **over)
    assert _changed(compile_plan(base), compile_plan(with_lever), array) == cells
    # Monte Carlo: every variable identical before the lever's first month
    first = min(c[0] for c in cells)
    a, b = sim.run(base, replicates=20), sim.run(with_lever, replicates=20)
    for v in ("headcount", "joiners", "leavers", "trainees", "completions", "cost"):
        np.testing.assert_array_equal(a[v].values[:, :first], b[v].values[:, :first], err_msg=v)
    # projection: the other programme, and the other place for a place-level lever, are untouched
    ea, eb = sim.expected(base), sim.expected(with_lever)
    other = "degree" if lever["programme"] == "apprenticeship" else "apprenticeship"
    np.testing.assert_array_equal(ea.trainees.sel(programme=other).values, eb.trainees.sel(programme=other).values)
    if "where" in lever:
        out = "South" if lever["where"] == "North" else "North"
        for v in ("trainees", "completions", "headcount", "joiners"):
            np.testing.assert_array_equal(ea[v].sel(place=out).values, eb[v].sel(place=out).values, err_msg=v)


# ---------------------------------------------------------------------------------- null levers change nothing

NULL = [
    ({"lever": "training_places", "programme": "degree", "change": 0.0, "cost_per_extra_starter": 10}, {}),
    ({"lever": "placement_capacity", "programme": "degree", "extra_per_year": 0}, {"placement_capacity": 900}),
    ({"lever": "attrition_reduction", "programme": "degree", "reduction": 0.0}, {}),
    ({"lever": "local_employment", "programme": "degree", "change": 0.0}, {}),
    ({"lever": "apprenticeship_route", "programme": "apprenticeship", "starters_per_year": 0}, {}),
    ({"lever": "widening_participation", "programme": "degree", "change": 0.0}, {"fill_rate": 0.8}),
    ({"lever": "supply_expansion_commitment", "programme": "degree", "target": 1000, "by": "2029-09",
      "from": "2026-09"}, {}),
]


@pytest.mark.parametrize("lever,degree", NULL, ids=[n[0]["lever"] for n in NULL])
def test_null_lever_is_bit_identical(lever, degree):
    a = sim.run(scenario(degree=degree), replicates=30)
    b = sim.run(scenario(lever, degree=degree), replicates=30)
    for v in a.data_vars:
        if "lever" not in a[v].dims:
            np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


# ------------------------------------------------------------------------------------------------ bad input

def problems(*levers, degree=None):
    d = copy.deepcopy(BASE)
    d["levers"] = list(levers)
    d["programmes"]["degree"].update(degree or {})
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(d)
    return dict(err.value.problems)


NAMES = ["training_places", "placement_capacity", "attrition_reduction", "local_employment",
         "apprenticeship_route", "widening_participation", "supply_expansion_commitment"]
MINIMAL = {"training_places": {"change": 0.1}, "placement_capacity": {"extra_per_year": 10},
           "attrition_reduction": {"reduction": 0.1}, "local_employment": {"change": 0.1},
           "apprenticeship_route": {"starters_per_year": 10}, "widening_participation": {"change": 0.1},
           "supply_expansion_commitment": {"target": 1200, "by": 2029}}


@pytest.mark.parametrize("name", NAMES)
def test_unknown_programme_is_named(name):
    got = problems({"lever": name, "programme": "nursing", **MINIMAL[name]})
    assert "unknown programme 'nursing'" in got["levers.0.programme"]
    assert "degree" in got["levers.0.programme"]


@pytest.mark.parametrize("name,field,value", [
    ("training_places", "change", 11), ("training_places", "change", -1.5),
    ("placement_capacity", "extra_per_year", -5), ("placement_capacity", "change", -0.1),
    ("attrition_reduction", "reduction", 1.5), ("local_employment", "change", 1.2), ("local_employment", "to", 1.1),
    ("apprenticeship_route", "starters_per_year", -1),
    ("widening_participation", "change", 1.5), ("widening_participation", "change", -0.1),
    ("supply_expansion_commitment", "target", -10), ("supply_expansion_commitment", "by", "Sept 2029"),
    ("supply_expansion_commitment", "by", 1800),
    ("apprenticeship_route", "mode", "replace"), ("training_places", "cost_per_extra_starter", -1),
])
def test_out_of_range_parameter_is_named(name, field, value):
    lever = {"lever": name, "programme": "degree", **MINIMAL[name], field: value}
    if name == "apprenticeship_route":
        lever["programme"] = "apprenticeship"
    if name == "local_employment" and field == "to":
        del lever["change"]
    assert f"levers.0.{field}" in problems(lever, degree={"placement_capacity": 900})


def test_cross_checks_name_the_field():
    got = problems({"lever": "apprenticeship_route", "programme": "degree", "starters_per_year": 50})
    assert "not in_service" in got["levers.0.programme"] and "apprenticeship" in got["levers.0.programme"]
    got = problems({"lever": "placement_capacity", "programme": "degree", "extra_per_year": 50})
    assert "no placement_capacity" in got["levers.0.programme"]
    got = problems({"lever": "placement_capacity", "programme": "degree", "extra_per_year": 50, "where": "North"},
                   degree={"placement_capacity": 900})
    assert "South" in got["levers.0.where"]
    got = problems({"lever": "supply_expansion_commitment", "programme": "degree", "target": 1200,
                    "by": "2027-09", "from": "2027-09"})
    assert "after from" in got["levers.0.by"]
    got = problems({"lever": "local_employment", "programme": "degree", "change": 0.1, "to": 0.9})
    assert any("exactly one of change" in m for m in got.values())
