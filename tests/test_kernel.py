"""The kernel: conservation in every replicate, reproducibility whatever the threads or batching,
random numbers of the right distributions, common random numbers across scenarios."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as hst
from scipy import stats

import sim
from helpers import assert_same_on_one_and_two_threads
from sim.engines.kernel import draws, rng, simulate
from sim.model.compile import compile_plan
from sim.model.plan import age_cdf

CONFIGS = Path(__file__).parents[1] / "configs"
EXAMPLE = CONFIGS / "examples" / "spec_example.yaml"


def _stock_flow_residual(ds):
    hc = ds.headcount.values.astype(np.int64)
    net = ds.joiners.sum("source").values.astype(np.int64) - ds.leavers.sum("reason").values.astype(np.int64)
    return hc[:, 1:] - hc[:, :-1] - net[:, 1:]


@pytest.mark.parametrize("config", ["examples/spec_example.yaml", "analytic/pipeline.yaml",
                                    "analytic/demand_growth.yaml", "analytic/recruitment_capacity.yaml"])
def test_stock_conservation_in_every_replicate(config):
    ds = sim.run(CONFIGS / config, replicates=30, years=6)
    assert np.all(_stock_flow_residual(ds) == 0)
    # the first month: initial headcount plus flows
    scn = sim.load_scenario(CONFIGS / config)
    plan = compile_plan(scn)
    init = plan.init_headcount.copy()
    for g, l, _, n in plan.init_cohorts:
        if plan.prog_trainee_prof[g] >= 0:
            init[plan.prog_trainee_prof[g], l] += n
    first = ds.headcount.isel(time=0).values - ds.joiners.isel(time=0).sum("source").values \
        + ds.leavers.isel(time=0).sum("reason").values
    assert np.all(first == init[None])


def test_rotation_conserves_staff_across_places():
    ds = sim.run(EXAMPLE, replicates=20, years=3)
    rot_in = ds.joiners.sel(source="rotation_in").sum("place")
    rot_out = ds.leavers.sel(reason="rotation_out").sum("place")
    np.testing.assert_array_equal(rot_in.values, rot_out.values)
    assert int(rot_in.sum()) > 0


def test_same_seed_same_results_and_different_seed_differs():
    a = sim.run(EXAMPLE, replicates=16, years=3, seed=7)
    b = sim.run(EXAMPLE, replicates=16, years=3, seed=7)
    c = sim.run(EXAMPLE, replicates=16, years=3, seed=8)
    for var in ("headcount", "joiners", "leavers", "trainees", "completions"):
        np.testing.assert_array_equal(a[var].values, b[var].values)
    assert not np.array_equal(a.headcount.values, c.headcount.values)


@pytest.mark.parametrize("config", ["examples/spec_example.yaml", "analytic/recruitment_capacity.yaml"])
def test_identical_with_one_and_two_threads(config):
    assert_same_on_one_and_two_threads(simulate, compile_plan(sim.load_scenario(CONFIGS / config)), range(12), 99)


def test_replicate_results_do_not_depend_on_batching():
    whole = sim.run(EXAMPLE, replicates=10, years=2, seed=3, batch_size=10)
    pieces = sim.run(EXAMPLE, replicates=10, years=2, seed=3, batch_size=3)
    np.testing.assert_array_equal(whole.headcount.values, pieces.headcount.values)
    plan = compile_plan(sim.load_scenario(EXAMPLE))
    alone = simulate(plan, [7], 3)          # a 10-year plan: its first two years are the same
    np.testing.assert_array_equal(alone["headcount"][0, :24], whole.headcount.values[7])


def _draws(fn, n, *args):
    st = rng.stream_states(11, [0])[0, 0].copy()
    return np.array([fn(st, *args) for _ in range(n)])


def test_uniform_and_exponential_distributions():
    u = _draws(rng.uniform, 20000)
    assert u.min() >= 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    e = _draws(rng.exponential, 20000)
    assert stats.kstest(e, "expon").pvalue > 1e-3


@pytest.mark.parametrize("lam", [0.3, 8.0, 45.0, 900.0])
def test_poisson_mean_and_variance(lam):
    x = _draws(rng.poisson, 20000, lam)
    assert abs(x.mean() - lam) < 4 * np.sqrt(lam / len(x))
    assert abs(x.var() / lam - 1) < 0.06
    # goodness of fit on the central values
    lo, hi = stats.poisson.ppf([0.01, 0.99], lam)
    ks = np.arange(lo, hi + 1)
    observed = np.array([(x == k).sum() for k in ks])
    expected = stats.poisson.pmf(ks, lam) * len(x)
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(chi2, len(ks) - 1) > 1e-4


def test_guide_table_search_equals_bisection():
    """first_above starts from the guide table and steps forward; it must give the index a full search
    gives (the first a >= lo with cdf[a] > target), including flat stretches and targets on a bucket edge."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        pmf = rng.random(1202) * (rng.random(1202) < 0.3)      # many zero-mass months: flat stretches
        cdf = np.cumsum(pmf / pmf.sum())
        cdf[-1] = 1.0
        guide = draws.guide_table(cdf[None])[0]
        targets = np.concatenate([rng.random(300), np.arange(0, draws.GUIDE) / draws.GUIDE, cdf[::50]])
        for lo in (0, 1, 600, 1201):
            for t in targets[targets < 1.0]:
                expected = max(lo, min(int(np.searchsorted(cdf, t, side="right")), len(cdf) - 1))
                assert draws.first_above(cdf, guide, lo, t) == expected, (lo, t)


@settings(max_examples=400, deadline=None)
@given(shape=hst.sampled_from(["constant", "steps", "sparse"]), n=hst.integers(2, 130),
       seed=hst.integers(0, 2**32 - 1), scale=hst.sampled_from([1e-4, 0.01, 0.3, 3.0]))
def test_hazard_crossing_equals_a_linear_scan(shape, n, seed, scale):
    """first_crossing guesses from the average hazard, then steps or bisects; it must give the month a
    scan gives (the first t in [lo, hi) with cum[t+1] - cum[lo] >= e and a positive hazard, else hi),
    for constant hazards (where the guess lands), piecewise ones, and ones with zero-hazard months."""
    rng = np.random.default_rng(seed)
    h = {"constant": np.full(n, rng.random() * 0.05),
         "steps": np.repeat(rng.random(4) * 0.05 * (rng.random(4) < 0.8), -(-n // 4))[:n],
         "sparse": rng.random(n) * (rng.random(n) < 0.5) * 0.1}[shape]
    cum = np.concatenate([[0.0], np.cumsum(h)])
    for _ in range(20):
        lo = int(rng.integers(0, n))
        hi = int(rng.integers(lo, n + 1))
        e = float(rng.exponential() * scale)
        expected = next((t for t in range(lo, hi) if cum[t + 1] >= cum[lo] + e and cum[t + 1] > cum[lo]), hi)
        assert draws.first_crossing(cum, lo, hi, e) == expected, (lo, hi, e)


@settings(max_examples=300, deadline=None)
@given(n=hst.integers(2, 190), seed=hst.integers(0, 2**32 - 1), scale=hst.sampled_from([1e-4, 0.01, 0.3, 3.0]),
       near=hst.booleans())
def test_crossing_skips_the_log_only_where_it_cannot_matter(n, seed, scale, near):
    """``crossing`` (one draw, the log taken only where the month can be in range) gives the month and leaves
    the stream where ``first_crossing`` on ``exponential`` of the same stream does, including ranges whose
    whole hazard is within 1e-9 of the bound 1 - u it skips on or of the exponential itself (``near``)."""
    gen = np.random.default_rng(seed)
    cum = np.concatenate([[0.0], np.cumsum(gen.random(n) * scale * (gen.random(n) < 0.8))])
    for _ in range(20):
        state = rng.stream_states(int(gen.integers(0, 2**31)), range(1))[0, 0].copy()
        lo = int(gen.integers(0, n))
        hi = int(gen.integers(lo, n + 1))
        if near and hi > lo:                    # put the range's hazard right at 1 - u
            u = ((int(rng.next_u64(state.copy())) >> 11) + 0.5) / 2.0**53
            bound = float(gen.choice([1.0 - u, -np.log(u)]))      # where it skips, and where it crosses
            target = bound * (1.0 + float(gen.choice([-1e-9, -1e-12, 0.0, 1e-12, 1e-9])))
            width = cum[hi] - cum[lo]
            if width > 0:
                cum = cum.copy()
                cum[lo + 1:] = cum[lo] + (cum[lo + 1:] - cum[lo]) * (target / width)
        a, b = state.copy(), state.copy()
        assert draws.crossing(a, cum, lo, hi) == draws.first_crossing(cum, lo, hi, rng.exponential(b)), (lo, hi)
        assert np.array_equal(a, b)


def test_truncated_age_distribution():
    dist = np.array([42.0, 11.0, 21.0, 68.0])
    cdf = age_cdf(dist[None])
    a = _draws(draws.age_months, 20000, cdf[0], draws.guide_table(cdf)[0]) / 12
    assert a.min() >= 21 and a.max() < 68
    ref = stats.truncnorm((21 - 42) / 11, (68 - 42) / 11, loc=42, scale=11)
    assert stats.kstest(a + 1 / 24, ref.cdf).pvalue > 1e-3     # floor to months, shift to the middle


def test_common_random_numbers_across_scenarios():
    """A lever on one profession's intake leaves the initial staff's leaving draws untouched."""
    base = sim.load_scenario(EXAMPLE)
    data = sim.scenario.scenario_dict(base)
    data["levers"].append({"lever": "training_places", "programme": "nursing_degree", "change": 0.5,
                           "from": "2027-09"})
    more = sim.load_scenario(data)
    a = sim.run(base, replicates=8, years=3)
    b = sim.run(more, replicates=8, years=3)
    # before the lever's first cohort completes nothing differs at all, replicate by replicate
    np.testing.assert_array_equal(a.headcount.isel(time=slice(0, 17)).values, b.headcount.isel(time=slice(0, 17)).values)
    assert (b.trainees.isel(time=-1) > a.trainees.isel(time=-1)).all()


def test_owner_streams_are_distinct_and_reproducible():
    base = rng.stream_states(5, [0])[0]
    owners = rng.owner_streams(base, 4, rng.JUMP)
    assert owners.shape == (4, rng.N_STREAMS, 4)
    np.testing.assert_array_equal(owners[0], base)
    assert len({tuple(r) for r in owners.reshape(-1, 4)}) == 4 * rng.N_STREAMS
    np.testing.assert_array_equal(rng.owner_streams(base, 4, rng.JUMP), owners)
    # owner k's stream is owner 0's jumped k times: a longer list keeps the first owners' streams
    np.testing.assert_array_equal(rng.owner_streams(base, 6, rng.JUMP)[:4], owners)


def test_lever_on_one_profession_leaves_the_others_replicates_identical(example_data):
    """Common random numbers per profession: retention for midwives changes no nurse in any replicate."""
    nurse = example_data["professions"]["registered_nurse"]
    example_data["professions"]["midwife"] = {**nurse, "label": "Midwives", "headcount": 900,
                                              "recruitment": {"domestic": 40},
                                              "demand": {"fte_per_1000_population": 0.55}}
    base = sim.load_scenario(example_data)
    example_data["levers"] = example_data["levers"] + [
        {"lever": "retention", "id": "midwives", "profession": "midwife", "leave_rate_multiplier": 0.7}]
    more = sim.load_scenario(example_data)
    a = sim.run(base, replicates=10, years=4, every="year")
    b = sim.run(more, replicates=10, years=4, every="year")
    for var in ("headcount", "joiners", "leavers"):
        np.testing.assert_array_equal(a[var].sel(profession="registered_nurse").values,
                                      b[var].sel(profession="registered_nurse").values, err_msg=var)
    assert (b.headcount.sel(profession="midwife").isel(time=-1).sum("place")
            > a.headcount.sel(profession="midwife").isel(time=-1).sum("place")).mean() > 0.8
