"""The one declaration of flows (sim.model.flows): its tables hold together, every engine returns the
declared raw counts, and every engine runs the month in the declared order (by construction, and by
behaviour on small configs where the order decides the numbers)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import sim
from sim.engines.agents import simulate as agents_simulate
from sim.engines.agents.model import PHASES, STEPS_OF_PHASE
from sim.engines.kernel import simulate as kernel_simulate
from sim.model import flows
from sim.model.compile import compile_plan
from sim.model.expected import MeanField, project

ENGINES = {
    "kernel": lambda plan: kernel_simulate(plan, range(3), seed=11),
    "agents": lambda plan: agents_simulate(plan, range(2), seed=11, workers=1),
    "expected": lambda plan: {k: v[None] for k, v in project(plan).items()},
}


# --- the tables ------------------------------------------------------------------------------------------
def test_names_are_unique_and_pairs_are_mutual():
    assert len(set(flows.SOURCES)) == len(flows.SOURCES)
    assert len(set(flows.REASONS)) == len(flows.REASONS)
    for f in flows.JOINERS:
        if f.pair:
            partner = next(r for r in flows.LEAVERS if r.name == f.pair)
            assert partner.pair == f.name
    for f in flows.LEAVERS:
        if f.pair:
            assert next(s for s in flows.JOINERS if s.name == f.pair).pair == f.name


def test_recruited_sources_are_the_recruitment_fields_of_a_profession():
    from sim.scenario.schema import Recruitment

    assert set(flows.RECRUIT_SOURCES) <= set(Recruitment.model_fields)
    assert [flows.SOURCES[i] for i in flows.RECRUITED] == list(flows.RECRUIT_SOURCES)


def test_count_shapes_follow_the_declared_dimensions():
    shapes = flows.count_shapes(months=5, professions=2, places=3, programmes=4)
    assert shapes["joiners"] == (5, 2, 3, len(flows.SOURCES))
    assert shapes["leavers"] == (5, 2, 3, len(flows.REASONS))
    assert shapes["trainees"] == (5, 4, 3)
    assert set(shapes) == {c.name for c in flows.COUNTS}


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_returns_exactly_the_declared_counts(engine):
    plan = compile_plan(sim.load_scenario("configs/analytic/transfers.yaml").model_copy(update={"years": 1}))
    out = ENGINES[engine](plan)
    shapes = flows.count_shapes(*plan.shape, len(plan.programmes))
    assert set(out) == set(shapes)
    for name, shape in shapes.items():
        assert out[name].shape[1:] == shape, name


def test_results_dataset_labels_sources_and_reasons_from_the_table():
    """A dataset shows the table's sources, reasons and counts in its order; the optional ones (mobility, sector
    moves, retire-and-return, promotion and the counts by cell) only where the scenario has them (else it is
    what it was before they existed)."""
    optional = {"mobility": (flows.MOBILITY_SOURCES, flows.MOBILITY_REASONS, flows.MOBILITY_COUNTS),
                "sectors": (flows.SECTOR_SOURCES + flows.RETURN_SOURCES, flows.SECTOR_REASONS,
                            flows.SECTOR_COUNTS + flows.RETURN_COUNTS),
                "bands": (flows.BAND_SOURCES, flows.BAND_REASONS, flows.CELL_COUNT_NAMES),
                "decay": ((), (), ())}
    every = [set().union(*(o[i] for o in optional.values())) for i in range(3)]
    for name, (sources, reasons, counts) in optional.items():
        ds = sim.expected(f"configs/analytic/{name}.yaml", years=1)
        assert tuple(ds.source.values) == tuple(s for s in flows.SOURCES if s in sources or s not in every[0])
        assert tuple(ds.reason.values) == tuple(r for r in flows.REASONS if r in reasons or r not in every[1])
        for c in flows.COUNTS:
            if c.name in every[2] and c.name not in counts:
                assert c.name not in ds.data_vars
                continue
            assert ds[c.name].dims[-len(c.dims):] == c.dims
            assert ds[c.name].attrs["units"] == c.units


# --- the order of the month, by construction ------------------------------------------------------------
def test_the_agents_engine_phases_run_the_steps_in_the_declared_order():
    assert set(STEPS_OF_PHASE) == set(PHASES)
    done = [step for phase in sorted(PHASES, key=PHASES.get) for step in STEPS_OF_PHASE[phase]]
    assert tuple(done) == flows.STEPS


def test_the_mean_field_has_one_step_per_declared_step():
    for step in flows.STEPS:
        assert callable(getattr(MeanField, step)), step


# --- the order of the month, by behaviour ----------------------------------------------------------------
def _scenario(**professions):
    return {
        "name": "order", "start": "2026-09", "years": 1, "seed": 1, "replicates": 2,
        "geography": {"region": "R", "ics": "I", "places": [{"name": "Only", "population": 1_000_000}]},
        "professions": professions,
        "finance": {"hire_only_into_vacancies": False},
    }


def _run_all(data):
    plan = compile_plan(sim.load_scenario(data))
    return {engine: run(plan) for engine, run in ENGINES.items()}


def test_retirement_comes_before_leaving_in_the_same_month():
    """Everyone is past retirement age and would very likely leave this month too: all retire."""
    data = _scenario(staff={"headcount": 400, "age": {"mean": 66, "sd": 0.5, "min": 65, "max": 67},
                            "leave_rate": 0.999, "retirement_age": {"mean": 60, "sd": 0.2}})
    for engine, out in _run_all(data).items():
        leavers = out["leavers"][:, 0, 0, 0]
        np.testing.assert_allclose(leavers[:, flows.REASON["retirement"]], 400, err_msg=engine)
        np.testing.assert_allclose(leavers[:, flows.REASON["leaver"]], 0, err_msg=engine)


def test_people_who_arrive_in_a_month_have_no_event_in_it():
    """Hires and in-service starters arrive after the month's leaving and attrition steps."""
    data = _scenario(staff={"headcount": 0, "age": {"mean": 30, "sd": 2, "min": 25, "max": 35},
                            "leave_rate": 0.999, "retirement_age": {"mean": 79, "sd": 0.2},
                            "recruitment": {"domestic": 1200}})
    data["programmes"] = {"residency": {"produces": "staff", "years": 2, "intake": 600, "intake_month": 9,
                                        "attrition": 0.99, "local_employment": 1.0, "in_service": True,
                                        "trainee_profession": "staff", "pipeline_at_start": "empty"}}
    for engine, out in _run_all(data).items():
        first = out["leavers"][:, 0, 0, 0]                       # September: hires and starters arrived
        assert (out["joiners"][:, 0, 0, 0, flows.SOURCE["domestic"]] > 0).all(), engine
        assert (out["joiners"][:, 0, 0, 0, flows.SOURCE["training_start"]] == 600).all(), engine
        np.testing.assert_allclose(first, 0, err_msg=engine)
        assert (out["leavers"][:, 1, 0, 0, flows.REASON["leaver"]] > 0).all(), engine   # October: they can


def test_completers_take_vacant_posts_before_experienced_hires():
    """A September with 100 vacant posts, ~750 completers wanting one and 100 hires due: the completers
    fill every post, the hires find none."""
    data = _scenario(staff={"headcount": 900, "vacancy_rate": 0.1, "age": {"mean": 40, "sd": 2, "min": 35, "max": 45},
                            "leave_rate": 0.0, "retirement_age": {"mean": 79, "sd": 0.2},
                            "recruitment": {"domestic": 1200}})
    data["programmes"] = {"degree": {"produces": "staff", "years": 3, "intake": 1000, "intake_month": 9,
                                     "attrition": 0.25, "local_employment": 1.0}}
    data["finance"] = {"hire_only_into_vacancies": True}
    for engine, out in _run_all(data).items():
        joined = out["joiners"][:, 0, 0, 0]
        assert (out["completions"][:, 0, 0, 0] > 500).all(), engine
        np.testing.assert_allclose(joined[:, flows.SOURCE["newly_qualified"]], 100, err_msg=engine)
        np.testing.assert_allclose(joined[:, list(flows.RECRUITED)].sum(-1), 0, err_msg=engine)
        np.testing.assert_allclose(out["unplaced"][:, 0, 0, 0], out["completions"][:, 0, 0, 0] - 100, err_msg=engine)


def test_a_cohort_completing_in_a_rotation_month_does_not_rotate():
    """Rotation (step 7) comes after completion (step 5) and before the intake (step 9): in a September
    that is both, the finishing cohort has left and the new one has not started, so nobody rotates."""
    data = _scenario(staff={"headcount": 0, "age": {"mean": 30, "sd": 2, "min": 25, "max": 35},
                            "leave_rate": 0.0, "retirement_age": {"mean": 79, "sd": 0.2}})
    data["geography"]["places"] = [{"name": "A", "population": 500_000}, {"name": "B", "population": 500_000}]
    data["programmes"] = {"residency": {"produces": "staff", "years": 1, "intake": 400, "intake_month": 9,
                                        "attrition": 0.0, "local_employment": 1.0, "in_service": True,
                                        "trainee_profession": "staff", "pipeline_at_start": "steady",
                                        "rotation": {"months": [9], "places": {"A": 0.5, "B": 0.5}}}}
    for engine, out in _run_all(copy.deepcopy(data)).items():
        sept = out["leavers"][:, 0, 0, :, flows.REASON["rotation_out"]]
        assert (out["completions"][:, 0, 0].sum(-1) == 400).all(), engine
        np.testing.assert_allclose(sept, 0, err_msg=engine)     # nor does the new cohort: it starts at step 9


@pytest.mark.parametrize("engine", ENGINES)
def test_paired_flows_conserve_people_within_the_system(engine):
    """A move is a leaver on one side and a joiner on the other (``Flow.pair``): every month, all professions
    and places together, each source's joiners equal its paired reason's leavers."""
    pairs = [(f.name, f.pair) for f in flows.JOINERS if f.pair]
    assert {s for s, _ in pairs} == {"rotation_in", "transfer_in", "moved_in", "sector_in", "promoted_in"}
    seen = dict.fromkeys([s for s, _ in pairs], 0.0)
    for config in ("transfers", "mobility", "sectors", "bands"):
        data = sim.load_scenario(f"configs/analytic/{config}.yaml").model_copy(update={"years": 2})
        plan = compile_plan(data)
        out = ENGINES[engine](plan)
        for source, reason in pairs:
            joined = out["joiners"][..., flows.SOURCE[source]].sum(axis=(-1, -2))
            left = out["leavers"][..., flows.REASON[reason]].sum(axis=(-1, -2))
            seen[source] += joined.sum()
            np.testing.assert_allclose(joined, left, rtol=1e-12, err_msg=f"{engine}: {source} vs {reason}")
    assert all(v > 0 for v in seen.values()), (engine, seen)
