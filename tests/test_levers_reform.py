"""Area 5 levers (new roles, rotational roles, shared bank, productivity): closed forms on
configs/analytic/lever_reform.yaml and lever_rotation.yaml, slices and windows, no-op levers, bad input."""
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
REFORM = yaml.safe_load((ANALYTIC / "lever_reform.yaml").read_text())
ROTATION = yaml.safe_load((ANALYTIC / "lever_rotation.yaml").read_text())
REPS = 100
NURSE, NA = "registered_nurse", "nursing_associate"


def with_levers(base: dict, *levers: dict, **top) -> dict:
    d = copy.deepcopy(base)
    d["levers"] = list(levers)
    d.update(top)
    return d


def window(months: int, start_month: int = 0, ramp: int = 0, until: int | None = None) -> np.ndarray:
    """The delivered share w(m) of a lever in force from month ``start_month`` (index) to ``until``."""
    m = np.arange(months)
    w = (m >= start_month).astype(float)
    if until is not None:
        w *= m <= until
    if ramp:
        w *= np.minimum(1.0, (m - start_month + 1) / ramp)
    return w


# --- the closed-form ingredients of lever_reform.yaml, from its parameters alone -------------------
def reform_parts(d: dict) -> dict:
    months = d["years"] * 12
    m = np.arange(months)
    pops = np.array([p["population"] for p in d["geography"]["places"]], float)
    out = {}
    for name, p in d["professions"].items():
        heads = p["headcount"] * pops / pops.sum()                              # [L] (splits are whole here)
        fte0 = heads * p.get("fte_per_head", 1.0)
        demand = fte0[None, :] / (1 - p["vacancy_rate"]) * (1 + p["demand"]["growth"]) ** (m[:, None] / 12)
        fte = fte0[None, :] * (1 - p["leave_rate"]) ** ((m[:, None] + 1) / 12)  # expected FTE, end of month m
        out[name] = dict(demand=demand, fte=fte, sick=p.get("sickness_absence", 0.0), cost=p["cost_per_fte"],
                         cover=p["bank_agency"]["cover"], premium=p["bank_agency"]["premium"])
    return out


@pytest.fixture(scope="module")
def reform_base():
    scn = sim.load_scenario(REFORM)
    return scn, sim.run(scn, replicates=REPS), sim.expected(scn), compile_plan(scn)


def test_analytic_config_matches_its_formula(reform_base):
    """The baseline formula (no lever) holds, so the lever checks below test the levers only."""
    _, ds, ex, plan = reform_base
    parts = reform_parts(REFORM)
    for k, prof in enumerate(plan.professions):
        np.testing.assert_allclose(plan.demand_fte[:, k], parts[prof]["demand"], rtol=1e-12)
        np.testing.assert_allclose(plan.funded_posts[:, k], parts[prof]["demand"], rtol=1e-12)
    fte = ex.fte.sel(profession=NURSE).values
    np.testing.assert_allclose(fte, parts[NURSE]["fte"], rtol=1e-6)
    assert_mean_within(ds.fte.sel(profession=NURSE).values, parts[NURSE]["fte"], what="nurse FTE")


# --- new_roles ----------------------------------------------------------------------------------
NEW_ROLES = {"lever": "new_roles", "from_profession": NURSE, "to_profession": NA, "share": 0.1, "ratio": 0.8,
             "from": "2027-04", "ramp_months": 6, "cost_per_fte_moved_per_year": 1234.56}


@pytest.fixture(scope="module")
def new_roles():
    scn = sim.load_scenario(with_levers(REFORM, NEW_ROLES))
    return scn, sim.run(scn, replicates=REPS), sim.expected(scn), compile_plan(scn)


def test_new_roles_closed_form(new_roles, reform_base):
    _, ds, ex, plan = new_roles
    parts = reform_parts(REFORM)
    w = window(36, 12, 6)[:, None]
    moved = 0.1 * w * parts[NURSE]["demand"]
    d_from, d_to = parts[NURSE]["demand"] - moved, parts[NA]["demand"] + 0.8 * moved
    a, b = plan.professions.index(NURSE), plan.professions.index(NA)
    np.testing.assert_allclose(plan.demand_fte[:, a], d_from, rtol=1e-12)
    np.testing.assert_allclose(plan.demand_fte[:, b], d_to, rtol=1e-12)
    for out in (ex, ds):        # the dataset stores required FTE as float32
        for prof, d in ((NURSE, d_from), (NA, d_to)):
            got = out.demand_fte.sel(profession=prof).values
            np.testing.assert_allclose(got, np.broadcast_to(d, got.shape), rtol=1e-6)
    # funded posts follow demand: the nurses' fall by exactly 1 - share·w
    base_plan = reform_base[3]
    np.testing.assert_allclose(plan.funded_posts[:, a] / base_plan.funded_posts[:, a],
                               np.broadcast_to(1 - 0.1 * w, (36, 2)), rtol=1e-12)
    assert plan.funded_posts[-1, a].sum() < base_plan.funded_posts[-1, a].sum()
    # with fewer nurse posts there are fewer nurse vacancies; the MC mean agrees with the expectation
    vac = np.maximum(d_from - parts[NURSE]["fte"], 0)
    np.testing.assert_allclose(ex.vacancies.sel(profession=NURSE).values, vac, rtol=1e-5)
    assert_mean_within(ds.vacancies.sel(profession=NURSE).values, vac, atol=1e-3, what="nurse vacancies")
    # cost to the penny: FTE of work moved × £ per year / 12
    cost = moved.sum(axis=1) * 1234.56 / 12
    assert np.abs(ex.lever_cost.sel(lever="new_roles").values - cost).max() < 0.005
    assert np.abs(ds.lever_cost.sel(lever="new_roles").values - cost[None]).max() < 0.005
    assert ds.lever_cost.shape == (REPS, 36, 1)
    np.testing.assert_allclose(ex.cost.sel(kind="levers").values, cost, rtol=1e-12)


def test_new_roles_only_in_its_window_and_places(reform_base):
    lever = dict(NEW_ROLES, where="A", until="2027-12", ramp_months=0)
    scn = sim.load_scenario(with_levers(REFORM, lever))
    plan, base = compile_plan(scn), reform_base[3]
    w = window(36, 12, 0, until=20)
    a = plan.professions.index(NURSE)
    np.testing.assert_allclose(plan.demand_fte[:, a, 0], base.demand_fte[:, a, 0] * (1 - 0.1 * w), rtol=1e-12)
    outside = w == 0
    np.testing.assert_array_equal(plan.demand_fte[outside], base.demand_fte[outside])
    np.testing.assert_array_equal(plan.demand_fte[:, :, 1], base.demand_fte[:, :, 1])     # place B untouched
    np.testing.assert_array_equal(plan.funded_posts[:, :, 1], base.funded_posts[:, :, 1])
    ds, ds0 = sim.run(scn, replicates=20), sim.run(reform_base[0], replicates=20)
    for name in ("demand_fte", "funded_posts", "vacancies", "headcount", "unmet_fte"):
        np.testing.assert_array_equal(ds[name].sel(place="B").values, ds0[name].sel(place="B").values)
        np.testing.assert_array_equal(ds[name].isel(time=outside).values, ds0[name].isel(time=outside).values)
    assert np.all(ds.lever_cost.isel(time=outside).values == 0)


# --- rotational_roles ---------------------------------------------------------------------------
ROTATE = {"lever": "rotational_roles", "profession": "nurse", "rotation_rate": 0.3, "where": "North",
          "ramp_months": 4, "cost_per_head_per_year": 52.5}


def chain(x0: np.ndarray, w: np.ndarray, rate: float) -> np.ndarray:
    """Expected headcount [M, 2] at the two places of an ICS, from x0 [2], moving with p = 1-(1-r)^(w/12)."""
    p = 1 - (1 - rate) ** (w / 12)
    half = x0.sum() / 2
    return half + (x0 - half)[None, :] * np.cumprod(1 - 2 * p)[:, None]


@pytest.fixture(scope="module")
def rotation():
    scn0 = sim.load_scenario(ROTATION)
    scn = sim.load_scenario(with_levers(ROTATION, ROTATE))
    return scn0, scn, sim.run(scn0, replicates=150), sim.run(scn, replicates=150), sim.expected(scn)


def test_rotational_roles_follow_the_two_state_chain(rotation):
    scn0, scn, ds0, ds, ex = rotation
    w = window(36, 0, 4)
    formula = chain(np.array([1000.0, 200.0]), w, 0.3)
    nurse = ds.headcount.sel(profession="nurse")
    np.testing.assert_allclose(ex.headcount.sel(profession="nurse", place=["A", "B"]).values, formula, rtol=1e-9)
    assert_mean_within(nurse.sel(place=["A", "B"]).values, formula, what="nurses in North")
    # the ICS total is conserved in every replicate; South (outside where) never changes
    assert np.all(nurse.sel(place=["A", "B"]).sum("place").values == 1200)
    np.testing.assert_array_equal(nurse.sel(place=["C", "D"]).values, ds0.headcount.sel(profession="nurse",
                                                                                       place=["C", "D"]).values)
    # doctors (another profession) keep their expected path; the kernel's rotation stream is shared by
    # professions, so only their distribution, not each replicate, is unchanged
    ex0 = sim.expected(scn0)
    for name in ("headcount", "joiners", "leavers"):
        doctors = ex[name].sel(profession="doctor").values
        np.testing.assert_array_equal(doctors, ex0[name].sel(profession="doctor").values)
    assert_mean_within(ds.headcount.sel(profession="doctor").values, ex0.headcount.sel(profession="doctor").values,
                       what="doctors")
    moved_out = ds.leavers.sel(profession="nurse", reason="rotation_out").sum("place")
    moved_in = ds.joiners.sel(profession="nurse", source="rotation_in").sum("place")
    np.testing.assert_array_equal(moved_out.values, moved_in.values)
    assert int(moved_out.sum()) > 0
    # cost to the penny: heads of nurses in post in North × £52.50 a year / 12 × the delivered share
    # (a 4-month ramp: 1/4, 2/4, 3/4, then in full)
    share = np.minimum(1.0, np.arange(1, ds.sizes["time"] + 1) / 4)
    cost = nurse.sel(place=["A", "B"]).sum("place").values * 52.5 / 12 * share
    assert np.abs(ds.lever_cost.sel(lever="rotational_roles").values - cost).max() < 0.005
    np.testing.assert_allclose(ex.lever_cost.sel(lever="rotational_roles").values, 1200 * 52.5 / 12 * share,
                               rtol=1e-12)


def test_rotational_roles_add_to_a_profession_s_own_rotation():
    """Doctors already rotate at 20% a year: the lever's hazard adds to theirs (not to the nurses')."""
    scn = sim.load_scenario(with_levers(ROTATION, dict(ROTATE, profession="doctor", where=None, ramp_months=0)))
    base = compile_plan(sim.load_scenario(ROTATION))
    plan = compile_plan(scn)
    d = plan.professions.index("doctor")
    extra = -np.log(1 - 0.3) / 12 * np.array([1, 1, 1, 1, 0])         # E is alone in its ICS: no hazard
    np.testing.assert_allclose(plan.rotation_hazard[:, d], base.rotation_hazard[:, d] + extra, rtol=1e-12)
    assert np.all(plan.rotation_hazard[:, :, 4] == 0)
    np.testing.assert_array_equal(plan.rotation_hazard[:, 1 - d], base.rotation_hazard[:, 1 - d])


def test_rotational_roles_only_in_their_window():
    lever = dict(ROTATE, where=None, ramp_months=0, **{"from": "2027-01", "until": "2027-06"})
    scn = sim.load_scenario(with_levers(ROTATION, lever))
    ds, ds0 = sim.run(scn, replicates=30), sim.run(sim.load_scenario(ROTATION), replicates=30)
    before, after = slice(0, 9), slice(15, 36)
    for name in ("headcount", "joiners", "leavers"):
        np.testing.assert_array_equal(ds[name].isel(time=before).values, ds0[name].isel(time=before).values)
    nurse = ds.headcount.sel(profession="nurse")
    assert int(ds.leavers.sel(profession="nurse", reason="rotation_out").isel(time=after).sum()) == 0
    assert np.all(nurse.isel(time=after).values == nurse.isel(time=[14]).values)    # frozen after until
    assert np.all(nurse.sel(place=["C", "D"]).sum("place").values == 600)
    assert np.all(nurse.sel(place="E").values == 100)                              # alone in its ICS
    # both ICSs follow their chains over the six months in force
    ex = sim.expected(scn)
    w = window(36, 9, 0, until=14)
    for places, x0 in ((["A", "B"], [1000.0, 200.0]), (["C", "D"], [600.0, 0.0])):
        formula = chain(np.array(x0), w, 0.3)
        np.testing.assert_allclose(ex.headcount.sel(profession="nurse", place=places).values, formula, rtol=1e-9)
        assert_mean_within(nurse.sel(place=places).values, formula, what=f"nurses in {places}")


# --- shared_bank --------------------------------------------------------------------------------
BANK = {"lever": "shared_bank", "extra_cover": 0.3, "premium_reduction": 0.4, "from": "2026-10",
        "cost_per_year": 120000}


def bank_formula(parts: dict, w: np.ndarray, only: str | None = None):
    agency, unmet = 0.0, {}
    for prof, q in parts.items():
        k = 1.0 if only in (None, prof) else 0.0
        cover = np.minimum(q["cover"] + 0.3 * k * w, 1.0)[:, None]
        premium = (q["premium"] * (1 - 0.4 * k * w))[:, None]
        vac = np.maximum(q["demand"] - q["fte"], 0)
        agency = agency + (cover * vac * q["cost"] * (1 + premium) / 12).sum(axis=1)
        unmet[prof] = np.maximum(q["demand"] - q["fte"] * (1 - q["sick"]) - cover * vac, 0)
    return agency, unmet


@pytest.mark.parametrize("profession", [None, NURSE])
def test_shared_bank_closed_form(profession):
    lever = dict(BANK, profession=profession) if profession else BANK
    scn = sim.load_scenario(with_levers(REFORM, lever))
    ex, ds = sim.expected(scn), sim.run(scn, replicates=REPS)
    parts = reform_parts(REFORM)
    w = window(36, 6)
    agency, unmet = bank_formula(parts, w, profession)
    np.testing.assert_allclose(ex.cost.sel(kind="agency_bank").values, agency, rtol=1e-9)
    assert_mean_within(ds.cost.sel(kind="agency_bank").values, agency, what="agency and bank cost")
    for prof in (NURSE, NA):
        np.testing.assert_allclose(ex.unmet_fte.sel(profession=prof).values, unmet[prof], rtol=1e-5, atol=1e-4)
        assert_mean_within(ds.unmet_fte.sel(profession=prof).values, unmet[prof], atol=1e-3, what=f"unmet {prof}")
    assert np.all(unmet[NA][-12:] == 0)            # the max binds: associates are over establishment late on
    # more of the gap covered once the bank runs (at a lower premium), and its running cost to the penny
    base_agency, base_unmet = bank_formula(parts, np.zeros(36))
    assert np.all(unmet[NURSE][6:] < base_unmet[NURSE][6:]) and np.all(agency[:6] == base_agency[:6])
    cost = np.where(np.arange(36) >= 6, 10000.0, 0.0)
    assert np.abs(ex.lever_cost.sel(lever="shared_bank").values - cost).max() < 0.005
    assert np.abs(ds.lever_cost.sel(lever="shared_bank").values - cost[None]).max() < 0.005


def test_shared_bank_caps_cover_at_one():
    scn = sim.load_scenario(with_levers(REFORM, dict(BANK, extra_cover=0.9, profession=NURSE)))
    plan = compile_plan(scn)
    a = plan.professions.index(NURSE)
    assert plan.bank_cover[:, a].max() == 1.0
    np.testing.assert_array_equal(plan.bank_cover[:6, a], 0.4)


def test_shared_bank_only_in_its_slice(reform_base):
    lever = dict(BANK, profession=NURSE, where="B", until="2027-09")
    scn = sim.load_scenario(with_levers(REFORM, lever))
    plan, base = compile_plan(scn), reform_base[3]
    a = plan.professions.index(NURSE)
    inside = np.zeros(plan.bank_cover.shape, bool)
    inside[6:18, a, 1] = True
    np.testing.assert_array_equal(plan.bank_cover[~inside], base.bank_cover[~inside])
    np.testing.assert_array_equal(plan.bank_premium[~inside], base.bank_premium[~inside])
    assert np.all(plan.bank_cover[inside] == 0.7) and np.allclose(plan.bank_premium[inside], 0.55 * 0.6)
    ds, ds0 = sim.run(scn, replicates=20), reform_base[1].isel(replicate=slice(0, 20))
    np.testing.assert_array_equal(ds.unmet_fte.sel(place="A").values, ds0.unmet_fte.sel(place="A").values)
    np.testing.assert_array_equal(ds.unmet_fte.sel(profession=NA).values, ds0.unmet_fte.sel(profession=NA).values)
    outside = np.r_[0:6, 18:36]
    np.testing.assert_array_equal(ds.cost.isel(time=outside).sel(kind="agency_bank").values,
                                  ds0.cost.isel(time=outside).sel(kind="agency_bank").values)


# --- productivity -------------------------------------------------------------------------------
PRODUCTIVITY = {"lever": "productivity", "profession": NURSE, "gain": 0.25, "from": "2027-01", "ramp_months": 12,
                "cost_per_year": 60000}


@pytest.mark.parametrize("profession", [None, NURSE])
def test_productivity_closed_form(profession, reform_base):
    lever = dict(PRODUCTIVITY, profession=profession)
    scn = sim.load_scenario(with_levers(REFORM, lever))
    plan, ex, ds = compile_plan(scn), sim.expected(scn), sim.run(scn, replicates=REPS)
    parts = reform_parts(REFORM)
    w = window(36, 9, 12)
    for k, prof in enumerate(plan.professions):
        f = 1 + 0.25 * w if profession in (None, prof) else np.ones(36)
        d = parts[prof]["demand"] / f[:, None]
        np.testing.assert_allclose(plan.demand_fte[:, k], d, rtol=1e-12)
        np.testing.assert_allclose(plan.funded_posts[:, k], d, rtol=1e-12)      # posts follow demand
        np.testing.assert_allclose(ex.demand_fte.sel(profession=prof).values, d, rtol=1e-6)
        vac = np.maximum(d - parts[prof]["fte"], 0)
        np.testing.assert_allclose(ex.vacancies.sel(profession=prof).values, vac, rtol=1e-5, atol=1e-4)
        assert_mean_within(ds.vacancies.sel(profession=prof).values, vac, atol=1e-3, what=f"vacancies {prof}")
    if profession is not None:
        np.testing.assert_array_equal(plan.demand_fte[:, 1], reform_base[3].demand_fte[:, 1])
    np.testing.assert_array_equal(plan.demand_fte[:9], reform_base[3].demand_fte[:9])
    cost = w * 60000 / 12
    assert np.abs(ex.lever_cost.sel(lever="productivity").values - cost).max() < 0.005


def test_negative_productivity_gain_raises_demand(reform_base):
    scn = sim.load_scenario(with_levers(REFORM, dict(PRODUCTIVITY, gain=-0.5, ramp_months=0, where="A")))
    plan, base = compile_plan(scn), reform_base[3]
    np.testing.assert_allclose(plan.demand_fte[9:, 0, 0], base.demand_fte[9:, 0, 0] * 2, rtol=1e-12)
    np.testing.assert_array_equal(plan.demand_fte[:, :, 1], base.demand_fte[:, :, 1])


# --- no-effect levers are bit-identical to the baseline --------------------------------------------
NO_OPS = [
    (REFORM, dict(NEW_ROLES, share=0.0)),
    (REFORM, dict(BANK, extra_cover=0.0, premium_reduction=0.0, cost_per_year=0)),
    (REFORM, dict(PRODUCTIVITY, gain=0.0, cost_per_year=0, profession=None)),
    (ROTATION, dict(ROTATE, rotation_rate=0.0, cost_per_head_per_year=0, where=None)),
]


@pytest.mark.parametrize("base,lever", NO_OPS, ids=[x[1]["lever"] for x in NO_OPS])
def test_no_effect_is_bit_identical(base, lever):
    ds0 = sim.run(sim.load_scenario(base), replicates=20, seed=3)
    ds = sim.run(sim.load_scenario(with_levers(base, lever)), replicates=20, seed=3)
    assert set(ds.data_vars) == set(ds0.data_vars)
    for name in ds0.data_vars:
        if "lever" not in ds0[name].dims:          # lever_cost (and the like) have another lever coordinate
            np.testing.assert_array_equal(ds[name].values, ds0[name].values, err_msg=name)
    assert np.all(ds.lever_cost.values == 0)


# --- bad input ----------------------------------------------------------------------------------
BAD = [
    (dict(NEW_ROLES, from_profession="midwife"), "levers.0.from_profession", "midwife"),
    (dict(NEW_ROLES, to_profession="physician_associate"), "levers.0.to_profession", "physician_associate"),
    (dict(NEW_ROLES, to_profession=NURSE), "levers.0.to_profession", "differ"),
    (dict(NEW_ROLES, share=1.5), "levers.0.share", "0 to 1"),
    (dict(NEW_ROLES, ratio=-1), "levers.0.ratio", "0 to 10"),
    (dict(NEW_ROLES, cost_per_fte_moved_per_year=-5), "levers.0.cost_per_fte_moved_per_year", "from 0 to"),
    (dict(NEW_ROLES, where="Z"), "levers.0.where", "'Z'"),
    ({k: v for k, v in NEW_ROLES.items() if k != "share"}, "levers.0.share", ""),
    (dict(PRODUCTIVITY, gain=-0.6), "levers.0.gain", "-0.5"),
    (dict(PRODUCTIVITY, profession="porter"), "levers.0.profession", "porter"),
    (dict(PRODUCTIVITY, gain="lots"), "levers.0.gain", "lots"),
    (dict(BANK, extra_cover=1.2), "levers.0.extra_cover", "0 to 1"),
    (dict(BANK, premium_reduction=-0.1), "levers.0.premium_reduction", "0 to 1"),
    (dict(BANK, profession="porter"), "levers.0.profession", "porter"),
    (dict(BANK, cost_per_year=-1), "levers.0.cost_per_year", "from 0 to"),
    (dict(BANK, colour="blue"), "levers.0.colour", ""),
]


@pytest.mark.parametrize("lever,field,text", BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_names_the_field(lever, field, text):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(with_levers(REFORM, lever))
    hits = [msg for f, msg in err.value.problems if f.startswith(field)]
    assert hits, err.value.problems
    assert any(text in msg for msg in hits), hits


@pytest.mark.parametrize("lever,field,text", [
    (dict(ROTATE, profession="midwife"), "levers.0.profession", "nurse"),
    (dict(ROTATE, rotation_rate=1.5), "levers.0.rotation_rate", "0 to 1"),
    (dict(ROTATE, where="Nowhere"), "levers.0.where", "North"),
    (dict(ROTATE, cost_per_head_per_year=-3), "levers.0.cost_per_head_per_year", "from 0 to"),
])
def test_bad_rotation_input_names_the_field(lever, field, text):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(with_levers(ROTATION, lever))
    hits = [msg for f, msg in err.value.problems if f.startswith(field)]
    assert hits and any(text in msg for msg in hits), err.value.problems
