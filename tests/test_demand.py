"""Demand, establishment and finance (planning boxes 0-2): closed forms, costs, hiring into
vacancies, goals and per-replicate demand uncertainty."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.model.compile import compile_plan
from sim.results.metrics import goal_met, goal_value

CONFIGS = Path(__file__).parents[1] / "configs"
NEED = CONFIGS / "analytic" / "need.yaml"
FINANCE = CONFIGS / "analytic" / "finance.yaml"


def test_need_based_demand_compounds_by_age_band():
    scn = sim.load_scenario(NEED)
    m = np.arange(scn.years * 12)
    formula = (1e6 * 0.8 * 0.1 + 1e6 * 0.2 * 1.0 * 1.03 ** (m / 12)) * 5 / 1000 / 1.01 ** (m / 12)
    ex = sim.expected(scn)
    np.testing.assert_allclose(ex.demand_fte.sum(["profession", "place"]).values, formula, rtol=1e-6)
    activity = (1e6 * 0.8 * 0.1 + 1e6 * 0.2 * 1.03 ** (m / 12)) / 12
    np.testing.assert_allclose(ex.activity.sum(["service_line", "place"]).values, activity, rtol=1e-6)
    np.testing.assert_allclose(ex.population.sel(age_band="65+").sum("place").values, 2e5 * 1.03 ** (m / 12),
                               rtol=1e-9)
    ds = sim.run(scn, replicates=5)
    np.testing.assert_allclose(ds.demand_fte.sum(["profession", "place"]).values, formula[None].repeat(5, 0),
                               rtol=1e-6)
    assert ds.attrs["demand_definition"].startswith("need")


def test_utilisation_scales_current_activity_by_demography():
    data = sim.scenario.scenario_dict(sim.load_scenario(NEED))
    data["demand"]["definition"] = "utilisation"
    data["demand"]["service_lines"]["acute"]["activity_at_start"] = 500_000
    ex = sim.expected(sim.load_scenario(data))
    act = ex.activity.sum(["service_line", "place"]).values * 12
    m = np.arange(act.size)
    np.testing.assert_allclose(act, 500_000 * (0.08 + 0.2 * 1.03 ** (m / 12)) / 0.28, rtol=1e-6)


def test_base_year_gap_is_the_vacancy_rate_times_demand():
    scn = sim.load_scenario(FINANCE)
    plan = compile_plan(scn)
    staff = plan.init_headcount * plan.fte_per_head[0]
    vac = np.array([p.vacancy_rate for p in scn.professions.values()])
    np.testing.assert_allclose((plan.demand_fte[0] - staff) / plan.demand_fte[0], vac[:, None] * np.ones((1, 2)))
    # in the results, month 0 (nobody leaves; hires only fill vacancies): vacancies = funded - FTE
    ds = sim.run(scn, replicates=4, years=1)
    first = ds.isel(time=0)
    assert np.all(first.vacancies.values >= 0)
    np.testing.assert_allclose(first.vacancies.values, np.maximum(first.funded_posts - first.fte, 0).values, atol=1e-3)


def test_staff_cost_is_fte_times_cost_per_fte_to_the_penny():
    scn = sim.load_scenario(FINANCE)
    ds = sim.run(scn, replicates=6)
    months = np.arange(ds.sizes["time"])
    aprils = months // 12                                    # start April: awards at months 12, 24, …
    pay = 1.03 ** aprils
    per_fte = np.array([p.cost_per_fte for p in scn.professions.values()])
    heads = ds.headcount.values.astype(np.float64)
    fte_per_head = np.array([p.fte_per_head for p in scn.professions.values()])
    expected = (heads * fte_per_head[None, None, :, None] * per_fte[None, None, :, None]).sum((2, 3)) * pay / 12
    assert np.max(np.abs(ds.cost.sel(kind="staff").values - expected)) < 0.005
    # bank and agency: 40% of vacant nurse FTE at a 55% premium
    vac = ds.vacancies.sel(profession="nurse").sum("place").values.astype(np.float64)
    agency = vac * 0.4 * 50000 * 1.55 * pay / 12
    np.testing.assert_allclose(ds.cost.sel(kind="agency_bank").values, agency, rtol=1e-5)
    cover = ds.vacancies * xr_cover(scn, ds)
    unmet = np.maximum(ds.gap_fte - cover, 0)
    np.testing.assert_allclose(ds.unmet_fte.values, unmet.values, rtol=1e-4, atol=1e-2)


def xr_cover(scn, ds):
    import xarray as xr
    return xr.DataArray([p.bank_agency.cover for p in scn.professions.values()], dims="profession",
                        coords={"profession": ds.profession})


def test_hiring_only_into_vacancies_caps_staff_at_funded_posts():
    scn = sim.load_scenario(FINANCE)
    ds = sim.run(scn, replicates=20)
    plan = compile_plan(scn)
    heads_allowed = plan.funded_posts / plan.fte_per_head             # in-service trainees: none here
    assert np.all(ds.headcount.values <= heads_allowed[None] + 1e-9)
    # the flood of support-worker applicants fills every vacancy to within one post
    sw = ds.headcount.sel(profession="support_worker").values
    cap = np.floor(heads_allowed[:, 1, :] + 1e-9)
    assert np.all(cap[None] - sw <= 1)
    # graduates without a vacancy are lost and counted
    assert int(ds.unplaced.sum()) > 0
    comp = ds.completions.sum(["programme", "place"])
    hired = ds.joiners.sel(source="newly_qualified").sum(["profession", "place"])
    lost = ds.unplaced.sum(["programme", "place"])
    np.testing.assert_array_equal(comp.values, (hired + lost).values)   # local_employment is 1


def test_without_the_cap_the_flood_overfills():
    data = sim.scenario.scenario_dict(sim.load_scenario(FINANCE))
    data["finance"]["hire_only_into_vacancies"] = False
    ds = sim.run(sim.load_scenario(data), replicates=3, years=2)
    assert float(ds.vacancies.sel(profession="support_worker").isel(time=-1).sum()) == 0
    assert int(ds.unplaced.sum()) == 0
    assert (ds.headcount.sel(profession="support_worker").isel(time=-1).sum("place") > 2000).all()


def test_goal_probabilities_are_the_share_of_replicates_meeting_them():
    scn = sim.load_scenario(CONFIGS / "examples" / "spec_example.yaml")
    ds = sim.run(scn, replicates=60, years=6)
    data = sim.scenario.scenario_dict(scn)
    value = goal_value(ds, sim.load_scenario({**data, "goals": [
        {"name": "probe", "metric": "headcount", "by": "2031-03", "min": 0}]}).goals[0])
    threshold = float(value.median())
    data["goals"] = [{"name": "nurses", "metric": "headcount", "by": "2031-03", "min": threshold},
                     {"name": "gap", "metric": "gap_share", "profession": "registered_nurse", "where": "North",
                      "by": "2030-03", "max": 0.5}]
    scn2 = sim.load_scenario(data)
    from sim.results.metrics import goal_table
    rows = goal_table(ds, scn2.goals)
    month = np.datetime64("2031-03")
    hc = ds.headcount.sel(time=month).sum(["profession", "place"]).values
    assert rows[0]["probability"] == pytest.approx(np.mean(hc >= threshold))
    assert 0.2 < rows[0]["probability"] < 0.8
    north = ds.sel(place="North", profession="registered_nurse", time=np.datetime64("2030-03"))
    share = (north.gap_fte / north.demand_fte).values
    assert rows[1]["probability"] == pytest.approx(np.mean(share <= 0.5))
    assert goal_met(ds, scn2.goals[1]).dims == ("replicate",)


def test_annual_cost_goal_sums_the_twelve_months_to_its_date():
    scn = sim.load_scenario(FINANCE)
    ds = sim.run(scn, replicates=3)
    goal = scn.goals[2]
    months = ds.cost.sel(time=slice("2029-04", "2030-03"))
    assert months.sizes["time"] == 12
    np.testing.assert_allclose(goal_value(ds, goal).values, months.sum(["time", "kind"]).values)
    yearly = sim.run(scn, replicates=3, every="year")
    np.testing.assert_allclose(goal_value(yearly, goal).values, months.sum(["time", "kind"]).values, rtol=1e-9)


def test_demand_uncertainty_is_drawn_per_replicate_and_reproducible():
    data = sim.scenario.scenario_dict(sim.load_scenario(NEED))
    data["demand"]["uncertainty"] = {"growth_sd": 0.01, "productivity_sd": 0.005}
    scn = sim.load_scenario(data)
    a = sim.run(scn, replicates=200, seed=3)
    b = sim.run(scn, replicates=200, seed=3, batch_size=7)
    np.testing.assert_array_equal(a.demand_fte.values, b.demand_fte.values)
    end = a.demand_fte.isel(time=-1).sum(["profession", "place"]).values
    central = sim.expected(scn).demand_fte.isel(time=-1).sum().item()
    # log demand at the horizon: normal, mean log(central), sd sqrt(0.01² + 0.005²) × 10 years (nearly)
    log_ratio = np.log(end / central)
    sd = np.sqrt(0.01 ** 2 + 0.005 ** 2) * (119 / 12)
    assert abs(log_ratio.mean()) < 4 * sd / np.sqrt(200)
    assert 0.8 < log_ratio.std() / sd < 1.2
    assert a.demand_fte.isel(time=0).std("replicate").max() == 0


def test_budget_limits_funded_posts():
    data = sim.scenario.scenario_dict(sim.load_scenario(FINANCE))
    data["finance"]["budget_growth"] = 0.0            # pay grows 3% a year, the budget not at all
    plan = compile_plan(sim.load_scenario(data))
    spend = (plan.funded_posts * plan.cost_per_fte).sum(axis=(1, 2))
    assert np.all(spend <= spend[0] * (1 + 1e-9))
    unlimited = compile_plan(sim.load_scenario(FINANCE))
    assert np.all(plan.funded_posts <= unlimited.funded_posts + 1e-9)
    assert plan.funded_posts[-1].sum() < unlimited.funded_posts[-1].sum()


def test_demand_references_are_checked():
    data = sim.scenario.scenario_dict(sim.load_scenario(NEED))
    data["demand"]["service_lines"]["acute"]["staffing"] = {"midwife": 2}
    data["demand"]["productivity"] = {"porter": 0.01}
    data["goals"] = [{"name": "x", "metric": "annual_cost", "profession": "nurse", "by": "2040-01", "max": 1}]
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(data)
    paths = [p for p, _ in err.value.problems]
    assert "demand.service_lines.acute.staffing.midwife" in paths
    assert "demand.productivity.porter" in paths
    assert "goals.0.by" in paths and "goals.0.metric" in paths


def test_goals_after_a_shortened_horizon_are_not_judged():
    """A goal dated after the run's last month (run shortened with --years) gets no probability."""
    scn = sim.load_scenario(CONFIGS / "examples" / "spec_example.yaml")
    data = sim.scenario.scenario_dict(scn)
    data["goals"] = [{"name": "late", "metric": "headcount", "by": "2031-03", "min": 0},
                     {"name": "early", "metric": "headcount", "by": "2027-03", "min": 0}]
    scn = sim.load_scenario(data)
    from sim.results.metrics import BeyondHorizon, goal_table
    ds = sim.run(scn, replicates=2, years=2)                     # ends 2028-03
    rows = goal_table(ds, scn.goals)
    assert np.isnan(rows[0]["probability"]) and rows[1]["probability"] == 1.0
    with pytest.raises(BeyondHorizon):
        goal_value(ds, scn.goals[0])
    yearly = sim.run(scn, replicates=2, years=2, every="year")    # the last period is judged, not beyond
    assert goal_table(yearly, [scn.goals[1]])[0]["probability"] == 1.0
