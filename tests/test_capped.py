"""The mean field under a cap on posts (sim.model.capped): its moments are exact for the distributions it
assumes, and sim.expected agrees with the Monte Carlo mean of the shipped baseline, which hires only into
vacancies, within sampling error."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from scipy.stats import binom, poisson

import sim
from sim.model import capped


def _exact(dist, d):
    j = np.arange(0, 2000)
    pm = dist.pmf(j)
    return (np.minimum(j, d) * pm).sum(), (np.minimum(j, d) ** 2 * pm).sum()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), p=st.floats(0.05, 0.95), d=st.integers(0, 80))
def test_min_moments_of_a_binomial_count_are_exact_at_whole_rooms(n, p, d):
    """Below capped.SMALL arrivals are counted exactly; above, the normal is within 1% (next test)."""
    assume(n * p < capped.SMALL)
    m1, m2 = capped.min_moments(np.array(n * p), np.array(n * p * (1 - p)), np.array([float(d)]))
    e1, e2 = _exact(binom(n, p), d)
    assert m1[0] == pytest.approx(e1, rel=1e-7, abs=1e-9)
    assert m2[0] == pytest.approx(e2, rel=1e-7, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(mu=st.floats(0.01, 29.0), d=st.integers(0, 120))
def test_min_moments_of_a_poisson_count_are_exact_at_whole_rooms(mu, d):
    m1, m2 = capped.min_moments(np.array(mu), np.array(mu), np.array([float(d)]))
    e1, e2 = _exact(poisson(mu), d)
    assert m1[0] == pytest.approx(e1, rel=1e-7, abs=1e-9)
    assert m2[0] == pytest.approx(e2, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("mu", [30.0, 60.0, 200.0])
def test_min_moments_of_many_arrivals_are_close_to_the_poisson(mu):
    for d in (0.0, mu / 2, mu, mu + 2 * np.sqrt(mu), 3 * mu):
        m1, m2 = capped.min_moments(np.array(mu), np.array(mu), np.array([np.floor(d)]))
        e1, e2 = _exact(poisson(mu), np.floor(d))
        assert m1[0] == pytest.approx(e1, rel=0.01, abs=0.05)
        assert m2[0] == pytest.approx(e2, rel=0.01, abs=0.05)


def test_min_moments_never_place_more_than_the_room_or_the_arrivals_nor_fewer_than_none():
    mean = np.array([0.2, 3.0, 25.0, 60.0, 400.0])
    d = np.linspace(0, 500, 41)[:, None] * np.ones((1, 5))
    m1, m2 = capped.min_moments(mean, mean, d)
    assert (m1 >= 0).all() and (m1 <= np.minimum(mean, d) + 1e-9).all()
    assert (m2 >= m1 ** 2 - 1e-6).all()                 # a variance is never negative


def test_thinning_by_age_matches_the_binomial_variance():
    """A count thinned by age: Var = s² Var(before) + Σ n_a q_a (1 - q_a)."""
    before = np.array([100.0, 50.0, 10.0])
    q = np.array([0.1, 0.5, 0.9])
    after = before * (1 - q)
    binomial = (before * q * (1 - q)).sum()
    for var in (0.0, 40.0):
        got = capped.thinned_variance(np.array(var), before.sum(), after.sum(), (after * q).sum())
        assert got == pytest.approx((after.sum() / before.sum()) ** 2 * var + binomial)
    rng = np.random.default_rng(1)                       # and by sampling, from known counts by age
    kept = rng.binomial(before.astype(int), 1 - q, (400_000, 3)).sum(axis=1)
    got = capped.thinned_variance(np.array(0.0), before.sum(), after.sum(), (after * q).sum())
    assert got == pytest.approx(kept.var(), rel=0.02)


def test_filling_to_a_cap_matches_sampling():
    """S ~ Normal(95, 16) rounded, A ~ Binomial(20, 0.5), cap 100: the closure's placed, mean and variance
    against a million draws."""
    rng = np.random.default_rng(5)
    s = np.round(rng.normal(95, 4, 1_000_000))
    a = rng.binomial(20, 0.5, s.size)
    after = s + np.minimum(a, np.maximum(100 - s, 0))
    placed, mean, var = capped.filled(capped.staff_nodes(np.array([95.0]), np.array([16.0])), np.array([100.0]),
                                      np.array([10.0]), np.array([5.0]))
    assert placed[0] == pytest.approx((after - s).mean(), abs=0.05)
    assert mean[0] == pytest.approx(after.mean(), abs=0.05)
    assert var[0] == pytest.approx(after.var(), rel=0.05)


def test_expected_agrees_with_400_replicates_of_the_baseline_at_years_1_5_and_10():
    """Every profession's staff in post (all places together, and each place) within 4 standard errors."""
    scenario = sim.load_scenario("sim/data/baseline_ics.yaml")
    assert scenario.finance.hire_only_into_vacancies and scenario.demand.uncertainty.growth_sd > 0
    n = 400
    mc = sim.run(scenario, replicates=n, seed=7).headcount
    ex = sim.expected(scenario).headcount
    for year in (1, 5, 10):
        t = 12 * year - 1
        for per_place in (False, True):
            m = mc.isel(time=t) if per_place else mc.isel(time=t).sum("place")
            e = ex.isel(time=t) if per_place else ex.isel(time=t).sum("place")
            se = m.std("replicate") / np.sqrt(n)
            z = ((e - m.mean("replicate")) / se).values
            assert np.abs(z).max() < 4, f"year {year}{' by place' if per_place else ''}: z = {np.round(z, 1)}"
