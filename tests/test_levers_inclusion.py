"""Area 3 (inclusive_recruitment, inclusive_promotion) and area 7 (local_recruitment) levers: closed forms on
configs/analytic/groups.yaml and bands.yaml (mean field exactly, kernel within sampling error), null levers
bit-identical, windows, costs, bad input naming the field."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from helpers import assert_mean_within
from sim.engines.kernel import simulate as kernel_simulate
from sim.model.compile import compile_plan, monthly_hazard
from sim.model.expected import project
from sim.model.flows import SOURCE
from sim.results import representation

ANALYTIC = Path(__file__).parents[1] / "configs" / "analytic"
GROUPS = yaml.safe_load((ANALYTIC / "groups.yaml").read_text())
BANDS = yaml.safe_load((ANALYTIC / "bands.yaml").read_text())
SEED = 303


def with_levers(base: dict, *levers: dict, **top) -> dict:
    d = copy.deepcopy(base)
    d["levers"] = list(levers)
    d.update(top)
    return d


def plan(base, *levers, **top):
    return compile_plan(sim.load_scenario(with_levers(base, *levers, **top)))


def groups_closed_form(months: int, share_b: np.ndarray) -> np.ndarray:
    """[M, 2] expected staff of groups a and b of groups.yaml when group b's share of joiners in month m is
    share_b[m] (b leaves at twice a's hazard): N_g(m) = N_g(m-1)(1 - q_g) + j s_g(m)."""
    lam = float(monthly_hazard(np.array(0.1)))
    q = 1 - np.exp(-lam * np.array([1.0, 2.0]))
    n = np.array([2000.0, 2000.0])
    out = np.zeros((months, 2))
    for m in range(months):
        n = n * (1 - q) + 50.0 * np.array([1 - share_b[m], share_b[m]])
        out[m] = n
    return out


# --- inclusive_recruitment ---------------------------------------------------------------------------------------
RECRUIT = {"lever": "inclusive_recruitment", "groups": ["b"], "odds": 2.0, "from": "2027-04", "ramp_months": 12,
           "cost_per_year": 60000}


def recruit_share(months: int, odds: float, start: int, ramp: int) -> np.ndarray:
    m = np.arange(months)
    w = (m >= start) * np.minimum(1.0, (m - start + 1) / ramp)
    k = 1 + (odds - 1) * w
    return 0.5 * k / (0.5 * k + 0.5)


def test_inclusive_recruitment_follows_the_closed_form():
    p = plan(GROUPS, RECRUIT)
    share = recruit_share(p.months, 2.0, 12, 12)
    np.testing.assert_allclose(p.entry_group[:, 0, 0, :, 1].min(axis=1)[:12], 0.5)
    want = groups_closed_form(p.months, share)
    np.testing.assert_allclose(project(p)["staff_by_group"][:, 0, 0, 0, :], want, rtol=1e-9)
    out = kernel_simulate(p, range(60), seed=SEED)
    assert_mean_within(out["staff_by_group"][:, :, 0, 0, 0, :], want, what="staff by group")
    # in full: b's share of joiners is 2/3 (odds 2 on a half); a ramp of 12 months from 2027-04
    assert abs(share[-1] - 2 / 3) < 1e-12
    joiners = out["joiners_by_group"][:, 30:, 0, 0, :].sum(axis=(0, 1))
    assert abs(joiners[1] / joiners.sum() - 2 / 3) < 0.02
    ds = sim.run(sim.load_scenario(with_levers(GROUPS, RECRUIT)), replicates=4)
    w = np.minimum(1.0, np.maximum(np.arange(p.months) - 11, 0) / 12)
    np.testing.assert_allclose(ds.lever_cost.sel(lever="inclusive_recruitment").isel(replicate=0).values,
                               60000 / 12 * w, rtol=1e-12)


def test_inclusive_recruitment_at_odds_one_is_bit_identical():
    base = sim.run(sim.load_scenario(GROUPS), replicates=10, seed=4)
    null = sim.run(sim.load_scenario(with_levers(GROUPS, dict(RECRUIT, odds=1.0, cost_per_year=0))), replicates=10,
                   seed=4)
    for name in base.data_vars:
        if "lever" not in base[name].dims:
            np.testing.assert_array_equal(null[name].values, base[name].values, err_msg=name)


def test_inclusive_recruitment_only_in_its_window_and_sources():
    p0 = compile_plan(sim.load_scenario(GROUPS))
    p = plan(GROUPS, dict(RECRUIT, until="2028-03", sources=["domestic"]))
    dom, intl = SOURCE["domestic"], SOURCE["international"]
    np.testing.assert_array_equal(p.entry_group[:12], p0.entry_group[:12])
    np.testing.assert_array_equal(p.entry_group[24:], p0.entry_group[24:])
    np.testing.assert_allclose(p.entry_group[23, 0, 0, dom], [1 / 3, 2 / 3], rtol=1e-12)
    np.testing.assert_array_equal(p.entry_group[:, 0, :, intl], p0.entry_group[:, 0, :, intl])


# --- inclusive_promotion -----------------------------------------------------------------------------------------
PROMOTE = {"lever": "inclusive_promotion", "groups": ["b"], "promotion_factor": 2.0, "cost_per_year": 24000}


def bands_closed_form(months: int, b_mult: float) -> np.ndarray:
    """[M, band, group] expected staff of bands.yaml with group b's promotion multiplier b_mult (a's is 1)."""
    lam = float(monthly_hazard(np.array(0.1)))
    up = monthly_hazard(np.array([0.2, 0.1, 0.0]))
    s = np.exp(-lam * np.array([1.0, 1.0, 0.5]))
    out = np.zeros((months, 3, 2))
    for g, mult in enumerate((1.0, b_mult)):
        u = 1 - np.exp(-up * mult)
        A = np.array([[s[0] * (1 - u[0]), 0, 0], [s[0] * u[0], s[1] * (1 - u[1]), 0], [0, s[1] * u[1], s[2]]])
        n = 3000 * 0.5 * np.array([0.5, 0.3, 0.2])
        for m in range(months):
            n = A @ n + np.array([480 / 12 / 2, 0, 0])
            out[m, :, g] = n
    return out


def test_inclusive_promotion_brings_group_b_to_parity():
    """bands.yaml gives group b half of a's promotion hazard; a multiplier of 2 brings it to parity: both
    groups then follow group a's recurrence exactly."""
    p = plan(BANDS, PROMOTE)
    want = bands_closed_form(p.months, 1.0)
    got = project(p)["staff_by_group"][:, 0, 0]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    np.testing.assert_allclose(got[..., 0], got[..., 1], rtol=1e-9)
    out = kernel_simulate(p, range(60), seed=SEED)
    assert_mean_within(out["staff_by_group"][:, :, 0, 0], want, what="staff by band and group")
    ds = sim.run(sim.load_scenario(with_levers(BANDS, PROMOTE)), replicates=20)
    rlp = representation.relative_likelihood_of_promotion(ds, "a", "b").isel(time=slice(12, None))
    assert abs(float(rlp.mean()) - 1.0) < 0.1                    # parity: the relative likelihood near 1


def test_inclusive_promotion_window_and_null():
    p0 = compile_plan(sim.load_scenario(BANDS))
    p = plan(BANDS, dict(PROMOTE, **{"from": "2028-04"}))
    np.testing.assert_array_equal(p.promotion_hazard[:24], p0.promotion_hazard[:24])
    np.testing.assert_allclose(p.promotion_hazard[24:, 0, 1::2], 2 * p0.promotion_hazard[24:, 0, 1::2], rtol=1e-12)
    np.testing.assert_array_equal(p.promotion_hazard[:, 0, 0::2], p0.promotion_hazard[:, 0, 0::2])   # group a
    want = bands_closed_form(p.months, 0.5)
    got = project(p)["staff_by_group"][:24, 0, 0]
    np.testing.assert_allclose(got, want[:24], rtol=1e-9)
    base = sim.run(sim.load_scenario(BANDS), replicates=8, seed=2)
    null = sim.run(sim.load_scenario(with_levers(BANDS, dict(PROMOTE, promotion_factor=1.0, cost_per_year=0))),
                   replicates=8, seed=2)
    for name in base.data_vars:
        if "lever" not in base[name].dims:
            np.testing.assert_array_equal(null[name].values, base[name].values, err_msg=name)


# --- local_recruitment -------------------------------------------------------------------------------------------
LOCAL = {"lever": "local_recruitment", "profession": "staff", "extra_hires_per_year": 600, "cost_per_hire": 1000,
         "from": "2026-10"}


def test_local_recruitment_adds_hires_that_look_like_local_residents():
    """groups.yaml: 600 domestic hires a year, half a and half b; residents are 60% a, 40% b. 600 more a year
    from the local population: joiners become (600·0.5 + 600·0.6)/1200 = 55% a, and hires double."""
    p = plan(GROUPS, LOCAL)
    dom = SOURCE["domestic"]
    np.testing.assert_allclose(p.entry_group[6:, 0, 0, dom], np.broadcast_to([0.55, 0.45], (p.months - 6, 2)))
    np.testing.assert_allclose(p.recruit_rate[6:, 0, 0].sum(-1), 100.0)
    share_b = np.where(np.arange(p.months) >= 6, 0.45, 0.5)
    lam = float(monthly_hazard(np.array(0.1)))
    q = 1 - np.exp(-lam * np.array([1.0, 2.0]))
    n, want = np.array([2000.0, 2000.0]), np.zeros((p.months, 2))
    for m in range(p.months):
        n = n * (1 - q) + (100.0 if m >= 6 else 50.0) * np.array([1 - share_b[m], share_b[m]])
        want[m] = n
    np.testing.assert_allclose(project(p)["staff_by_group"][:, 0, 0, 0, :], want, rtol=1e-9)
    out = kernel_simulate(p, range(40), seed=SEED)
    assert_mean_within(out["staff_by_group"][:, :, 0, 0, 0, :], want, what="staff by group")
    ds = sim.run(sim.load_scenario(with_levers(GROUPS, LOCAL)), replicates=4)
    dom_joiners = ds.joiners.sel(profession="staff", source="domestic").sum("place")
    half = np.where(np.arange(p.months) >= 6, 0.5, 0.0)
    np.testing.assert_allclose(ds.lever_cost.sel(lever="local_recruitment").values, dom_joiners.values * half * 1000,
                               rtol=1e-12)


def test_local_recruitment_of_zero_is_bit_identical():
    base = sim.run(sim.load_scenario(GROUPS), replicates=6, seed=8)
    null = sim.run(sim.load_scenario(with_levers(GROUPS, dict(LOCAL, extra_hires_per_year=0, cost_per_hire=0))),
                   replicates=6, seed=8)
    for name in base.data_vars:
        if "lever" not in base[name].dims:
            np.testing.assert_array_equal(null[name].values, base[name].values, err_msg=name)


# --- bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("base,lever,field,text", [
    (GROUPS, dict(RECRUIT, groups=["c"]), "levers.0.groups", "allowed: a, b"),
    (GROUPS, dict(RECRUIT, odds=-1), "levers.0.odds", "0 to 10"),
    (GROUPS, dict(RECRUIT, sources=["newly_qualified"]), "levers.0.sources", "training_start"),
    (GROUPS, dict(RECRUIT, groups=[]), "levers.0.groups", ""),
    (BANDS, dict(PROMOTE, promotion_factor=11), "levers.0.promotion_factor", "0 to 10"),
    (BANDS, dict(PROMOTE, groups=["z"]), "levers.0.groups", "'z'"),
    (GROUPS, dict(LOCAL, profession="nurse"), "levers.0.profession", "staff"),
    (GROUPS, dict(LOCAL, extra_hires_per_year=-5), "levers.0.extra_hires_per_year", "from 0"),
    (GROUPS, dict(LOCAL, cost_per_hire="a lot"), "levers.0.cost_per_hire", "a lot"),
])
def test_bad_input_names_the_field(base, lever, field, text):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(with_levers(base, lever))
    hits = [msg for f, msg in err.value.problems if f.startswith(field)]
    assert hits and any(text in msg for msg in hits), err.value.problems


def test_group_levers_need_characteristics():
    no_groups = copy.deepcopy(GROUPS)
    del no_groups["characteristics"]
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(with_levers(no_groups, RECRUIT))
    assert any(f.startswith("levers.0.groups") and "no characteristics" in m for f, m in err.value.problems)


# --- goals on representation ------------------------------------------------------------------------------------
GOAL = {"name": "b reflects the workforce in band_7", "metric": "model_employer_ratio", "group": "b",
        "band": "band_7", "by": "2035-03", "min": 0.9}


def test_model_employer_goal_is_judged_and_helped_by_inclusive_promotion():
    from sim.results.metrics import goal_table, goal_value
    goals = [GOAL, dict(GOAL, name="every band", band=None)]
    base = sim.load_scenario(with_levers(BANDS, goals=goals))
    helped = sim.load_scenario(with_levers(BANDS, PROMOTE, goals=goals))
    ds0, ds1 = sim.run(base, replicates=20, seed=6), sim.run(helped, replicates=20, seed=6)
    # the value is the representation indicator's, at the goal's month, over the whole scenario
    t = int(np.searchsorted(ds0.time.values.astype("datetime64[M]"), np.datetime64("2035-03", "M")))
    direct = representation.model_employer_ratio(ds0, "b").isel(time=t).sel(band="band_7").squeeze(drop=True)
    np.testing.assert_allclose(goal_value(ds0, base.goals[0]).values, direct.values, rtol=1e-12)
    every = goal_value(ds0, base.goals[1])
    assert np.all(every.values <= goal_value(ds0, base.goals[0]).values + 1e-12)     # the lowest over bands
    # group b is promoted at half of a's hazard: under-represented in band_7 (goal missed), at parity with
    # the lever (met in most replicates); the mean field's value lies between the replicates'
    (row0, _), (row1, _) = goal_table(ds0, base.goals), goal_table(ds1, helped.goals)
    assert row0["probability"] == 0.0 and row0["median"] < 0.8
    assert row1["probability"] >= 0.8 and abs(row1["median"] - 1) < 0.05
    ex = sim.expected(helped)
    assert abs(float(goal_value(ex, helped.goals[0])) - 1) < 0.01


@pytest.mark.parametrize("goal,field,text", [
    ({k: v for k, v in GOAL.items() if k != "group"}, "goals.0", "group"),
    (dict(GOAL, group="z"), "goals.0.group", "allowed: a, b"),
    (dict(GOAL, band="band_9"), "goals.0.band", "band_5"),
    (dict(GOAL, metric="headcount", min=10), "goals.0", "only for"),
])
def test_bad_goal_names_the_field(goal, field, text):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(with_levers(BANDS, goals=[goal]))
    hits = [msg for f, msg in err.value.problems if f.startswith(field)]
    assert hits and any(text in msg for msg in hits), err.value.problems


def test_group_levers_act_only_where_they_are_placed():
    two = copy.deepcopy(GROUPS)
    two["geography"]["places"] = [{"name": "Only", "population": 300000}, {"name": "Other", "population": 200000}]
    p0 = plan(two)
    p = plan(two, dict(RECRUIT, where="Other", ramp_months=0), dict(LOCAL, where="Only"))
    dom = SOURCE["domestic"]
    assert p.entry_group.shape[2] == 2
    np.testing.assert_allclose(p.entry_group[20, 0, 1, SOURCE["international"]], [1 / 3, 2 / 3], rtol=1e-12)
    np.testing.assert_allclose(p.entry_group[20, 0, 0, SOURCE["international"]],
                               np.broadcast_to(p0.entry_group, p.entry_group.shape)[20, 0, 0, SOURCE["international"]])
    # local hires only at Only (all 600 a year there): its domestic joiners become residents-like
    assert p.recruit_rate[20, 0, 1].sum() == p0.recruit_rate[20, 0, 1].sum()
    local = (p0.recruit_rate[20, 0, 0, 2] * 0.5 + 50 * 0.4) / (p0.recruit_rate[20, 0, 0, 2] + 50)
    assert abs(p.entry_group[20, 0, 0, dom, 1] - local) < 1e-12
    out = kernel_simulate(p, range(4), seed=1)
    assert out["staff_by_group"].shape[3] == 2
