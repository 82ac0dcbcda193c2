"""Closed-form checks on configs/analytic: Monte Carlo mean within sampling error of the formula,
and the mean-field projection equal to it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from helpers import assert_mean_within

ANALYTIC = Path(__file__).parents[1] / "configs" / "analytic"


@pytest.fixture(scope="module")
def decay():
    scn = sim.load_scenario(ANALYTIC / "decay.yaml")
    return scn, sim.run(scn), sim.expected(scn)


def test_decay_follows_the_exponential(decay):
    scn, ds, ex = decay
    p, n0 = scn.professions["staff"].leave_rate, scn.professions["staff"].headcount
    m = np.arange(scn.years * 12)
    formula = n0 * (1 - p) ** ((m + 1) / 12)
    np.testing.assert_allclose(ex.headcount.sum(["profession", "place"]).values, formula, rtol=1e-9)
    assert_mean_within(ds.headcount.sum(["profession", "place"]).values, formula, what="decay headcount")
    assert int(ds.leavers.sel(reason="retirement").sum()) == 0
    assert int(ds.joiners.sum()) == 0


def test_decay_fte_and_cost_follow_headcount(decay):
    scn, ds, _ = decay
    prof = scn.professions["staff"]
    np.testing.assert_allclose(ds.fte.values, ds.headcount.values * prof.fte_per_head, rtol=1e-6)
    staff_cost = ds.cost.sel(kind="staff").values
    np.testing.assert_allclose(staff_cost, ds.headcount.sum(["profession", "place"]).values
                               * prof.fte_per_head * prof.cost_per_fte / 12, rtol=1e-6)


def test_steady_state_approach():
    scn = sim.load_scenario(ANALYTIC / "steady_state.yaml")
    p = scn.professions["staff"]
    h, j = p.leave_rate, p.recruitment.domestic / 12
    q = 1 - (1 - h) ** (1 / 12)
    m = np.arange(scn.years * 12)
    formula = j / q * (1 - (1 - q) ** (m + 1))
    ex = sim.expected(scn)
    np.testing.assert_allclose(ex.headcount.sum(["profession", "place"]).values, formula, rtol=1e-9)
    ds = sim.run(scn, replicates=200)
    assert_mean_within(ds.headcount.sum(["profession", "place"]).values, formula, what="steady state")
    # after 30 years the stock is within 0.5% of its limit j/q ≈ J/λ
    lam = -np.log(1 - h)
    assert abs(formula[-1] - j / q) / (j / q) < 0.005
    assert abs(j / q - p.recruitment.domestic / lam) / (j / q) < 0.02


def test_pipeline_completions():
    scn = sim.load_scenario(ANALYTIC / "pipeline.yaml")
    g = scn.programmes["degree"]
    ds, ex = sim.run(scn), sim.expected(scn)
    comp = ds.completions.sum(["programme", "place"])
    first_intake = 5                                      # September 2026 is month 5 from April 2026
    done_at = first_intake + 36
    expected_per_year = g.intake * (1 - g.attrition)
    ex_comp = ex.completions.sum(["programme", "place"]).values
    assert np.all(ex_comp[:done_at] == 0)
    np.testing.assert_allclose(ex_comp[done_at::12], expected_per_year, rtol=1e-9)
    assert np.count_nonzero(ex_comp) == len(ex_comp[done_at::12])
    assert_mean_within(comp.values, ex_comp, what="completions")
    assert int(comp[:, :done_at].sum()) == 0
    # 60% of completers take a local post; nobody leaves
    hired = ds.joiners.sel(source="newly_qualified").sum(["profession", "place"])
    assert_mean_within(hired.values, ex_comp * g.local_employment, what="newly qualified")
    np.testing.assert_array_equal(ds.headcount.sum(["profession", "place"]).values, hired.cumsum("time").values)
    # trainees: each cohort decays by the monthly dropout rate until completion
    q = 1 - (1 - g.attrition) ** (1 / 36)
    ex_tr = ex.trainees.sum(["programme", "place"]).values
    np.testing.assert_allclose(ex_tr[first_intake], g.intake, rtol=1e-12)
    np.testing.assert_allclose(ex_tr[first_intake + 10], g.intake * (1 - q) ** 10, rtol=1e-9)
    assert_mean_within(ds.trainees.sum(["programme", "place"]).values, ex_tr, what="trainees")


def test_demand_growth_compounds():
    scn = sim.load_scenario(ANALYTIC / "demand_growth.yaml")
    p = scn.professions["staff"]
    ex = sim.expected(scn)
    m = np.arange(scn.years * 12)
    growth = (1 + p.demand.growth) ** (m / 12)
    total = ex.demand_fte.sum(["profession", "place"]).values
    np.testing.assert_allclose(total, p.demand.fte_per_1000_population * 1000 * growth, rtol=1e-6)
    funded = ex.funded_posts.sum(["profession", "place"]).values
    np.testing.assert_allclose(funded, p.headcount * p.fte_per_head / (1 - p.vacancy_rate) * growth, rtol=1e-6)
    # split by population: place A has 60% of the demand
    np.testing.assert_allclose(ex.demand_fte.sel(place="A").sum("profession").values / total, 0.6, rtol=1e-6)


def test_base_year_vacancies_come_from_the_vacancy_rate():
    scn = sim.load_scenario(ANALYTIC / "demand_growth.yaml")
    p = scn.professions["staff"]
    ex = sim.expected(scn, years=1)
    # at the start, staff FTE = (1 - vacancy rate) × funded posts: vacancies are vacancy_rate × funded posts
    funded0 = p.headcount * p.fte_per_head / (1 - p.vacancy_rate)
    start_vacancies = funded0 - p.headcount * p.fte_per_head
    np.testing.assert_allclose(start_vacancies / funded0, p.vacancy_rate)
    assert ex.vacancies.isel(time=0).sum() > 0


def test_transfers_between_staff_groups_and_places():
    scn = sim.load_scenario(ANALYTIC / "transfers.yaml")
    nurse = scn.professions["nhs_nurse"]
    ds, ex = sim.run(scn), sim.expected(scn)
    m = np.arange(scn.years * 12)
    # rotation and transfer compete: P(transfer within a month) = (1 - e^{-(r+t)}) t / (r+t)
    r, t = -np.log(1 - nurse.rotation_rate) / 12, -np.log(1 - nurse.transfers["social_care_nurse"]) / 12
    p_transfer = (1 - np.exp(-(r + t))) * t / (r + t)
    formula = nurse.headcount * (1 - p_transfer) ** (m + 1)
    nhs = ds.headcount.sel(profession="nhs_nurse").sum("place")
    np.testing.assert_allclose(ex.headcount.sel(profession="nhs_nurse").sum("place").values, formula, rtol=1e-9)
    assert_mean_within(nhs.values, formula, what="NHS nurses")
    total = ds.headcount.sum(["profession", "place"])
    assert np.all(total.values == nurse.headcount)
    moved_out = ds.leavers.sel(reason="transfer_out").sum(["place"])
    moved_in = ds.joiners.sel(source="transfer_in").sum(["place"])
    np.testing.assert_array_equal(moved_out.sel(profession="nhs_nurse").values,
                                  moved_in.sel(profession="social_care_nurse").values)
    # rotation keeps the two places level (equal populations) and is counted in and out
    assert int(ds.leavers.sel(reason="rotation_out").sum()) == int(ds.joiners.sel(source="rotation_in").sum()) > 0
    assert_mean_within(ds.headcount.sel(profession="nhs_nurse", place="East").values, formula / 2, what="East")


# --------------------------------------------------------------------------------------------------
# recruitment capacity: hires queue for a limited number of starts a month
@pytest.fixture(scope="module")
def capacity():
    scn = sim.load_scenario(ANALYTIC / "recruitment_capacity.yaml")
    return scn, sim.run(scn, replicates=200), sim.expected(scn)


EXPERIENCED = ["international", "return_to_practice", "domestic"]


def test_binding_recruitment_capacity_starts_exactly_capacity_every_month(capacity):
    scn, ds, ex = capacity
    nurse = scn.professions["nurse"]
    c = nurse.recruitment.capacity_per_month
    starts = ds.joiners.sel(profession="nurse", source=EXPERIENCED).sum(["place", "source"])
    assert np.all(starts.values == c)                       # every month of every replicate
    q = 1 - (1 - nurse.leave_rate) ** (1 / 12)
    m = np.arange(scn.years * 12)
    formula = c / q * (1 - (1 - q) ** (m + 1))
    headcount = ds.headcount.sel(profession="nurse").sum("place")
    np.testing.assert_allclose(ex.headcount.sel(profession="nurse").sum("place").values, formula, rtol=1e-9)
    np.testing.assert_allclose(ex.joiners.sel(profession="nurse", source=EXPERIENCED).sum(["place", "source"]),
                               c, rtol=1e-12)
    assert_mean_within(headcount.values, formula, what="nurses under a binding recruitment capacity")
    # the demand for hires is far above it (without the limit, starts would be over three times as many)
    rec = nurse.recruitment
    assert (rec.international + rec.return_to_practice + rec.domestic) / 12 > 3 * c


def test_ample_recruitment_capacity_is_bit_identical_to_no_limit(capacity):
    scn, ds, ex = capacity
    unlimited = scn.model_copy(update={"professions": {
        k: p.model_copy(update={"recruitment": p.recruitment.model_copy(update={"capacity_per_month": None})})
        if k == "doctor" else p for k, p in scn.professions.items()}})
    free = sim.run(unlimited, replicates=200)
    for var in ("headcount", "joiners", "leavers"):
        np.testing.assert_array_equal(ds[var].sel(profession="doctor").values,
                                      free[var].sel(profession="doctor").values)
        np.testing.assert_array_equal(ex[var].sel(profession="doctor").values,
                                      sim.expected(unlimited)[var].sel(profession="doctor").values)
    starts = ds.joiners.sel(profession="doctor", source=EXPERIENCED).sum(["place", "source"])
    assert starts.max() < scn.professions["doctor"].recruitment.capacity_per_month


def test_fractional_recruitment_capacity_spreads_over_months():
    from sim.model.compile import whole_per_month

    np.testing.assert_array_equal(whole_per_month(np.full(6, 2.5)), [2, 3, 2, 3, 2, 3])
    np.testing.assert_array_equal(whole_per_month(np.full(4, 30.0)), [30, 30, 30, 30])
    np.testing.assert_array_equal(whole_per_month(np.full(6, 1 / 3)), [0, 0, 1, 0, 0, 1])
