"""Mobility between ICSs and regions (scenario section ``mobility``) on configs/analytic/mobility.yaml: the
mean field follows the closed-form Markov chain of staff moves exactly and reaches its stationary split, the
kernel's replicates average to it, graduates' destinations follow the mobility shares (chi-square on kernel
counts), stocks and flows conserve by provider and nationally, the three engines agree, and bad input exits 2
naming the field. A scenario without the section is unchanged (tests/golden.py)."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import sim
from helpers import assert_mean_within, run_bad_scenario, three_engines
from sim.model.compile import compile_plan
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
MOBILITY = ROOT / "configs" / "analytic" / "mobility.yaml"
BASE = yaml.safe_load(MOBILITY.read_text(encoding="utf-8"))
PROVIDERS = ["North One", "North Two", "South One Acute", "South One Community"]
SEED = 29
N = 3000                                    # nurses, all at North One at the start


@pytest.fixture(scope="module")
def scenario():
    return sim.load_scenario(MOBILITY)


@pytest.fixture(scope="module")
def kernel(scenario):
    return sim.run(scenario, replicates=60, seed=SEED, level="provider")


def _hazards():
    a, b = -math.log(1 - 0.3) / 12, -math.log(1 - 0.2) / 12     # other ICS, other region (monthly)
    return a, b


def transition() -> np.ndarray:
    """[4, 4] a nurse's monthly transition between the providers (the config's comment)."""
    a, b = _hazards()
    c_n, c_s = 1 - math.exp(-(a + b)), 1 - math.exp(-b)
    to_south = np.array([0.75, 0.25])
    T = np.zeros((4, 4))
    for i, other in ((0, 1), (1, 0)):                        # North One, North Two
        T[i, i] = 1 - c_n
        T[i, other] = c_n * a / (a + b)
        T[i, 2:] = c_n * b / (a + b) * to_south
    for i in (2, 3):                                         # South One's providers: only to the North
        T[i, i] = 1 - c_s
        T[i, :2] = c_s * np.array([0.6, 0.4])
    return T


def stationary() -> np.ndarray:
    """The closed-form stationary split (flow balance; the config's comment)."""
    a, b = _hazards()
    c_n, c_s = 1 - math.exp(-(a + b)), 1 - math.exp(-b)
    k = c_n * b / ((a + b) * c_s)
    south, north = k / (1 + k), 1 / (1 + k)
    return np.array([north * (a + 0.6 * b) / (2 * a + b), north * (a + 0.4 * b) / (2 * a + b),
                     0.75 * south, 0.25 * south])


# --- closed forms -------------------------------------------------------------------------------------------
def test_stationary_split_is_the_chains_fixed_point():
    pi = stationary()
    np.testing.assert_allclose(pi.sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(pi @ transition(), pi, rtol=1e-12)


def test_mean_field_follows_the_chain_exactly_and_reaches_the_split(scenario):
    e = sim.expected(scenario, level="provider")
    got = e.headcount.sel(profession="nurse", provider=PROVIDERS).values            # [M, 4]
    T = transition()
    x = np.array([N, 0.0, 0.0, 0.0])
    want = []
    for _ in range(got.shape[0]):
        x = x @ T
        want.append(x)
    np.testing.assert_allclose(got, np.array(want), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got[-1] / N, stationary(), atol=1e-4)
    # moves out of North One to the South are moved_out there and moved_in at South One's providers
    out = e.leavers.sel(profession="nurse", reason="moved_out").sum("time")
    inn = e.joiners.sel(profession="nurse", source="moved_in").sum("time")
    np.testing.assert_allclose(float(out.sum()), float(inn.sum()), rtol=1e-12)


def test_kernel_mean_is_the_chain_within_sampling_error(scenario, kernel):
    e = sim.expected(scenario, level="provider")
    for var in ("headcount", "joiners", "leavers"):
        assert_mean_within(kernel[var].sel(profession="nurse").values, e[var].sel(profession="nurse").values,
                           n_se=4.5, what=var)
    last = kernel.headcount.sel(profession="nurse", provider=PROVIDERS).isel(time=-1).values / N   # [R, 4]
    z = (last.mean(axis=0) - stationary()) / (last.std(axis=0, ddof=1) / np.sqrt(last.shape[0]))
    assert np.all(np.abs(z) < 4), z


def test_graduates_destinations_follow_the_mobility_shares(kernel):
    """Each completer is independently a newly qualified joiner at North One (local, 0.4), North Two (0.6 × 0.5),
    South One's providers (0.6 × 0.3 × 3/4, × 1/4) or leaves (0.6 × 0.2): a chi-square test on the counts."""
    nq = kernel.joiners.sel(profession="midwife", source="newly_qualified", provider=PROVIDERS).sum(["time", "replicate"])
    done = int(kernel.completions.sum())
    counts = np.append(nq.values, done - int(nq.sum()))
    probs = np.array([0.4, 0.3, 0.18 * 0.75, 0.18 * 0.25, 0.12])
    chi2, p = stats.chisquare(counts, done * probs)
    assert p > 1e-3, (counts, done * probs, chi2)
    # graduates_moved counts exactly those who looked elsewhere (all placed: hiring is not only into vacancies)
    moved = kernel.graduates_moved.sel(programme="midwifery")
    assert moved.sel(provider="North One").sum() == nq.values[1:].sum()
    assert moved.sel(provider=PROVIDERS[1:]).sum() == 0
    assert int(kernel.unplaced.sum()) == 0
    assert kernel.graduates_moved.attrs["units"] == "people per month"


def test_graduates_moved_in_the_mean_field(scenario):
    e = sim.expected(scenario, level="provider")
    done = e.completions.sum("time").sel(programme="midwifery")
    np.testing.assert_allclose(e.graduates_moved.sum("time").sel(programme="midwifery").values, 0.48 * done.values,
                               rtol=1e-12)
    nq = e.joiners.sel(profession="midwife", source="newly_qualified").sum("time").sel(provider=PROVIDERS)
    np.testing.assert_allclose(nq.values, float(done.sum()) * np.array([0.4, 0.3, 0.135, 0.045]), rtol=1e-12)


# --- conservation -------------------------------------------------------------------------------------------
def test_stocks_and_flows_conserve_by_provider_and_nationally(kernel):
    hc = kernel.headcount.values.astype(np.int64)                                 # [R, M, P, L]
    net = kernel.joiners.sum("source").values - kernel.leavers.sum("reason").values
    np.testing.assert_array_equal(hc[:, 1:], hc[:, :-1] + net[:, 1:])
    nurse = kernel.headcount.sel(profession="nurse").sum("provider")
    assert (nurse == N).all()
    moved_in = kernel.joiners.sel(source="moved_in").sum("provider")
    moved_out = kernel.leavers.sel(reason="moved_out").sum("provider")
    np.testing.assert_array_equal(moved_in.values, moved_out.values)             # every month, replicate, group
    assert int(moved_in.sum()) > 0


# --- engines agree ------------------------------------------------------------------------------------------
def small(years: int = 2) -> dict:
    d = copy.deepcopy(BASE)
    d["years"] = years
    d["professions"]["nurse"]["headcount"] = {"North One": 300, "North Two": 100, "South One": 200}
    d["programmes"]["midwifery"]["intake"] = 200
    d["programmes"]["midwifery"]["intake_month"] = 4
    return d


def test_engines_agree_with_mobility():
    """Kernel, agents engine and mean field on a small three-ICS, two-region config with staff and graduate
    mobility: means of the raw counts within 4 standard errors, by provider and plan year."""
    _, kernel, agents = three_engines(sim.load_scenario(small()), ("headcount", "joiners", "leavers", "completions",
                                                                   "graduates_moved"),
                                      seed=SEED, every="year", level="provider")
    for ds in (kernel, agents):
        assert ds.joiners.sel(source="moved_in").sum() > 0
        assert ds.graduates_moved.sum() > 0
        np.testing.assert_array_equal(ds.joiners.sel(source="moved_in").sum("provider").values,
                                      ds.leavers.sel(reason="moved_out").sum("provider").values)


@pytest.mark.slow
def test_engines_agree_with_mobility_by_month():
    three_engines(sim.load_scenario(small(3)), ("headcount", "joiners", "leavers", "graduates_moved"),
                  seed=SEED + 1, kernel_replicates=400, agent_replicates=80, agent_workers=2, every="quarter",
                  level="place")


def test_without_mobility_the_dataset_has_no_mobility_flows():
    d = small(1)
    del d["mobility"]
    ds = sim.expected(sim.load_scenario(d))
    assert "moved_in" not in ds.source.values and "moved_out" not in ds.reason.values
    assert "graduates_moved" not in ds
    plan = compile_plan(sim.load_scenario(d))
    assert not plan.mobile and not plan.migrate_hazard.any() and not plan.graduate_cdf.any()


def test_staff_destination_by_staff_share():
    """destination: staff weighs places by the profession's staff at the start: from South One, all nurses
    of the North are at North One, so every move from the South goes there."""
    d = small(1)
    d["professions"]["nurse"]["headcount"] = {"North One": 300, "North Two": 0, "South One": 200}
    d["mobility"]["staff"]["destination"] = "staff"
    plan = compile_plan(sim.load_scenario(d))
    p = plan.professions.index("nurse")
    south = plan.locations.index("South One Acute")
    np.testing.assert_allclose(plan.migrate_matrix()[p, south], [1.0, 0.0, 0.0, 0.0])


# --- bad input ----------------------------------------------------------------------------------------------
def problems(d: dict) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(d)
    return dict(info.value.problems)


BAD = {
    "graduate shares not adding up": (lambda m: m["graduates"].update(leave=0.3), "mobility.graduates",
                                      "adding up to 1"),
    "unknown profession": (lambda m: m["staff"]["by_profession"].update(doctor={"other_ics": 0.1}),
                           "mobility.staff.by_profession.doctor", "unknown profession"),
    "negative rate": (lambda m: m["staff"]["default"].update(other_ics=-0.1), "mobility.staff.default.other_ics",
                      "from 0 to 1"),
    "rate above 1": (lambda m: m["staff"]["by_profession"]["midwife"].update(other_region=1.5),
                     "mobility.staff.by_profession.midwife.other_region", "from 0 to 1"),
    "unknown key": (lambda m: m["staff"].update(other_nation=0.1), "mobility.staff.other_nation", ""),
    "unknown destination": (lambda m: m["staff"].update(destination="distance"), "mobility.staff.destination", ""),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_mobility_names_the_field(case):
    change, field, text = BAD[case]
    d = copy.deepcopy(BASE)
    change(d["mobility"])
    found = problems(d)
    assert field in found, found
    assert text in found[field], found[field]


def test_bad_mobility_exits_2_naming_the_field(tmp_path):
    d = copy.deepcopy(BASE)
    d["mobility"]["graduates"]["same_region"] = 0.9
    r = run_bad_scenario(tmp_path, d)
    assert r.exit_code == 2, r.output
    assert "mobility.graduates" in r.stderr and "Traceback" not in r.stderr


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shares=st.tuples(*[st.floats(0, 1, allow_nan=False)] * 3))
def test_property_graduate_shares_must_add_up_to_one(shares):
    d = copy.deepcopy(BASE)
    d["mobility"]["graduates"] = dict(zip(("same_region", "other_region", "leave"), shares))
    if abs(sum(shares) - 1) <= 1e-6:
        assert sim.load_scenario(d).mobility.graduates.leave == shares[2]
    else:
        assert "mobility.graduates" in problems(d)
