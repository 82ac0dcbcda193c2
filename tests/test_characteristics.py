"""Staff characteristics and pay bands (sim.model.cells): closed forms on configs/analytic/groups.yaml and
bands.yaml for every engine, conservation of promotions and of staff by group, the same results whatever
the thread count, the representation indicators, and bad input refused naming the field. A scenario
without either section keeping its results to the bit is tests/test_golden.py's."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from helpers import assert_mean_within, assert_same_on_one_and_two_threads, three_engines
from sim.engines.agents import simulate as agents_simulate
from sim.engines.kernel import simulate as kernel_simulate
from sim.model import flows
from sim.model.compile import compile_plan, monthly_hazard
from sim.model.expected import project
from sim.results import representation
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ROOT / "configs" / "analytic" / "groups.yaml"
BANDS = ROOT / "configs" / "analytic" / "bands.yaml"
SEED = 1818


def plan_of(path, **update):
    return compile_plan(sim.load_scenario(path).model_copy(update=update))


# --- closed forms ---------------------------------------------------------------------------------------------
def groups_closed_form(months: int) -> np.ndarray:
    """[M, group] expected staff of groups a and b (configs/analytic/groups.yaml's header)."""
    lam = float(monthly_hazard(np.array(0.1)))
    j = 600 / 12
    m = np.arange(months)[:, None]
    q = 1 - np.exp(-lam * np.array([1.0, 2.0]))[None]
    keep = (1 - q) ** (m + 1)
    return 2000 * keep + (j / 2) * (1 - keep) / q


def bands_recurrence(months: int) -> tuple[np.ndarray, np.ndarray]:
    """([M, band, group] expected staff, [band, group] the fixed point) of configs/analytic/bands.yaml's header."""
    lam = float(monthly_hazard(np.array(0.1)))
    up = monthly_hazard(np.array([0.2, 0.1, 0.0]))
    s = np.exp(-lam * np.array([1.0, 1.0, 0.5]))
    out = np.zeros((months, 3, 2))
    fixed = np.zeros((3, 2))
    for g, mult in enumerate((1.0, 0.5)):
        u = 1 - np.exp(-up * mult)
        A = np.array([[s[0] * (1 - u[0]), 0, 0], [s[0] * u[0], s[1] * (1 - u[1]), 0], [0, s[1] * u[1], s[2]]])
        J = np.array([480 / 12 / 2, 0, 0])
        n = 3000 * 0.5 * np.array([0.5, 0.3, 0.2])
        for m in range(months):
            n = A @ n + J
            out[m, :, g] = n
        fixed[:, g] = np.linalg.solve(np.eye(3) - A, J)
    return out, fixed


def test_groups_reach_the_closed_form_composition_in_the_mean_field():
    plan = plan_of(GROUPS)
    got = project(plan)["staff_by_group"][:, 0, 0, 0, :]
    np.testing.assert_allclose(got, groups_closed_form(plan.months), rtol=1e-9)
    q_a, q_b = 1 - np.exp(-np.array([1.0, 2.0]) * float(monthly_hazard(np.array(0.1))))
    share = got[:, 0] / got.sum(axis=1)                      # group a's share rises from a half to its limit
    assert np.all(np.diff(share) > 0) and share[-1] < q_b / (q_a + q_b)
    # forty years (still nobody near retirement age): the closed form all the way, and near the limit
    long = plan_of(GROUPS, years=40)
    settled = project(long)["staff_by_group"][:, 0, 0, 0]
    np.testing.assert_allclose(settled, groups_closed_form(long.months), rtol=1e-9)
    assert abs(settled[-1, 0] / settled[-1].sum() - q_b / (q_a + q_b)) < 0.005


def test_bands_follow_the_linear_recurrence_and_settle_to_its_fixed_point():
    plan = plan_of(BANDS)
    want, fixed = bands_recurrence(plan.months)
    got = project(plan)["staff_by_group"][:, 0, 0]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    long = plan_of(BANDS, years=40)                        # (still nobody near retirement age)
    settled = project(long)["staff_by_group"][:, 0, 0]
    np.testing.assert_allclose(settled, bands_recurrence(long.months)[0], rtol=1e-9)
    # approaching the fixed point at the pace of the slowest band (band_7: its leaving hazard alone)
    slowest = np.exp(-0.5 * float(monthly_hazard(np.array(0.1))) * 30 * 12)
    assert np.abs(settled[-1] - fixed).max() < 1.5 * slowest * np.abs(got[-1] - fixed).max()


NEUTRAL = {"groups": ["a", "b"], "staff": {"a": 0.5, "b": 0.5}, "joiners": {"default": {"a": 0.5, "b": 0.5}},
           "population": {"a": 0.5, "b": 0.5}}


@pytest.mark.parametrize("name", ["transfers", "mobility", "sectors", "national"])
def test_groups_that_change_nothing_leave_the_mean_field_as_it_was(name):
    """Two groups alike in everything: the mean field by cell (sim.model.cell_field: its moves between places,
    ICSs, sectors and professions, its ages, hiring only into vacancies on transfers.yaml) gives the projection
    without cells, to rounding."""
    d = yaml.safe_load((ROOT / "configs" / "analytic" / f"{name}.yaml").read_text(encoding="utf-8"))
    plain = project(compile_plan(sim.load_scenario(d)))
    d["characteristics"] = {"x": NEUTRAL}
    plan = compile_plan(sim.load_scenario(d))
    assert plan.cells == 2
    by_cell = project(plan)
    for k in set(plain) - set(flows.CELL_COUNT_NAMES):
        np.testing.assert_allclose(by_cell[k], plain[k], rtol=1e-9, atol=1e-9, err_msg=k)
    staff = plain["headcount"] - plain["returned"]                    # (returners back in post are not by cell)
    np.testing.assert_allclose(by_cell["staff_by_group"].sum(axis=(-1, -2)), staff, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("path", [GROUPS, BANDS], ids=["groups", "bands"])
def test_kernel_agrees_with_the_closed_forms(path):
    plan = plan_of(path)
    out = kernel_simulate(plan, range(60), seed=SEED)
    want = groups_closed_form(plan.months)[:, None, :] if path == GROUPS else bands_recurrence(plan.months)[0]
    assert_mean_within(out["staff_by_group"][:, :, 0, 0], want, what=f"{path.stem} staff by band and group")


@pytest.mark.parametrize("path", [GROUPS, BANDS], ids=["groups", "bands"])
def test_engines_agree_with_the_mean_field_by_cell(path):
    """Kernel (200 replicates), agents engine (8) and mean field over two years: staff by band and group at
    each year's end, appointments, leavers and promotions by cell over each year, within 4 standard errors."""
    three_engines(sim.load_scenario(path).model_copy(update={"years": 2}),
                  ("staff_by_group", "joiners_by_group", "leavers_by_group", "promotions"),
                  seed=SEED, agent_replicates=8, agent_workers=2, every="year")


# --- conservation ---------------------------------------------------------------------------------------------
ENGINES = {
    "kernel": lambda plan: kernel_simulate(plan, range(4), seed=SEED),
    "agents": lambda plan: agents_simulate(plan, range(2), seed=SEED, workers=2),
    "expected": lambda plan: {k: v[None] for k, v in project(plan).items()},
}


@pytest.mark.parametrize("engine", ENGINES)
def test_promotions_and_staff_by_group_conserve(engine):
    plan = plan_of(BANDS, years=2)
    out = ENGINES[engine](plan)
    promoted_in = out["joiners"][..., flows.SOURCE["promoted_in"]]
    promoted_out = out["leavers"][..., flows.REASON["promoted_out"]]
    np.testing.assert_allclose(promoted_in, promoted_out, rtol=1e-12)
    np.testing.assert_allclose(out["promotions"].sum(axis=(-1, -2)), promoted_out, rtol=1e-12)
    assert out["promotions"].sum() > 0
    np.testing.assert_allclose(out["staff_by_group"].sum(axis=(-1, -2)), out["headcount"], rtol=1e-9)
    # a group's staff change only by its appointments and its leavers (promotion keeps the group)
    by_group = out["staff_by_group"].sum(axis=-2)                                   # [R, M, P, L, Gr]
    change = np.diff(by_group, axis=1)
    np.testing.assert_allclose(change, out["joiners_by_group"][:, 1:] - out["leavers_by_group"][:, 1:],
                               atol=1e-6)
    # the top band has no promotions; the count by band matches the flows' sum
    assert not out["promotions"][..., -1, :].any()


def test_kernel_same_results_on_one_and_two_threads_and_by_chunks():
    plan = plan_of(BANDS, years=3)
    one = assert_same_on_one_and_two_threads(kernel_simulate, plan, range(6), SEED)
    apart = [kernel_simulate(plan, [r], seed=SEED) for r in (0, 5)]
    for name in flows.CELL_COUNT_NAMES:
        np.testing.assert_array_equal(one[name][0], apart[0][name][0])
        np.testing.assert_array_equal(one[name][5], apart[1][name][0])


# --- datasets and indicators ----------------------------------------------------------------------------------
def test_dataset_has_bands_groups_and_costs_by_band():
    ds = sim.expected(BANDS)
    assert list(ds.band.values) == ["band_5", "band_6", "band_7"] and list(ds.group.values) == ["a", "b"]
    assert "promoted_in" in ds.source.values and "promoted_out" in ds.reason.values
    pay = np.array([35000, 43000, 52000])
    staff = ds["staff_by_group"].sum("group").values                               # [time, profession, place, band]
    np.testing.assert_allclose(ds["cost_by_band"].values, staff * pay / 12.0, rtol=1e-12)
    plain = sim.expected(GROUPS)
    assert "band" in plain.dims and "promoted_in" not in plain.source.values    # no ladder: no promotion flows


def test_a_scenario_without_either_section_has_no_cell_variables():
    ds = sim.expected(ROOT / "configs" / "analytic" / "steady_state.yaml", years=1)
    assert not set(flows.CELL_COUNT_NAMES) & set(ds.data_vars)
    assert "band" not in ds.dims and "group" not in ds.dims and "promoted_in" not in ds.source.values


def test_representation_indicators_match_their_definitions():
    ds = sim.expected(BANDS)
    staff = ds["staff_by_group"].isel(profession=0, place=0)
    last = staff.isel(time=-1).values                                                # [band, group]
    ratio = representation.model_employer_ratio(ds, "b").isel(time=-1, place=0).values
    np.testing.assert_allclose(ratio, (last[:, 1] / last.sum(1)) / (last[:, 1].sum() / last.sum()))
    # group b is promoted at half the hazard: it is under-represented in the top band, over in the bottom
    assert ratio[0] > 1 > ratio[2]
    rel = representation.relative_likelihood_of_promotion(ds, "b", "a").isel(place=0).values
    promoted = ds["promotions"].isel(profession=0, place=0).sum("band").values
    eligible = staff.isel(band=[0, 1]).sum("band").values
    np.testing.assert_allclose(rel, (promoted[:, 1] / eligible[:, 1]) / (promoted[:, 0] / eligible[:, 0]))
    # half the hazard in each band; over both bands a little more, as more of group b waits in band 5 (the
    # faster step)
    assert np.all((rel > 0.5) & (rel < 0.6))
    pop = representation.population_ratio(ds, "a").isel(place=0).values
    np.testing.assert_allclose(pop, (staff.sel(group="a").sum("band") / staff.sum(("band", "group"))).values / 0.5)
    groups = sim.expected(GROUPS)
    appointed = representation.relative_likelihood_of_appointment(groups, "a", "b").isel(place=0).values
    np.testing.assert_allclose(appointed[1:], (0.5 / 0.6) / (0.5 / 0.4), rtol=1e-9)  # equal joiners, 60/40 residents
    with pytest.raises(ValueError, match="unknown group c"):
        representation.band_share(ds, "c")


def test_agents_trace_shows_band_changes(tmp_path):
    plan = plan_of(BANDS, years=1)
    path = tmp_path / "trace.csv"
    agents_simulate(plan, [0], seed=SEED, workers=1, trace=path)
    rows = [r for r in path.read_text().splitlines() if ",promotion," in r]
    assert rows and any("band_5,band_6" in r for r in rows)


# --- bad input ------------------------------------------------------------------------------------------------
def data(path=BANDS) -> dict:
    return yaml.safe_load(path.read_text())


def problems(d: dict) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(d)
    return info.value.problems


def _set(path: tuple, value):
    def change(d):
        node = d
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return change


BAD = {   # case: (change, field named, text in the message)
    "unknown group": (_set(("characteristics", "sex", "promotion", "c"), 0.5), "characteristics.sex.promotion.c",
                      "unknown group 'c'; allowed: a, b"),
    "unknown joiner source": (_set(("characteristics", "sex", "joiners"), {"abroad": {"a": 0.5, "b": 0.5}}),
                              "characteristics.sex.joiners.abroad", "unknown source 'abroad'"),
    "unknown band": (_set(("professions", "staff", "bands", "leave", "band_9"), 0.5),
                     "professions.staff.bands.leave.band_9", "unknown band 'band_9'"),
    "promotion from the top band": (_set(("professions", "staff", "bands", "promotion", "band_7"), 0.1),
                                    "professions.staff.bands.promotion.band_7", "top band"),
    "unknown entry source": (_set(("professions", "staff", "bands", "entry"), {"bank": {"band_5": 1.0}}),
                             "professions.staff.bands.entry.bank", "unknown source 'bank'"),
    "band shares": (_set(("professions", "staff", "bands", "staff"), {"band_5": 0.5, "band_6": 0.3, "band_7": 0.1}),
                    "professions.staff.bands", "staff: shares must add up to 1; they add up to 0.9"),
    "group shares": (_set(("characteristics", "sex", "staff"), {"a": 0.7, "b": 0.7}), "characteristics.sex",
                     "staff: shares must add up to 1; they add up to 1.4"),
    "a group's share missing": (_set(("characteristics", "sex", "staff"), {"a": 1.0}), "characteristics.sex.staff",
                                "missing: b"),
    "negative multiplier": (_set(("characteristics", "sex", "leave"), {"a": -0.5}), "characteristics.sex.leave.a",
                            "from 0 to 10"),
    "unknown profession": (_set(("characteristics", "sex", "by_profession"), {"nurse": {"leave": {"a": 1.0}}}),
                           "characteristics.sex.by_profession.nurse", "unknown profession 'nurse'"),
    "unknown place": (_set(("characteristics", "sex", "population_by_place"), {"Nowhere": {"a": 0.5, "b": 0.5}}),
                      "characteristics.sex.population_by_place.Nowhere", "unknown place"),
    "too many groups": (_set(("characteristics", "sex", "groups"), [f"g{i}" for i in range(25)]),
                        "characteristics.sex.groups", "at most 24"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_characteristics_and_bands_are_refused_naming_the_field(case):
    change, field, needle = BAD[case]
    d = data()
    change(d)
    found = problems(d)
    assert any(p == field and needle in m for p, m in found), found


@settings(max_examples=40, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(0, 1))
def test_group_shares_must_add_up_to_1(a, b):
    d = data()
    d["characteristics"]["sex"]["population"] = {"a": a, "b": b}
    if abs(a + b - 1) <= 1e-6:
        sim.load_scenario(d)
    else:
        assert ("characteristics.sex", f"population: shares must add up to 1; they add up to {a + b:.6g}") \
            in problems(d)


@settings(max_examples=40, deadline=None)
@given(x=st.one_of(st.floats(max_value=-1e-12, allow_nan=False, allow_infinity=False),
                   st.floats(min_value=10 + 1e-9, allow_infinity=False),
                   st.sampled_from([float("nan"), float("inf"), "high", True, None])))
def test_any_negative_or_non_numeric_multiplier_is_refused(x):
    for key in ("leave", "promotion"):
        d = data()
        d["characteristics"]["sex"][key] = {"b": x}
        assert [p for p, _ in problems(d)] == [f"characteristics.sex.{key}.b"]
    d = data()
    d["professions"]["staff"]["bands"]["leave"] = {"band_6": x}
    assert [p for p, _ in problems(d)] == ["professions.staff.bands.leave.band_6"]


NAMES = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=10)


@settings(max_examples=30, deadline=None)
@given(name=NAMES)
def test_any_unknown_group_or_band_is_refused_with_the_allowed_names(name):
    if name in ("a", "b", "band_5", "band_6", "band_7"):
        return
    d = data()
    d["characteristics"]["sex"]["leave"] = {name: 1.0}
    d["professions"]["staff"]["bands"]["pay"] = {name: 1.0}
    found = dict(problems(d))
    assert "allowed: a, b" in found[f"characteristics.sex.leave.{name}"]
    assert "allowed: band_5, band_6, band_7" in found[f"professions.staff.bands.pay.{name}"]


def test_bad_characteristics_exit_2_naming_the_field(tmp_path):
    """In a real process: exit 2, one line per problem naming its field, no traceback."""
    d = data()
    d["characteristics"]["sex"]["staff"] = {"a": 0.5, "c": 0.5}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "WFSIM_DEBUG"}
    r = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(path)], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=180)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "characteristics.sex.staff.c: unknown group 'c'; allowed: a, b" in r.stderr
    assert "characteristics.sex.staff: needs a share for every group; missing: b" in r.stderr


# --- the default ICS ------------------------------------------------------------------------------------------
def test_default_ics_carries_the_overlays_cited_figures():
    """sim/data/baseline_ics.yaml and configs/variants/ics_groups_bands.yaml give the same characteristics and
    nurse bands (the overlay adds them to other ICS scenarios; the benchmarks time with and without)."""
    default = yaml.safe_load((ROOT / "sim" / "data" / "baseline_ics.yaml").read_text(encoding="utf-8"))
    overlay = yaml.safe_load((ROOT / "configs" / "variants" / "ics_groups_bands.yaml").read_text(encoding="utf-8"))
    assert default["characteristics"] == overlay["characteristics"]
    for name, prof in overlay["professions"].items():
        assert default["professions"][name]["bands"] == prof["bands"]
    plan = compile_plan(sim.load_scenario(ROOT / "sim" / "data" / "baseline_ics.yaml"))
    assert plan.groups == ["white", "bme"] and plan.bands == ["band_5", "band_6", "band_7_plus", "all"]


# --- joiners' shares by place ---------------------------------------------------------------------------------
def _two_places(**joiners_by_place):
    d = yaml.safe_load(GROUPS.read_text())
    d["geography"]["places"] = [{"name": "Only", "population": 300000}, {"name": "Other", "population": 200000}]
    d["characteristics"]["ethnicity"]["joiners_by_place"] = joiners_by_place
    return d


def test_joiners_shares_may_differ_by_place():
    """groups.yaml over two places, Other's joiners 20% a / 80% b (Only keeps 50/50): the compiled shares, the
    mean field's appointments by group (exactly the hires × the place's shares) and the kernel's."""
    d = _two_places(Other={"default": {"a": 0.2, "b": 0.8}})
    plan = compile_plan(sim.load_scenario(d))
    dom = flows.SOURCE["domestic"]
    np.testing.assert_allclose(plan.entry_group[0, 0, :, dom], [[0.5, 0.5], [0.2, 0.8]])
    want = project(plan)
    hires = want["joiners"][:, 0, :, dom]                                         # [M, L]
    np.testing.assert_allclose(want["joiners_by_group"][:, 0], hires[..., None] * np.array([[0.5, 0.5], [0.2, 0.8]]),
                               rtol=1e-9)
    out = kernel_simulate(plan, range(20), seed=SEED)
    got = out["joiners_by_group"][:, :, 0].sum(axis=(0, 1))                       # [L, group]
    assert abs(got[1, 1] / got[1].sum() - 0.8) < 0.02 and abs(got[0, 1] / got[0].sum() - 0.5) < 0.02
    # without the section the shares are one row for every place, as before
    assert compile_plan(sim.load_scenario(_two_places())).entry_group.shape[2] == 1


@pytest.mark.parametrize("by_place,field,text", [
    ({"Elsewhere": {"default": {"a": 0.5, "b": 0.5}}}, "characteristics.ethnicity.joiners_by_place", "Elsewhere"),
    ({"Other": {"default": {"a": 0.5, "c": 0.5}}}, "characteristics.ethnicity.joiners_by_place.Other.default", "c"),
    ({"Other": {"default": {"a": 0.5, "b": 0.6}}}, "characteristics.ethnicity", "add up to 1"),
    ({"Other": {"newly_qualified": {"a": 0.5, "b": 0.5}}}, "characteristics.ethnicity.joiners_by_place.Other",
     "newly_qualified"),
])
def test_bad_joiners_by_place_names_the_field(by_place, field, text):
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(_two_places(**by_place))
    hits = [msg for f, msg in err.value.problems if f.startswith(field)]
    assert hits and any(text in msg for msg in hits), err.value.problems
