"""Owners and budgets: levers act only inside their owner's footprint, budgets pass down the levels by
population, need or a table, and budget control scales an owner's levers pro rata in a plan year they
would overspend (closed forms on configs/analytic/budgets.yaml); bad input exits 2 naming the field."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.model.compile import compile_base
from sim.runs.budgets import control, owner_budgets, plan_years
from sim.scenario import ScenarioError
from sim.scenario.owners import footprints, owner_names, owner_table

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = ROOT / "configs" / "analytic" / "budgets.yaml"
COST = 1_000_000.0          # £ a year: North ICS's two levers together (600,000 + 400,000)
GAIN, COVER = 0.05, 0.1     # the levers' sizes


def data(**changes) -> dict:
    d = yaml.safe_load(BUDGETS.read_text())
    d.update(changes)
    return d


def yearly(ds, name="spend_by_owner"):
    """[..., plan year, owner] sums of a monthly flow over each plan year (the runs start in April)."""
    a = ds[name].values
    return a.reshape(a.shape[:-2] + (a.shape[-2] // 12, 12, a.shape[-1])).sum(axis=-2)


@pytest.fixture(scope="module")
def expected():
    return sim.expected(sim.load_scenario(BUDGETS))


@pytest.fixture(scope="module")
def unbudgeted():
    return sim.expected(sim.load_scenario(data(budgets=None)))


@pytest.fixture(scope="module")
def no_levers():
    return sim.expected(sim.load_scenario(data(budgets=None, levers=[])))


# --- budget control: closed form ------------------------------------------------------------------------
def test_overspend_scales_each_lever_to_half_and_spend_equals_the_budget(expected):
    """Budget £500,000 in 2027/28 for levers costing £1,000,000: both at scale 0.5 in that year only."""
    assert list(expected.owner.values) == ["North ICS"] and list(expected.owner_level.values) == ["ics"]
    np.testing.assert_allclose(yearly(expected)[:, 0], [COST, COST / 2, COST], rtol=1e-12)
    want = np.repeat([1.0, 0.5, 1.0], 12)
    np.testing.assert_allclose(expected.budget_scale.values[:, 0], want)
    for lever in ("north_productivity", "north_bank"):
        np.testing.assert_allclose(expected.lever_scale.sel(lever=lever).values, want, rtol=1e-6)
    assert expected.attrs["owners_over_budget"] == "North ICS"
    rows = {r["plan_year"]: r for r in json.loads(expected.attrs["budget_control"])}
    assert set(rows) == {"2027/28", "2028/29"}                  # no budget before the first entry
    assert rows["2027/28"]["expected_cost"] == pytest.approx(COST)
    assert rows["2027/28"]["expected_spend"] == pytest.approx(COST / 2)
    assert rows["2027/28"]["scale"] == pytest.approx(0.5)
    assert rows["2028/29"]["budget"] == 2_000_000 and rows["2028/29"]["scale"] == 1.0


def test_scaled_levers_deliver_half_their_effect_inside_the_footprint_only(expected, no_levers):
    """Required FTE ÷ (1 + 0.05·w), w = 1, 0.5, 1 by plan year, in North's places; South untouched."""
    w = np.repeat([1.0, 0.5, 1.0], 12)
    ratio = expected.demand_fte / no_levers.demand_fte
    for place in ("N1", "N2"):
        np.testing.assert_allclose(ratio.sel(place=place, profession="registered_nurse").values,
                                   1 / (1 + GAIN * w), rtol=1e-6)
    np.testing.assert_array_equal(expected.demand_fte.sel(place="S1").values, no_levers.demand_fte.sel(place="S1").values)
    np.testing.assert_array_equal(expected.vacancies.sel(place="S1").values, no_levers.vacancies.sel(place="S1").values)


def test_without_budgets_the_levers_run_in_full(unbudgeted):
    np.testing.assert_allclose(yearly(unbudgeted)[:, 0], [COST] * 3, rtol=1e-12)
    assert (unbudgeted.budget_scale.values == 1).all() and "owners_over_budget" not in unbudgeted.attrs


@pytest.mark.parametrize("engine", ["kernel", "agents"])
def test_engines_spend_the_budget_in_every_replicate(engine):
    """Running costs do not depend on the draws: each replicate spends exactly as the closed form."""
    n = 4 if engine == "kernel" else 2
    ds = sim.run(sim.load_scenario(BUDGETS), replicates=n, seed=5, engine=engine, years=2)
    np.testing.assert_allclose(yearly(ds)[:, :, 0], np.tile([COST, COST / 2], (n, 1)), rtol=1e-12)
    np.testing.assert_allclose(ds.budget_scale.values[:, :, 0], np.tile(np.repeat([1.0, 0.5], 12), (n, 1)))
    np.testing.assert_allclose(ds.spend_by_owner.sum("owner").values, ds.lever_cost.sum("lever").values)


def test_yearly_output_keeps_spend_and_scale():
    ds = sim.expected(sim.load_scenario(BUDGETS), every="year")
    np.testing.assert_allclose(ds.spend_by_owner.values[:, 0], [COST, COST / 2, COST], rtol=1e-12)
    np.testing.assert_allclose(ds.budget_scale.values[:, 0], [1.0, 0.5, 1.0])
    assert ds.spend_by_owner.attrs["units"] == "GBP per year"


def test_a_budget_above_the_cost_changes_nothing(unbudgeted):
    ds = sim.expected(sim.load_scenario(data(budgets={"North ICS": 2 * COST})))
    for name in ("demand_fte", "vacancies", "lever_cost", "spend_by_owner"):
        np.testing.assert_array_equal(ds[name].values, unbudgeted[name].values, err_msg=name)


def test_control_follows_the_expected_path_of_costs_that_are_not_proportional():
    """A retention lever's cost (heads in post × £) shrinks a little more than its size: the pro-rata
    factor budget ÷ expected cost leaves expected spend at or just below the budget, never above."""
    d = data()
    d["levers"] = [{"lever": "retention", "id": "keep", "owner": "North ICS", "profession": "registered_nurse",
                    "leave_rate_multiplier": 0.5, "cost_per_head_per_year": 1000}]
    d["budgets"] = {"North ICS": 300_000}
    ds = sim.expected(sim.load_scenario(d))
    rows = json.loads(ds.attrs["budget_control"])
    assert len(rows) == 3 and all(r["expected_cost"] > r["budget"] for r in rows)
    for r, spent in zip(rows, yearly(ds)[:, 0]):
        assert r["scale"] == pytest.approx(r["budget"] / r["expected_cost"])
        assert r["expected_spend"] == pytest.approx(spent)
        assert 0.97 * r["budget"] <= spent <= r["budget"] * (1 + 1e-9)


# --- allocation down the levels ---------------------------------------------------------------------------
def budgets_of(d: dict) -> dict[str, float]:
    """Each owner's budget in the first plan year (own plus passed down)."""
    s = sim.load_scenario(d)
    base = compile_base(s)
    b = owner_budgets(base, s, plan_years(s.start, base.months))[0]
    return {o: float(x) for o, x in zip(base.owners, b) if np.isfinite(x)}


def test_allocation_by_population_reproduces_the_shares():
    """National £1m to ICSs by residents (North 400,000, South 600,000), then North to its places."""
    got = budgets_of(data(levers=[], budgets={"national": 1e6, "allocate": {"national": {"to": "ics"}}}))
    assert got == pytest.approx({"national": 0.0, "North ICS": 4e5, "South ICS": 6e5})
    got = budgets_of(data(levers=[], budgets={"national": 1e6, "allocate": {
        "national": {"to": "ics", "by": "population", "share": 0.5}, "North ICS": {"to": "place"}}}))
    assert got == pytest.approx({"national": 5e5, "North ICS": 0.0, "South ICS": 3e5, "N1": 1.5e5, "N2": 5e4})
    got = budgets_of(data(levers=[], budgets={"national": 1e6, "allocate": {"national": {"to": "place"}}}))
    assert got == pytest.approx({"national": 0.0, "N1": 3e5, "N2": 1e5, "S1": 6e5})


def test_allocation_by_need_and_by_table():
    d = data(levers=[], budgets={"national": 1e6, "allocate": {"national": {"to": "place", "by": "need"}}})
    s = sim.load_scenario(d)
    base = compile_base(s)
    need = base.demand0.sum(axis=0)                     # required FTE at the start by place
    want = dict(zip(base.places, 1e6 * need / need.sum()))
    assert {k: v for k, v in budgets_of(d).items() if k != "national"} == pytest.approx(want)
    table = {"North ICS": 0.25, "South ICS": 0.75}
    got = budgets_of(data(levers=[], budgets={"national": 8e5, "allocate": {"national": {"to": "ics", "by": "table",
                                                                                         "table": table}}}))
    assert got == pytest.approx({"national": 0.0, "North ICS": 2e5, "South ICS": 6e5})


def test_an_allocated_budget_controls_the_receivers_levers():
    """National £1.25m by population: North receives 0.4 × 1.25m = £500,000 a year, half its levers' cost."""
    ds = sim.expected(sim.load_scenario(data(budgets={"national": 1.25e6, "allocate": {"national": {"to": "ics"}}})))
    assert list(ds.owner.values) == ["national", "North ICS", "South ICS"]
    assert list(ds.owner_level.values) == ["national", "ics", "ics"]
    np.testing.assert_allclose(yearly(ds)[:, 1], [COST / 2] * 3, rtol=1e-12)
    np.testing.assert_allclose(ds.budget_scale.sel(owner="North ICS").values, 0.5)
    np.testing.assert_array_equal(ds.budget_scale.sel(owner="South ICS").values, 1.0)


def test_partial_plan_years_get_their_months_share():
    """A start in October: the first plan year has 6 months in the horizon and half its budget."""
    d = data(start="2026-10", budgets={"North ICS": 1e6}, levers=[])
    s = sim.load_scenario(d)
    years = plan_years(s.start, s.years * 12)
    assert [(y, sp.stop - sp.start) for y, sp in years] == [(2026, 6), (2027, 12), (2028, 12), (2029, 6)]
    assert budgets_of(d) == pytest.approx({"North ICS": 5e5})


# --- owners and footprints ----------------------------------------------------------------------------------
def test_footprints_of_a_one_region_geography():
    s = sim.load_scenario(BUDGETS)
    fp = footprints(s.geography)
    assert fp["national"]["national"] == fp["region"]["Analytic"] == ("N1", "N2", "S1")
    assert fp["ics"] == {"North ICS": ("N1", "N2"), "South ICS": ("S1",)}
    assert owner_names(s.geography) == ["national", "Analytic", "North ICS", "South ICS", "N1", "N2", "S1"]


def test_unowned_levers_belong_to_the_top_level_and_act_everywhere(no_levers):
    d = data(budgets={"Analytic": 5e5})
    for lever in d["levers"]:
        del lever["owner"]
    s = sim.load_scenario(d)
    assert owner_table(s) == [("Analytic", "region")]
    ds = sim.expected(s)
    ratio = (ds.demand_fte / no_levers.demand_fte).sel(profession="registered_nurse").isel(time=0).values
    np.testing.assert_allclose(ratio, 1 / (1 + GAIN / 2), rtol=1e-6)    # in every place, S1 included; scale 0.5
    np.testing.assert_allclose(yearly(ds)[:, 0], [COST / 2] * 3, rtol=1e-12)


def test_scenarios_without_owners_or_budgets_have_no_owner_variables(no_levers):
    ds = sim.expected(sim.load_scenario(ROOT / "configs" / "analytic" / "lever_reform.yaml"))
    assert "spend_by_owner" not in ds and "owner" not in ds.coords
    assert "spend_by_owner" not in no_levers


def test_a_lever_may_act_in_part_of_its_owners_footprint(no_levers):
    d = data(budgets=None)
    d["levers"][0]["where"] = "N2"
    ds = sim.expected(sim.load_scenario(d))
    ratio = (ds.demand_fte / no_levers.demand_fte).sel(profession="registered_nurse").isel(time=0)
    np.testing.assert_allclose(ratio.values, [1.0, 1 / (1 + GAIN), 1.0], rtol=1e-6)


# --- bad input ------------------------------------------------------------------------------------------------
def problems(d: dict) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(d)
    return info.value.problems


BAD = {   # case: (change to the scenario data, field named, text in the message)
    "where outside the owner": (lambda d: d["levers"][0].update(where="S1"), "levers.0.where", "outside the footprint"),
    "unknown owner": (lambda d: d["levers"][1].update(owner="Nowhere ICS"), "levers.1.owner", "allowed: national, Analytic"),
    "level disagrees": (lambda d: d["levers"][0].update(level="place"), "levers.0.level", "at level ics"),
    "negative budget": (lambda d: d["budgets"].update({"North ICS": {2027: -1}}), "budgets.North ICS",
                        "from 0 to 1,000,000,000,000"),
    "unknown budget owner": (lambda d: d["budgets"].update({"Nowhere": 1}), "budgets.Nowhere", "unknown owner"),
    "shares not summing to 1": (lambda d: d["budgets"].update({"national": 1, "allocate": {"national": {
        "to": "ics", "by": "table", "table": {"North ICS": 0.5, "South ICS": 0.4}}}}),
        "budgets.allocate.national.table", "add up to 1"),
    "table names a place": (lambda d: d["budgets"].update({"national": 1, "allocate": {"national": {
        "to": "ics", "by": "table", "table": {"N1": 0.5, "South ICS": 0.5}}}}),
        "budgets.allocate.national.table.N1", "not an owner at level ics"),
    "allocation upwards": (lambda d: d["budgets"].update({"allocate": {"North ICS": {"to": "region"}}}),
                           "budgets.allocate.North ICS.to", "lower level"),
    "nothing to allocate": (lambda d: d["budgets"].update({"allocate": {"South ICS": {"to": "place"}}}),
                            "budgets.allocate.South ICS", "no budget to pass down"),
    "unknown allocation key": (lambda d: d["budgets"].update({"national": 1, "allocate": {"national": {
        "to": "ics", "bye": "x"}}}), "budgets.allocate.national.bye", "unknown key"),
    "budget year beyond the horizon": (lambda d: d["budgets"].update({"North ICS": {2031: 1}}),
                                       "budgets.North ICS", "beyond the horizon"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_owners_and_budgets_are_refused_naming_the_field(case):
    change, field, needle = BAD[case]
    d = data()
    change(d)
    found = problems(d)
    assert any(p == field and needle in m for p, m in found), found


def wfsim(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "WFSIM_DEBUG"}
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=180)


def test_a_lever_outside_its_owners_footprint_exits_2(tmp_path):
    """In a real process: exit 2, one line per problem, each naming its field, no traceback."""
    d = data()
    d["levers"][0]["where"] = ["N1", "S1"]
    d["levers"][1]["owner"] = "Nowhere"
    bad_budget = data(budgets={"North ICS": {2027: -5}})
    for scenario, want in ((d, ["levers.0.where: 'S1' is outside the footprint of its owner 'North ICS'",
                                "levers.1.owner: unknown owner 'Nowhere'; allowed: national, Analytic"]),
                           (bad_budget, ["budgets.North ICS: value for 2027 must be a number from 0 to 1,000,000,000,000"])):
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
        r = wfsim("validate", path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == len(want) and all(w in line for w, line in zip(want, lines)), r.stderr


NAMES = st.text(st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owner=NAMES)
def test_any_unknown_owner_is_refused_with_the_allowed_names(owner):
    s = sim.load_scenario(BUDGETS)
    if owner in owner_names(s.geography):
        return
    d = data(budgets={owner: 1})
    d["levers"][0]["owner"] = owner
    found = dict(problems(d))
    assert "unknown owner" in found["levers.0.owner"] and "North ICS" in found["levers.0.owner"]
    assert "unknown owner" in found[f"budgets.{owner}"]


@settings(max_examples=30, deadline=None)
@given(amount=st.one_of(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
                        st.floats(min_value=1e12 * (1 + 1e-9), allow_infinity=False),
                        st.sampled_from([float("nan"), float("inf"), "lots", True, None, [1]])))
def test_any_negative_too_large_or_non_numeric_budget_is_refused(amount):
    for value in (amount, {2027: amount}):
        found = problems(data(budgets={"North ICS": value}))
        assert [p for p, _ in found] == ["budgets.North ICS"], found


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(0, 1))
def test_table_shares_must_sum_to_1(a, b):
    d = data(budgets={"national": 1, "allocate": {"national": {"to": "ics", "by": "table",
                                                               "table": {"North ICS": a, "South ICS": b}}}})
    if abs(a + b - 1) <= 1e-6:
        sim.load_scenario(d)
    else:
        assert ("budgets.allocate.national.table", f"shares must add up to 1; they add up to {a + b:.6g}") \
            in problems(d)


# --- action plans carry budgets ---------------------------------------------------------------------------
def test_an_action_plan_brings_its_owners_budgets(tmp_path):
    plan = tmp_path / "national.yaml"
    plan.write_text(yaml.safe_dump({"name": "national", "levers": [
        {"lever": "productivity", "id": "nat", "owner": "national", "profession": "registered_nurse", "gain": 0.02,
         "cost_per_year": 200_000}], "budgets": {"national": 100_000}}), encoding="utf-8")
    s = sim.load_scenario(BUDGETS, plans=[plan])
    assert set(s.budgets.owners) == {"North ICS", "national"}
    ds = sim.expected(s)
    np.testing.assert_allclose(yearly(ds)[:, list(ds.owner.values).index("national")], [1e5] * 3, rtol=1e-12)
    clash = tmp_path / "clash.yaml"
    clash.write_text(yaml.safe_dump({"name": "clash", "levers": [], "budgets": {"North ICS": 1}}), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(BUDGETS, plans=[clash])
    assert info.value.problems[0][0] == "budgets.North ICS" and "give each owner's budget once" in info.value.problems[0][1]


# --- summary, experiments and report ---------------------------------------------------------------------
def test_run_summary_shows_spend_by_owner_and_level(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    r = CliRunner().invoke(app, ["run", str(BUDGETS), "-n", "4", "--out", str(tmp_path / "b.nc")],
                           terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "spend on levers by owner" in r.output and "spend on levers by owners' level" in r.output
    row = next(line for line in r.output.splitlines() if "2027/28" in line and "North ICS" in line)
    assert "0.50 (0.50 to 0.50)" in row and row.rstrip(" │").endswith("0.50")
    assert "over budget (levers scaled down; see scale): North ICS" in r.output


def test_experiment_stores_spend_by_owner_and_the_report_says_who_spent_what(tmp_path):
    from sim.experiments import comparison, load_experiment, open_experiment, run_experiment
    from sim.experiments.report import write_report

    spec = {"name": "owners", "question": "What does North ICS's budget buy?", "scenario": str(BUDGETS),
            "replicates": 4, "seed": 3, "every": "year", "block": 2, "baseline": "baseline",
            "variants": {"baseline": {"set": {"levers": [], "budgets": None}}, "north": {},
                         "unlimited": {"set": {"budgets": None}}}}
    path = tmp_path / "owners.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    run_experiment(load_experiment(path), tmp_path / "out", workers=1)
    ds = open_experiment(tmp_path / "out")
    assert list(ds.owner.values) == ["North ICS"]
    spend = ds.spend_by_owner.sel(owner="North ICS").values        # [scenario, replicate, year]
    np.testing.assert_array_equal(spend[0], 0.0)                     # the baseline has no owners
    np.testing.assert_allclose(spend[1], np.tile([COST, COST / 2, COST], (4, 1)), rtol=1e-12)
    np.testing.assert_allclose(spend[2], COST, rtol=1e-12)
    np.testing.assert_allclose(ds.budget_scale.sel(scenario="north", owner="North ICS").values[0], [1, 0.5, 1])
    np.testing.assert_array_equal(ds.budget_scale.sel(scenario="baseline").values, 1.0)
    assert comparison(ds) is not None
    text = write_report(tmp_path / "out", fmt="md")[0].read_text(encoding="utf-8")
    section = text.split("## Who spent what")[1].split("##")[0]
    assert "| north | North ICS | ics | north_productivity, north_bank | 2.50 (2.50 to 2.50) | 0.50 |" in section
    assert "| unlimited | North ICS | ics | north_productivity, north_bank | 3.00 (3.00 to 3.00) | 1.00 |" in section
    assert "| baseline |" not in section
