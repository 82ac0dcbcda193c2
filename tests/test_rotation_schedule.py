"""Rotations on fixed dates: trainees of an in-service programme change place on its rotation months.

The closed form is in configs/analytic/rotation_schedule.yaml: a rotating trainee's new place is drawn
from the rotation's shares within their ICS whatever their old place, so right after each rotation the
rotated trainees of an ICS are split Multinomial(n, w) across its places.
"""
from __future__ import annotations

import copy
import csv
import functools
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

import sim
from helpers import assert_mean_within, assert_same_on_one_and_two_threads
from sim.cli import app
from sim.engines.agents import simulate as agents_simulate
from sim.engines.kernel import simulate as kernel_simulate
from sim.model.compile import compile_plan
from sim.model.expected import project
from sim.model.flows import REASONS, SOURCES

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "analytic" / "rotation_schedule.yaml"
BASELINE = ROOT / "sim" / "data" / "baseline_ics.yaml"
OUT, IN = REASONS.index("rotation_out"), SOURCES.index("rotation_in")
PLACES = ["A", "B", "C", "D", "E"]
NORTH, SOUTH = [0, 1, 2], [3, 4]
W = np.array([0.5, 0.3, 0.2, 0.25, 0.75])           # rotation shares, renormalised within each ICS
START = np.array([1.0, 0, 0, 1.0, 0])                 # everyone starts at the first place of their ICS
ROTATIONS = (6, 12, 18)                                # February 2027, August 2027, February 2028 (month 0: Aug 2026)
KERNEL_REPS, AGENT_REPS = 2000, 150


def data() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def plan():
    return compile_plan(sim.load_scenario(CONFIG))


@functools.lru_cache(maxsize=None)
def kernel():
    return kernel_simulate(plan(), range(KERNEL_REPS), 21)


@functools.lru_cache(maxsize=None)
def agents():
    return agents_simulate(plan(), range(AGENT_REPS), 22)


def closed_form():
    """Expected trainees [24, 5] at the end of each month, and expected moves out / in [24, 5]."""
    c1, c2 = 1000 * np.array([0.6, 0, 0, 0.4, 0]), 500 * np.array([0.6, 0, 0, 0.4, 0])
    split = lambda n: np.concatenate([n[NORTH].sum() * W[NORTH], n[SOUTH].sum() * W[SOUTH]])  # noqa: E731
    trainees, out, into = np.zeros((24, 5)), np.zeros((24, 5)), np.zeros((24, 5))
    for m in range(24):
        if m < 6:
            now = c1
        elif m < 12:
            now = split(c1)
        elif m < 18:
            now = split(c1) + c2
        else:
            now = split(c1 + c2)
        trainees[m] = now
    # moves: the trainees before the rotation (started earlier), each leaving l with probability 1 - w_l and
    # arriving at l with probability w_l from elsewhere in the ICS
    for m in ROTATIONS:
        before = trainees[m - 1]
        out[m] = before * (1 - W)
        ics_total = np.where(np.isin(np.arange(5), NORTH), before[NORTH].sum(), before[SOUTH].sum())
        into[m] = (ics_total - before) * W
    return trainees, out, into


# --------------------------------------------------------------------------------------------------
# the plan
def test_schedule_compiles_to_rotation_months_and_destinations():
    p = plan()
    g = p.programmes.index("specialty_training")
    assert list(np.flatnonzero(p.prog_rotate[:, g])) == [0, 6, 12, 18]     # August and February
    np.testing.assert_allclose(p.rotation_matrix()[g], np.array([
        [.5, .3, .2, 0, 0], [.5, .3, .2, 0, 0], [.5, .3, .2, 0, 0], [0, 0, 0, .25, .75], [0, 0, 0, .25, .75]]))
    assert not compile_plan(sim.load_scenario(ROOT / "configs" / "examples" / "spec_example.yaml")).prog_rotate.any()


def test_shipped_scenarios_rotate_doctors_in_training():
    p = compile_plan(sim.load_scenario(BASELINE))
    months = p.calendar_months()
    for name, expected in [("foundation_training", {8, 12, 4}), ("specialty_training", {8}),
                           ("gp_specialty_training", {8, 2})]:
        assert set(months[p.prog_rotate[:, p.programmes.index(name)]]) == expected, name
    assert not p.prog_rotate[:, p.programmes.index("nursing_degree")].any()


# --------------------------------------------------------------------------------------------------
# the mean field: exact closed form
def test_mean_field_matches_the_closed_form():
    ex = project(plan())
    trainees, out, into = closed_form()
    np.testing.assert_allclose(ex["trainees"][:, 0], trainees, atol=1e-9)
    np.testing.assert_allclose(ex["headcount"][:, 0], trainees, atol=1e-9)
    np.testing.assert_allclose(ex["leavers"][:, 0, :, OUT], out, atol=1e-9)
    np.testing.assert_allclose(ex["joiners"][:, 0, :, IN], into, atol=1e-9)


def test_mean_field_splits_a_shipped_scenario_by_shares_after_each_rotation():
    """Baseline ICS: at the end of each December (a foundation rotation month without starters) the foundation
    trainees are split across places exactly by population shares, whatever the split before. Three years:
    the rotations and their shares are the same every year."""
    scenario = sim.load_scenario(BASELINE)
    p = compile_plan(scenario.model_copy(update={"years": 3}))
    ex = project(p)
    g = p.programmes.index("foundation_training")
    pop = np.array([x.population for x in scenario.geography.places], float)
    decembers = np.flatnonzero(p.calendar_months() == 12)
    assert len(decembers) == 3
    for m in decembers:
        got = np.bincount(p.location_place, weights=ex["trainees"][m, g], minlength=len(p.places))   # by place
        assert got.sum() > 0
        np.testing.assert_allclose(got, got.sum() * pop / pop.sum(), rtol=1e-9)


# --------------------------------------------------------------------------------------------------
# the kernel: Monte Carlo mean within sampling error, exact accounting in every replicate
def test_kernel_mean_matches_the_closed_form_and_the_mean_field():
    k = kernel()
    trainees, out, into = closed_form()
    assert_mean_within(k["trainees"][:, :, 0], trainees, what="trainees by place")
    assert_mean_within(k["leavers"][:, :, 0, :, OUT], out, what="rotation_out")
    assert_mean_within(k["joiners"][:, :, 0, :, IN], into, what="rotation_in")
    ex = project(plan())
    assert_mean_within(k["headcount"], ex["headcount"], what="headcount vs mean field")


def test_kernel_split_after_a_rotation_is_multinomial():
    """After the first rotation the 600 North trainees are Multinomial(600, w): variance n w (1 - w)."""
    hc = kernel()["trainees"][:, 6, 0, :3].astype(float)
    var = hc.var(axis=0, ddof=1)
    expected = 600 * W[:3] * (1 - W[:3])
    se = expected * np.sqrt(2 / (KERNEL_REPS - 1))         # sd of a sample variance (normal approximation)
    assert np.all(np.abs(var - expected) < 4 * se), (var, expected)


def test_moves_only_in_rotation_months_within_the_ics_and_conserved():
    for raw in (kernel(), agents()):
        moves_out, moves_in = raw["leavers"][..., OUT], raw["joiners"][..., IN]
        quiet = [m for m in range(24) if m not in ROTATIONS]
        assert not moves_out[:, quiet].any() and not moves_in[:, quiet].any()
        np.testing.assert_array_equal(moves_out.sum(-1), moves_in.sum(-1))          # every move lands somewhere
        hc = raw["headcount"][:, :, 0]
        for ics, (n1, n2) in ((NORTH, (600, 300)), (SOUTH, (400, 200))):            # nobody leaves their ICS
            total = hc[:, :, ics].sum(-1)
            assert (total[:, :12] == n1).all() and (total[:, 12:] == n1 + n2).all()
        flow = raw["joiners"].sum(-1) - raw["leavers"].sum(-1)
        np.testing.assert_array_equal(np.diff(raw["headcount"], axis=1), flow[:, 1:])
        np.testing.assert_array_equal(raw["headcount"][:, 0], flow[:, 0])           # nobody at the start
        np.testing.assert_array_equal(raw["trainees"][:, :, 0], raw["headcount"][:, :, 0])


def test_same_seed_same_results_with_one_and_two_threads():
    p = plan()
    one = assert_same_on_one_and_two_threads(kernel_simulate, p, range(24), 5)
    np.testing.assert_array_equal(kernel_simulate(p, range(3, 5), 5)["trainees"], one["trainees"][3:5])


def test_rotation_draws_leave_every_other_random_stream_alone():
    """A schedule whose draws never move anyone gives results identical to no schedule: its random
    numbers come from their own stream (common random numbers for the rest)."""
    still = data()
    still["programmes"]["specialty_training"]["rotation"]["places"] = {"A": 1, "D": 1}
    none = data()
    del none["programmes"]["specialty_training"]["rotation"]
    for d in (still, none):      # some leaving and attrition, so that the other streams are used
        d["professions"]["registrar"]["leave_rate"] = 0.1
        d["programmes"]["specialty_training"]["attrition"] = 0.2
    a = kernel_simulate(compile_plan(sim.load_scenario(still)), range(8), 3)
    b = kernel_simulate(compile_plan(sim.load_scenario(none)), range(8), 3)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# --------------------------------------------------------------------------------------------------
# the agents engine: same process, a SimPy process per schedule
def test_agents_agree_with_kernel_and_the_closed_form():
    a, k = agents(), kernel()
    trainees, out, into = closed_form()
    assert_mean_within(a["trainees"][:, :, 0], trainees, what="agents: trainees by place")
    assert_mean_within(a["leavers"][:, :, 0, :, OUT], out, what="agents: rotation_out")
    ma, mk = a["headcount"].mean(0), k["headcount"].mean(0)
    se = np.sqrt(a["headcount"].var(0, ddof=1) / AGENT_REPS + k["headcount"].var(0, ddof=1) / KERNEL_REPS)
    assert np.all(np.abs(ma - mk) <= 4 * se + 1e-9)
    for l in range(5):       # end-of-horizon headcount by place: two-sample test
        if k["headcount"][:, -1, 0, l].std() > 0:
            assert stats.ks_2samp(a["headcount"][:, -1, 0, l], k["headcount"][:, -1, 0, l]).pvalue > 1e-3, PLACES[l]


def test_trace_logs_each_move_as_a_rotation_on_the_scheduled_dates(tmp_path):
    path = tmp_path / "careers.csv"
    raw = agents_simulate(plan(), range(1), 4, trace=path)
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    moves = [r for r in rows if r["event"] == "rotation"]
    assert {int(r["time"]) for r in moves} == set(ROTATIONS)
    assert {r["date"] for r in moves} == {"2027-02-01", "2027-08-01", "2028-02-01"}
    ics = {p: ("N" if p in "ABC" else "S") for p in PLACES}
    assert all(r["from"] != r["to"] and ics[r["from"]] == ics[r["to"]] and r["place"] == r["to"]
               and r["agent_type"] == "Trainee" and r["programme"] == "specialty_training" for r in moves)
    per_month = np.bincount([int(r["time"]) for r in moves], minlength=24)
    np.testing.assert_array_equal(per_month, raw["leavers"][0, :, 0, :, OUT].sum(-1))
    # one doctor's rotations, printed by the CLI
    who = max({r["agent_id"] for r in moves}, key=lambda i: sum(r["agent_id"] == i for r in moves))
    r = CliRunner().invoke(app, ["trace", str(path), "--agent", who])
    assert r.exit_code == 0, r.output
    assert r.stdout.count("rotation") == sum(m["agent_id"] == who for m in moves)


# --------------------------------------------------------------------------------------------------
# bad input
BAD = {
    "month 13": ({"months": [8, 13]}, "programmes.specialty_training.rotation.months.1"),
    "month as text": ({"months": ["8"]}, "programmes.specialty_training.rotation.months.0"),
    "repeated month": ({"months": [8, 2, 8]}, "programmes.specialty_training.rotation.months"),
    "no months": ({"months": []}, "programmes.specialty_training.rotation.months"),
    "unknown key": ({"months": [8], "every": 4}, "programmes.specialty_training.rotation.every"),
    "unknown place": ({"months": [8], "places": {"Z": 1}}, "programmes.specialty_training.rotation.places.Z"),
    "zero shares": ({"months": [8], "places": {"A": 0}}, "programmes.specialty_training.rotation.places"),
    "not in service": (None, "programmes.specialty_training.rotation"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_rotation_exits_2_naming_the_field(case, tmp_path):
    rotation, field = BAD[case]
    d = data()
    g = d["programmes"]["specialty_training"]
    if rotation is None:
        g["in_service"] = False
        del g["trainee_profession"]
    else:
        g["rotation"] = copy.deepcopy(rotation)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2, r.output
    assert f"{field}:" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
