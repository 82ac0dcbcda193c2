"""The mean-field projection is the Monte Carlo process's expectation: on the default scenario and
the region, every raw variable's replicate mean agrees with it within sampling error."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from helpers import assert_mean_within
from sim.vocabulary import DEFAULT_SCENARIO
from sim.model.compile import compile_plan
from sim.model.expected import project

CONFIGS = Path(__file__).parents[1] / "configs"
RAW = ("headcount", "joiners", "leavers", "trainees", "completions")


def _compare(ds, ex, n_se=4.0):
    """Each plan year's end (stocks) or total (flows), by profession or programme, summed over places."""
    for var in RAW:
        group = "programme" if var in ("trainees", "completions") else "profession"
        mc, ref = ds[var].sum("place"), ex[var].sum("place")
        if var in ("joiners", "leavers", "completions"):
            mc = mc.coarsen(time=12).sum()
            ref = ref.coarsen(time=12).sum()
        else:
            mc, ref = mc.isel(time=slice(11, None, 12)), ref.isel(time=slice(11, None, 12))
        assert group in mc.dims
        assert_mean_within(mc.values, ref.values, n_se=n_se, atol=1e-6, what=var)


def uncapped(path):
    """The scenario with hiring not capped by vacancies: the mean field is then exact (with the cap it
    takes the min of means, not the mean of mins)."""
    data = sim.scenario.scenario_dict(sim.load_scenario(path))
    data["finance"]["hire_only_into_vacancies"] = False
    return sim.load_scenario(data)


@pytest.fixture(scope="module")
def baseline():
    scn = uncapped(DEFAULT_SCENARIO)
    return scn, sim.run(scn, replicates=120, seed=2026), sim.expected(scn)


def test_default_scenario_monte_carlo_mean_matches_the_expectation(baseline):
    _, ds, ex = baseline
    _compare(ds, ex)


def test_the_comparison_detects_a_wrong_expectation(baseline):
    """The same check fails if the projection's leaving hazard is 3% off: the test has teeth."""
    scn, ds, _ = baseline
    plan = compile_plan(scn)
    plan.leave_hazard *= 1.03
    wrong = {k: v for k, v in project(plan).items()}
    from sim.results.dataset import build_dataset, central_demand, to_level
    from sim.runs.lever_costs import outcomes
    values = to_level(plan, outcomes(plan, wrong, central_demand(plan)), "place", "month", time_axis=0)
    ex = build_dataset(plan, values)                    # (its providers summed to places, as ``ds``)
    with pytest.raises(AssertionError):
        _compare(ds, ex)


def test_expected_has_the_run_schema_without_replicates(baseline):
    _, ds, ex = baseline
    assert set(ex.data_vars) == set(ds.data_vars)
    for v in ex.data_vars:
        assert ex[v].dims == tuple(d for d in ds[v].dims if d != "replicate")
        assert ex[v].attrs["units"] == ds[v].attrs["units"]
    assert ex.attrs["engine"] == "expected"


def test_region_rolls_up_by_ics_and_matches_the_expectation():
    scn = uncapped(CONFIGS / "region.yaml")
    ds = sim.run(scn, replicates=60, years=4, seed=9)
    ex = sim.expected(scn, years=4)
    assert len(set(ds.ics.values)) >= 2
    by_ics = ds.headcount.groupby("ics").sum()
    np.testing.assert_array_equal(by_ics.sum("ics").values, ds.headcount.sum("place").values)
    by_region = ds.headcount.groupby("region").sum()
    assert by_region.sizes["region"] == 1
    _compare(ds, ex)


@pytest.mark.slow
def test_default_scenario_agreement_with_many_replicates():
    scn = uncapped(DEFAULT_SCENARIO)
    _compare(sim.run(scn, replicates=1000, seed=7), sim.expected(scn))
