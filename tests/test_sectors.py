"""Sector moves (a profession's ``sector_moves``) and retire-and-return (``retire_and_return``) on
configs/analytic/sectors.yaml: the mean field follows the closed forms exactly (the NHS share of nurses;
returners in post = rate in × mean stay), the kernel's replicates average to them, flows conserve the system
total, FTE counts returners at their own FTE, the three engines agree, the agents engine's trace shows sector
moves and returns, and bad input exits 2 naming the field. A scenario without the sections is unchanged
(tests/golden.py)."""
from __future__ import annotations

import copy
import csv
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from helpers import assert_mean_within, run_bad_scenario, three_engines
from sim.engines.agents import simulate as agents_simulate
from sim.model.compile import compile_plan
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SECTORS = ROOT / "configs" / "analytic" / "sectors.yaml"
BASE = yaml.safe_load(SECTORS.read_text(encoding="utf-8"))
PROVIDERS = ["Westfield Trust", "Westfield Independent", "Eastfield Trust"]
NHS = ["Westfield Trust", "Eastfield Trust"]
N = 3000                                    # nurses: 2,400 at NHS trusts, 600 independent at the start
SEED = 31
C1, C2 = 1 - 0.8 ** (1 / 12), 1 - 0.7 ** (1 / 12)       # monthly: NHS → independent, independent → NHS
Q = 1 - 0.7 ** (1 / 12)                                  # a returner leaving in a month


@pytest.fixture(scope="module")
def scenario():
    return sim.load_scenario(SECTORS)


@pytest.fixture(scope="module")
def expected(scenario):
    return sim.expected(scenario, level="provider")


@pytest.fixture(scope="module")
def kernel(scenario):
    return sim.run(scenario, replicates=60, seed=SEED, level="provider")


def nhs_share(months: int) -> np.ndarray:
    """[M] the closed-form expected NHS share of nurses at the end of each month."""
    pi = C2 / (C1 + C2)
    return pi + (0.8 - pi) * (1 - C1 - C2) ** (np.arange(months) + 1)


def returners(months: int) -> np.ndarray:
    """[M] expected returners in post: 400 who retired in the first month, then 0.4 × 10 a month, each staying
    a geometric time of mean 1/Q months."""
    m = np.arange(months)
    return 400 * (1 - Q) ** m + 4 * (1 - (1 - Q) ** m) / Q


# --- closed forms -------------------------------------------------------------------------------------------
def test_mean_field_nhs_share_follows_the_closed_form_and_reaches_the_split(expected):
    hc = expected.headcount.sel(profession="nurse")
    share = hc.sel(provider=NHS).sum("provider") / hc.sum("provider")
    np.testing.assert_allclose(share.values, nhs_share(hc.sizes["time"]), rtol=1e-9)
    np.testing.assert_allclose(float(share[-1]), C2 / (C1 + C2), atol=1e-3)   # the split after 10 years
    np.testing.assert_allclose(hc.sum("provider").values, N, rtol=1e-12)


def test_moves_go_to_the_other_sector_in_the_place_else_the_ics(scenario):
    plan = compile_plan(scenario)
    p = plan.professions.index("nurse")
    where = plan.sector_matrix()[p]
    west, indep, east = (plan.locations.index(x) for x in PROVIDERS)
    np.testing.assert_array_equal(where[west], np.eye(3)[indep])
    np.testing.assert_array_equal(where[indep], np.eye(3)[west])        # Westfield has an NHS trust: not Eastfield
    np.testing.assert_array_equal(where[east], np.eye(3)[indep])        # no independent provider in Eastfield
    np.testing.assert_allclose(plan.sector_hazard[0, p], [-math.log(0.8) / 12, -math.log(0.7) / 12,
                                                          -math.log(0.8) / 12], rtol=1e-12)
    assert not plan.sector_hazard[:, plan.professions.index("doctor")].any()


def test_mean_field_returners_are_rate_in_times_mean_stay(expected):
    back = expected.returned.sel(profession="doctor").sum("provider").values
    np.testing.assert_allclose(back, returners(len(back)), rtol=1e-9)
    assert abs(returners(2000)[-1] - 4 / Q) < 1e-6          # the steady state: 4 a month × 1/Q months
    doctors = expected.sel(profession="doctor").sum("provider")
    np.testing.assert_allclose(doctors.fte.values, doctors.headcount.values - 0.4 * back, rtol=1e-5)
    retired = doctors.leavers.sel(reason="retirement").values
    np.testing.assert_allclose(doctors.joiners.sel(source="retire_return").values, 0.4 * retired, rtol=1e-12)


def test_kernel_means_are_the_closed_forms_within_sampling_error(kernel, expected):
    for var in ("headcount", "joiners", "leavers", "returned", "sector_moves"):
        assert_mean_within(kernel[var].values, expected[var].values, n_se=4.5, what=var)
    hc = kernel.headcount.sel(profession="nurse")
    share = (hc.sel(provider=NHS).sum("provider") / N).isel(time=[11, 59, 119])   # [R, 3]
    want = nhs_share(120)[[11, 59, 119]]
    z = (share.mean("replicate").values - want) / (share.std("replicate").values / np.sqrt(share.sizes["replicate"]))
    assert np.all(np.abs(z) < 4), z
    back = kernel.returned.sel(profession="doctor").sum("provider").isel(time=-1)
    z = (float(back.mean()) - returners(120)[-1]) / (float(back.std()) / np.sqrt(back.size))
    assert abs(z) < 4, z


# --- conservation and accounting ------------------------------------------------------------------------------
def test_sector_moves_conserve_the_system_total(kernel):
    nurse = kernel.sel(profession="nurse")
    assert (nurse.headcount.sum("provider") == N).all()                          # every month of every replicate
    into = nurse.joiners.sel(source="sector_in").sum("provider")
    out = nurse.leavers.sel(reason="sector_out").sum("provider")
    np.testing.assert_array_equal(into.values, out.values)
    np.testing.assert_array_equal(nurse.sector_moves.sum(["from_sector", "to_sector"]).values, out.values)
    # out of NHS trusts = moves from nhs_trust; into the independent provider = moves to independent_sector
    np.testing.assert_array_equal(nurse.leavers.sel(reason="sector_out", provider=NHS).sum("provider").values,
                                  nurse.sector_moves.sel(from_sector="nhs_trust").sum("to_sector").values)
    np.testing.assert_array_equal(nurse.joiners.sel(source="sector_in", provider="Westfield Independent").values,
                                  nurse.sector_moves.sel(to_sector="independent_sector").sum("from_sector").values)
    assert int(nurse.joiners.sel(source="sector_in", provider="Eastfield Trust").sum()) == 0
    assert int(out.sum()) > 0
    hc = kernel.headcount.values.astype(np.int64)                                # stocks follow the flows
    net = kernel.joiners.sum("source").values - kernel.leavers.sum("reason").values
    np.testing.assert_array_equal(hc[:, 1:], hc[:, :-1] + net[:, 1:])


def test_returners_fte_and_flows_add_up(kernel):
    doc = kernel.sel(profession="doctor").sum("provider")
    np.testing.assert_allclose(doc.fte.values, doc.headcount.values - 0.4 * doc.returned.values, rtol=1e-6)
    back = doc.returned.values.astype(np.int64)
    came = doc.joiners.sel(source="retire_return").values.astype(np.int64)
    gone = doc.leavers.sel(reason="leaver").values.astype(np.int64)          # only returners leave otherwise
    np.testing.assert_array_equal(back[:, 1:], back[:, :-1] + came[:, 1:] - gone[:, 1:])
    np.testing.assert_array_equal(back[:, 0], came[:, 0])
    assert (came <= doc.leavers.sel(reason="retirement").values).all()
    # staff cost follows FTE: a returner costs 0.6 of a doctor (cost_per_fte 0 here: only the FTE matters)
    assert (doc.fte.values <= doc.headcount.values + 1e-6).all()


# --- engines agree ------------------------------------------------------------------------------------------
def small(years: int = 2) -> dict:
    d = copy.deepcopy(BASE)
    d["years"] = years
    d["professions"]["nurse"]["headcount"] = {"Westfield": 300, "Eastfield": 150}
    d["professions"]["doctor"]["headcount"] = {"Westfield": 150, "Eastfield": 0}
    d["professions"]["doctor"]["recruitment"]["domestic"] = 60
    return d


def test_engines_agree_with_sector_moves_and_returners():
    """Kernel, agents engine and mean field on a small config with both: means of the raw counts within 4
    standard errors, by provider and plan year."""
    _, kernel, agents = three_engines(sim.load_scenario(small()), ("headcount", "joiners", "leavers", "returned",
                                                                   "sector_moves", "fte"),
                                      seed=SEED, every="year", level="provider")
    for ds in (kernel, agents):
        assert ds.sector_moves.sum() > 0 and ds.returned.sum() > 0
        np.testing.assert_array_equal(ds.joiners.sel(source="sector_in").sum("provider").values,
                                      ds.leavers.sel(reason="sector_out").sum("provider").values)


def test_trace_shows_sector_moves_and_returns(tmp_path):
    plan = compile_plan(sim.load_scenario(small(1)))
    path = tmp_path / "trace.csv"
    agents_simulate(plan, range(1), 5, trace=path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    moves = [r for r in rows if r["event"] == "sector"]
    assert moves and all(r["profession"] == "nurse" for r in moves)
    assert {(r["from"], r["to"]) for r in moves} <= {
        ("Westfield Trust (nhs_trust)", "Westfield Independent (independent_sector)"),
        ("Eastfield Trust (nhs_trust)", "Westfield Independent (independent_sector)"),
        ("Westfield Independent (independent_sector)", "Westfield Trust (nhs_trust)")}
    back = [r for r in rows if r["event"] == "return"]
    assert back and all(r["profession"] == "doctor" for r in back)
    ids = {r["agent_id"] for r in back}
    retired = {r["agent_id"] for r in rows if r["event"] == "retirement"}
    assert ids <= retired                                   # the same person retires, then returns


def test_without_the_sections_the_dataset_has_no_sector_or_return_flows():
    d = small(1)
    del d["professions"]["nurse"]["sector_moves"]
    del d["professions"]["doctor"]["retire_and_return"]
    ds = sim.expected(sim.load_scenario(d))
    assert not {"sector_in", "retire_return"} & set(ds.source.values) and "sector_out" not in ds.reason.values
    assert "returned" not in ds and "sector_moves" not in ds and "from_sector" not in ds.coords
    plan = compile_plan(sim.load_scenario(d))
    assert not plan.sectoral and not plan.returning and not plan.sector_hazard.any() and not plan.return_share.any()


# --- bad input ----------------------------------------------------------------------------------------------
def problems(d: dict) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(d)
    return dict(info.value.problems)


NURSE = "professions.nurse"
BAD = {
    "unknown sector moved from": (lambda p: p["sector_moves"].update(nhs={"rate": 0.1, "to": {"nhs_trust": 1}}),
                                  f"{NURSE}.sector_moves.nhs", "nhs_trust"),
    "unknown sector moved to": (lambda p: p["sector_moves"]["nhs_trust"].update(to={"private": 1.0}),
                                f"{NURSE}.sector_moves.nhs_trust.to.private", "independent_sector"),
    "shares not adding up": (lambda p: p["sector_moves"]["nhs_trust"].update(
        to={"independent_sector": 0.6, "adult_social_care": 0.3}), f"{NURSE}.sector_moves.nhs_trust.to",
        "add up to 1"),
    "negative rate": (lambda p: p["sector_moves"]["nhs_trust"].update(rate=-0.1),
                      f"{NURSE}.sector_moves.nhs_trust.rate", "from 0 to 1"),
    "to its own sector": (lambda p: p["sector_moves"]["nhs_trust"].update(to={"nhs_trust": 1.0}),
                          f"{NURSE}.sector_moves", "another sector"),
    "no provider in reach": (lambda p: p["sector_moves"]["nhs_trust"].update(to={"adult_social_care": 1.0}),
                             f"{NURSE}.sector_moves.nhs_trust.to.adult_social_care", "no provider of sector"),
    "no provider of the sector moved from": (
        lambda p: p["sector_moves"].update(voluntary_sector={"rate": 0.1, "to": {"nhs_trust": 1.0}}),
        f"{NURSE}.sector_moves.voluntary_sector", "no provider of sector"),
    "returner share above 1": (lambda p: p.update(retire_and_return={"share": 1.5, "fte_per_head": 0.6, "leave": 0.3}),
                               f"{NURSE}.retire_and_return.share", "from 0 to 1"),
    "negative returner leaving": (lambda p: p.update(retire_and_return={"share": 0.5, "fte_per_head": 0.6,
                                                                       "leave": -0.3}),
                                  f"{NURSE}.retire_and_return.leave", "from 0 to 1"),
    "returner FTE missing": (lambda p: p.update(retire_and_return={"share": 0.5, "leave": 0.3}),
                             f"{NURSE}.retire_and_return.fte_per_head", "missing"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_sector_input_names_the_field(case):
    change, field, text = BAD[case]
    d = copy.deepcopy(BASE)
    change(d["professions"]["nurse"])
    found = problems(d)
    assert field in found, found
    assert text in found[field], found[field]


def test_bad_sector_input_exits_2_naming_the_field(tmp_path):
    d = copy.deepcopy(BASE)
    d["professions"]["nurse"]["sector_moves"]["nhs_trust"]["to"] = {"adult_social_care": 1.0}
    r = run_bad_scenario(tmp_path, d)
    assert r.exit_code == 2, r.output
    assert "sector_moves.nhs_trust.to.adult_social_care" in r.stderr and "Traceback" not in r.stderr


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shares=st.tuples(st.floats(0, 1, allow_nan=False), st.floats(0, 1, allow_nan=False)))
def test_property_sector_shares_must_add_up_to_one(shares):
    d = copy.deepcopy(BASE)
    d["geography"]["places"][1]["providers"].append({"name": "Eastfield Care", "kind": "adult_social_care"})
    d["professions"]["nurse"]["employers"] = {"acute": 0.6, "independent_sector": 0.3, "adult_social_care": 0.1}
    d["professions"]["nurse"]["sector_moves"]["nhs_trust"]["to"] = dict(zip(("independent_sector",
                                                                             "adult_social_care"), shares))
    if abs(sum(shares) - 1) <= 1e-6:
        assert sim.load_scenario(d).professions["nurse"].sector_moves["nhs_trust"].to["independent_sector"] == shares[0]
    else:
        assert f"{NURSE}.sector_moves.nhs_trust.to" in problems(d)


def test_moves_to_another_place_keep_the_sector_of_a_profession_with_sector_moves():
    """Rotation (another place of the ICS) goes to a provider of the mover's own sector, so a change of sector is
    only ever a sector move; where the other places have none of it, nobody rotates."""
    d = copy.deepcopy(BASE)
    d["professions"]["nurse"]["rotation_rate"] = 0.1
    plan = compile_plan(sim.load_scenario(d))
    p = plan.professions.index("nurse")
    west, indep, east = (plan.locations.index(x) for x in PROVIDERS)
    dest = plan.move_matrix()[p]
    np.testing.assert_array_equal(dest[west], np.eye(3)[east])
    np.testing.assert_array_equal(dest[east], np.eye(3)[west])
    assert not dest[indep].any() and plan.rotation_hazard[0, p, indep] == 0 and plan.rotation_hazard[0, p, west] > 0


def test_dental_pharmacy_and_optometry_staff_groups_are_available():
    """configs/examples/primary_care_contractors.yaml: each staff group sits only with its own kind of provider
    (dental practices, primary care networks, optical practices) and its cited headcount is kept."""
    path = ROOT / "configs" / "examples" / "primary_care_contractors.yaml"
    plan = compile_plan(sim.load_scenario(path))
    assert {"dentist", "dental_nurse", "pharmacist", "pharmacy_technician", "optometrist"} <= set(plan.professions)
    hc = dict(zip(plan.professions, plan.init_headcount.sum(axis=1)))
    assert (hc["dentist"], hc["dental_nurse"], hc["pharmacist"], hc["pharmacy_technician"]) == (289, 595, 73, 26)
    kinds = np.array(plan.location_kind)
    for name, kind in (("dentist", "independent_sector"), ("pharmacist", "general_practice"), ("optometrist", "other")):
        held = plan.init_headcount[plan.professions.index(name)]
        assert held.sum() == held[kinds == kind].sum() > 0, name
    e = sim.expected(sim.load_scenario(path), years=2)
    assert float(e.returned.sel(profession="optometrist").isel(time=-1).sum()) > 0
