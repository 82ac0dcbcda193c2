"""The agents engine (Mesa agents on a SimPy clock): cross-validated against the kernel, conservation,
reproducibility whatever the number of worker processes, funded posts, and the career trace."""
from __future__ import annotations

import copy
import csv
import functools
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

import sim
from helpers import assert_mean_within
from sim.cli import app
from sim.engines import simulator
from sim.engines.agents import Returner, Role, StaffMember, Trainee, WorkforceModel
from sim.engines.agents import simulate as agents_simulate
from sim.engines.kernel import simulate as kernel_simulate
from sim.model.compile import compile_plan
from sim.model.expected import project
from sim.model.flows import REASONS, SOURCES
from sim.results.dataset import aggregate
from sim.scenario import scenario_dict

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
BASELINE = ROOT / "sim" / "data" / "baseline_ics.yaml"
VARIABLES = ("headcount", "joiners", "leavers", "trainees", "completions", "unplaced")

AGENT_REPS, KERNEL_REPS = 100, 2000
AGENT_SEED, KERNEL_SEED = 11, 12            # different seeds: the two samples are independent


# --------------------------------------------------------------------------------------------------
# scenarios: the analytic configs and the default ICS, made small
def _int_keys(obj):
    """scenario_dict writes year tables with string keys; the loader wants whole numbers back."""
    if isinstance(obj, dict):
        fixed = {k: _int_keys(v) for k, v in obj.items()}
        if fixed and all(isinstance(k, str) and k.isdigit() for k in fixed):
            return {int(k): v for k, v in fixed.items()}
        return fixed
    if isinstance(obj, list):
        return [_int_keys(v) for v in obj]
    return obj


def _scale(v, f: float, whole: bool = False):
    if isinstance(v, dict):
        return {k: _scale(x, f, whole) for k, x in v.items()}
    return (max(1, round(v * f)) if v else 0) if whole else v * f


def small_dict(path: Path, factor: float) -> dict:
    """The scenario with headcounts, recruitment and intakes ×factor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d = _int_keys(copy.deepcopy(scenario_dict(sim.load_scenario(path))))
    for prof in d["professions"].values():
        prof["headcount"] = _scale(prof["headcount"], factor, whole=True)
        rec = prof.get("recruitment") or {}
        for src in ("international", "return_to_practice", "domestic"):
            if rec.get(src) is not None:
                rec[src] = _scale(rec[src], factor)
    for prog in (d.get("programmes") or {}).values():
        prog["intake"] = _scale(prog["intake"], factor)
    return d


def small(path: Path, factor: float, years: int):
    """The scaled scenario over its first ``years`` years (as ``sim.run(years=…)`` shortens a horizon)."""
    return sim.load_scenario(small_dict(path, factor)).model_copy(update={"years": years})


CASES = {   # name: (scenario file, scale, years)
    "analytic/decay": (CONFIGS / "analytic" / "decay.yaml", 0.1, 3),
    "analytic/steady_state": (CONFIGS / "analytic" / "steady_state.yaml", 0.3, 4),
    "analytic/pipeline": (CONFIGS / "analytic" / "pipeline.yaml", 0.3, 5),
    "analytic/demand_growth": (CONFIGS / "analytic" / "demand_growth.yaml", 0.2, 3),
    "analytic/transfers": (CONFIGS / "analytic" / "transfers.yaml", 0.15, 3),
    "default ICS ×0.05": (BASELINE, 0.05, 3),
}


@functools.lru_cache(maxsize=None)
def plan_of(case: str):
    path, factor, years = CASES[case]
    return compile_plan(small(path, factor, years))


@functools.lru_cache(maxsize=None)
def runs(case: str):
    """(plan, agents' raw counts, kernel's raw counts) on the same plan, independent seeds."""
    plan = plan_of(case)
    return (plan, agents_simulate(plan, range(AGENT_REPS), AGENT_SEED),
            kernel_simulate(plan, range(KERNEL_REPS), KERNEL_SEED))


def assert_engines_agree(a: np.ndarray, k: np.ndarray, n_se: float = 4.0, what: str = "") -> None:
    """Replicate means of two independent samples (axis 0) within n_se combined standard errors.

    The standard error of the difference uses the pooled variance (the two engines sample the same
    distribution under test), so a rare event one sample happened never to see still gets its spread
    from the other. The threshold grows with the number of cells that vary (Bonferroni, 1% family-wise):
    with providers as locations the default ICS compares ~1,000 cells, where 4 SE alone fails a correct
    engine about one run in five.
    """
    a, k = np.asarray(a, float), np.asarray(k, float)
    na, nk = len(a), len(k)
    ma, mk = a.mean(0), k.mean(0)
    pooled = ((na - 1) * a.var(0, ddof=1) + (nk - 1) * k.var(0, ddof=1)) / (na + nk - 2)
    cells = max(int((pooled > 0).sum()), 1)
    n_se = max(n_se, float(stats.norm.isf(0.005 / cells)))
    se = np.sqrt(pooled * (1 / na + 1 / nk))
    # a cell neither sample varied in: its count's standard error is at least Poisson's
    se = np.where(se == 0, np.sqrt(np.maximum(np.abs(ma), np.abs(mk)) / min(na, nk)), se)
    z = np.abs(ma - mk) / np.where(se > 0, se, np.inf)
    bad = np.abs(ma - mk) > n_se * se + 1e-9
    if bad.any():
        idx = [tuple(i) for i in np.argwhere(bad)[:5]]
        detail = "; ".join(f"{i}: agents {ma[i]:.4g} vs kernel {mk[i]:.4g} (se {se[i]:.3g})" for i in idx)
        raise AssertionError(f"{what}: {bad.sum()} of {bad.size} cells beyond {n_se} SE (max z {z.max():.2f}): "
                             f"{detail}")


def _annual(raw: dict) -> dict:
    """Stocks at each plan year end, flows summed over each plan year (replicate axis first)."""
    return aggregate({k: raw[k] for k in VARIABLES}, "year", time_axis=1)


# --------------------------------------------------------------------------------------------------
# cross-validation against the kernel
@pytest.mark.parametrize("case", list(CASES))
def test_means_agree_with_kernel_at_every_plan_year(case):
    plan, a, k = runs(case)
    ya, yk = _annual(a), _annual(k)
    for var in VARIABLES:
        assert_engines_agree(ya[var], yk[var], what=f"{case}: {var}")
    assert a["headcount"].sum() + a["trainees"].sum() > 0


@pytest.mark.parametrize("case", list(CASES))
def test_end_of_horizon_headcount_distribution_matches_kernel(case):
    plan, a, k = runs(case)
    end_a, end_k = a["headcount"][:, -1].sum(-1), k["headcount"][:, -1].sum(-1)     # [R, P]
    for p, name in enumerate(plan.professions):
        if end_a[:, p].max() == end_a[:, p].min() == end_k[:, p].max() == end_k[:, p].min():
            continue                                                               # the same constant
        result = stats.ks_2samp(end_a[:, p], end_k[:, p])
        assert result.pvalue > 1e-3, f"{case}: {name}: end headcount distributions differ (p={result.pvalue:.2g})"


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("analytic/")])
def test_means_match_the_mean_field_projection(case):
    """Where hiring caps do not bind (the analytic configs), the mean field is the exact expectation."""
    plan, a, _ = runs(case)
    expected = aggregate({k: v for k, v in project(plan).items() if k in VARIABLES}, "year", time_axis=0)
    ya = _annual(a)
    for var in VARIABLES:
        assert_mean_within(ya[var], expected[var], what=f"{case}: {var}")


# --------------------------------------------------------------------------------------------------
# invariants
@pytest.mark.parametrize("case", ["default ICS ×0.05", "analytic/transfers", "analytic/pipeline"])
def test_stock_conservation_in_every_replicate(case):
    plan, a, _ = runs(case)
    hc = a["headcount"].astype(np.int64)
    net = a["joiners"].sum(-1).astype(np.int64) - a["leavers"].sum(-1)
    assert np.all(hc[:, 1:] - hc[:, :-1] == net[:, 1:])
    init = plan.init_headcount.astype(np.int64).copy()
    for g, l, _, n in plan.init_cohorts:
        if plan.prog_trainee_prof[g] >= 0:
            init[plan.prog_trainee_prof[g], l] += n
    assert np.all(hc[:, 0] - net[:, 0] == init[None])
    rot_in = a["joiners"][..., SOURCES.index("rotation_in")].sum(-1)
    rot_out = a["leavers"][..., REASONS.index("rotation_out")].sum(-1)
    np.testing.assert_array_equal(rot_in, rot_out)


def test_same_seed_same_results_with_one_and_two_workers():
    plan = plan_of("default ICS ×0.05")
    one = agents_simulate(plan, range(4), 5, workers=1)
    two = agents_simulate(plan, range(4), 5, workers=2)
    alone = agents_simulate(plan, [2], 5)
    other = agents_simulate(plan, [2], 6)
    for var in VARIABLES:
        np.testing.assert_array_equal(one[var], two[var])
        np.testing.assert_array_equal(one[var][2], alone[var][0])
    assert not np.array_equal(alone["headcount"], other["headcount"])


def test_simulator_registry_and_sim_run_dataset():
    assert simulator("agents") is agents_simulate
    scenario = small(CONFIGS / "examples" / "spec_example.yaml", 0.2, 1)
    ds = sim.run(scenario, replicates=2, engine="agents", seed=3)
    ref = sim.run(scenario, replicates=2, engine="kernel", seed=3)
    assert ds.attrs["engine"] == "agents"
    assert set(ds.data_vars) == set(ref.data_vars)
    assert {k: v.dims for k, v in ds.data_vars.items()} == {k: v.dims for k, v in ref.data_vars.items()}


def test_funded_posts_follow_the_establishment_and_staff_hold_at_most_one():
    plan = plan_of("default ICS ×0.05")
    model = WorkforceModel(plan, seed=1, replicate=0)
    model.run()
    assert set(model.agent_types) == {StaffMember, Returner, Trainee, Role}     # returners: retire and return
    posts = model.posts()
    staff = np.zeros(plan.shape[1:], np.int64)
    for s in [*model.agents_by_type[StaffMember], *model.agents_by_type[Returner]]:
        staff[s.profession, s.place] += 1
        assert s.role is None or s.role.holder == s.person
    roles = posts["filled"] + posts["advertised"] + posts["vacant"]
    np.testing.assert_array_equal(roles, model.establishment[-1])
    np.testing.assert_array_equal(posts["filled"], np.minimum(roles, staff))
    np.testing.assert_array_equal(posts["over"], np.maximum(staff - roles, 0))


def test_hiring_only_into_vacancies_caps_staff_and_leaves_graduates_unplaced():
    """No growth in posts and plenty of graduates: completers find the posts full, in both engines alike."""
    d = small_dict(CONFIGS / "analytic" / "pipeline.yaml", 0.1)
    d["years"] = 5
    d["professions"]["graduate"].update(headcount=50, vacancy_rate=0.2, leave_rate=0.1)
    d["finance"]["hire_only_into_vacancies"] = True
    plan = compile_plan(sim.load_scenario(d))
    a = agents_simulate(plan, range(200), AGENT_SEED)
    k = kernel_simulate(plan, range(KERNEL_REPS), KERNEL_SEED)
    posts = np.floor(plan.funded_posts / plan.fte_per_head + 1e-9)
    assert np.all(a["headcount"] <= posts[None])
    assert a["unplaced"].sum() > 0 and a["joiners"][..., SOURCES.index("newly_qualified")].sum() > 0
    ya, yk = _annual(a), _annual(k)
    for var in VARIABLES:
        assert_engines_agree(ya[var], yk[var], what=f"capped pipeline: {var}")


# --------------------------------------------------------------------------------------------------
# the trace
def _careers(path: Path) -> dict[str, list[dict]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["agent_id"], []).append(r)
    return out


def test_trace_holds_a_nursing_students_career_from_intake_to_first_post(tmp_path):
    plan = compile_plan(small(BASELINE, 0.05, 4))
    path = tmp_path / "trace.csv"
    agents_simulate(plan, range(2), 7, trace=path)
    careers = _careers(path)
    header = next(iter(careers.values()))[0].keys()
    assert {"agent_id", "agent_type", "time", "date", "event", "event_type", "pathway", "from", "to", "profession",
            "place"} <= set(header)
    students = [c for c in careers.values() if c[0]["event"] == "start" and c[0]["programme"] == "nursing_degree"
                and int(c[0]["time"]) >= 0 and any(r["event"] == "hired" for r in c)]
    assert students, "no nursing student started and qualified into a post within the horizon"
    career = students[0]
    events = [r["event"] for r in career]
    assert events[:3] == ["start", "completion", "hired"]
    start, done, hired = career[:3]
    assert int(done["time"]) - int(start["time"]) == 36 and done["time"] == hired["time"]
    assert hired["from"] == "newly_qualified" and hired["profession"] == "registered_nurse"
    assert hired["agent_type"] == "StaffMember" and start["agent_type"] == "Trainee"
    assert start["date"] == f"{np.datetime64(plan.start, 'M') + int(start['time'])}-01"
    kinds = {r["event"] for c in careers.values() for r in c}
    assert {"in_post", "start", "completion", "hired", "leaver", "retirement", "rotation", "dropout"} <= kinds


def _run_traced(tmp_path, name: str):
    """``wfsim run --engine agents --trace`` on a small baseline for 4 years; the runner and trace path."""
    runner = CliRunner()
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(small_dict(BASELINE, 0.03), sort_keys=False), encoding="utf-8")
    trace = tmp_path / name
    r = runner.invoke(app, ["run", str(scenario), "--engine", "agents", "-n", "1", "--years", "4",
                            "--out", str(tmp_path / "x.nc"), "--trace", str(trace), "-q"])
    assert r.exit_code == 0, r.output
    return runner, trace


def test_cli_run_with_trace_and_print_a_career(tmp_path):
    runner, trace = _run_traced(tmp_path, "t.csv")
    student = next(c for c in _careers(trace).values() if c[0]["programme"] == "nursing_degree"
                   and any(x["event"] == "hired" for x in c))
    r = runner.invoke(app, ["trace", str(trace), "--agent", student[0]["agent_id"]])
    assert r.exit_code == 0, r.output
    assert "nursing_degree" in r.stdout and "newly_qualified" in r.stdout and "registered_nurse" in r.stdout
    r = runner.invoke(app, ["trace", str(trace), "--agent", "987654321"])
    assert r.exit_code == 2 and "no agent 987654321" in r.stderr
    r = runner.invoke(app, ["trace", str(tmp_path / "missing.csv"), "--agent", "1"])
    assert r.exit_code == 2 and "not found" in r.stderr


def test_cli_trace_only_with_the_agents_engine(tmp_path):
    r = CliRunner().invoke(app, ["run", str(CONFIGS / "examples" / "spec_example.yaml"), "-n", "2", "--years", "1",
                                 "--out", str(tmp_path / "x.nc"), "--trace", str(tmp_path / "t.csv"), "-q"])
    assert r.exit_code == 2 and "--trace" in r.stderr and "--engine agents" in r.stderr
    assert not (tmp_path / "x.nc").exists()


# --------------------------------------------------------------------------------------------------
# recruitment capacity: hires queue for the recruiting team's places (a SimPy Container)
EXPERIENCED = slice(1, 4)           # international, return_to_practice, domestic in SOURCES


def capacity_dict() -> dict:
    """configs/analytic/recruitment_capacity.yaml made to queue at random: nurses hire only into vacancies
    (which fill within the horizon, so queued offers lapse) with 5 places a month for 8 hires a month;
    doctors' capacity is at their demand in the first year (the queue comes and goes) and 5 a month after."""
    d = yaml.safe_load((CONFIGS / "analytic" / "recruitment_capacity.yaml").read_text(encoding="utf-8"))
    d["years"] = 2
    nurse, doctor = d["professions"]["nurse"], d["professions"]["doctor"]
    nurse.update(headcount=200, vacancy_rate=0.1)
    nurse["recruitment"].update(international=48, return_to_practice=12, domestic=36, capacity_per_month=5)
    doctor.update(headcount=100, vacancy_rate=0.5)
    doctor["recruitment"].update(international=24, domestic=24, capacity_per_month={2026: 4, 2027: 5})
    d["finance"]["hire_only_into_vacancies"] = True
    return d


@functools.lru_cache(maxsize=None)
def capacity_runs():
    plan = compile_plan(sim.load_scenario(capacity_dict()))
    return plan, agents_simulate(plan, range(AGENT_REPS), AGENT_SEED), kernel_simulate(plan, range(KERNEL_REPS),
                                                                                        KERNEL_SEED)


def test_recruitment_capacity_queues_agree_with_kernel():
    plan, a, k = capacity_runs()
    for var in VARIABLES:
        assert_engines_agree(a[var], k[var], what=f"recruitment capacity, monthly: {var}")
    ya, yk = _annual(a), _annual(k)
    for var in VARIABLES:
        assert_engines_agree(ya[var], yk[var], what=f"recruitment capacity: {var}")
    for p, name in enumerate(plan.professions):
        result = stats.ks_2samp(a["headcount"][:, -1, p].sum(-1), k["headcount"][:, -1, p].sum(-1))
        assert result.pvalue > 1e-3, f"{name}: end headcount distributions differ (p={result.pvalue:.2g})"


def test_recruitment_capacity_is_never_exceeded_and_staff_stay_within_posts():
    plan, a, k = capacity_runs()
    np.testing.assert_array_equal(plan.recruit_capacity[:13, 0], 5)
    np.testing.assert_array_equal(plan.recruit_capacity[12:, 1], 5)
    posts = np.floor(plan.funded_posts / plan.fte_per_head + 1e-9)
    for raw in (a, k):
        starts = raw["joiners"][..., EXPERIENCED].sum(axis=(-1, -2))                 # [R, M, P]
        assert np.all(starts <= plan.recruit_capacity[None])
        assert np.all(raw["headcount"] <= posts[None])
        assert (starts == plan.recruit_capacity[None]).mean() > 0.3                 # it binds, often


def test_recruitment_capacity_same_seed_same_results_with_one_and_two_workers():
    plan = capacity_runs()[0]
    one = agents_simulate(plan, range(4), 5, workers=1)
    two = agents_simulate(plan, range(4), 5, workers=2)
    for var in VARIABLES:
        np.testing.assert_array_equal(one[var], two[var])


def test_binding_recruitment_capacity_in_the_agents_engine():
    """The analytic config: exactly the capacity starts every month, the rest wait in the Container's
    queue as SimPy processes; an ample capacity gives bit-identical results to none."""
    scenario = sim.load_scenario(CONFIGS / "analytic" / "recruitment_capacity.yaml").model_copy(update={"years": 2})
    plan = compile_plan(scenario)
    nurse, doctor = plan.professions.index("nurse"), plan.professions.index("doctor")
    model = WorkforceModel(plan, seed=3, replicate=0)
    out = model.run()
    np.testing.assert_array_equal(out["joiners"][:, nurse, :, EXPERIENCED].sum(axis=(-1, -2)), 30)
    slots = model.hiring_slots[nurse]
    assert slots.level == 0 and len(slots.get_queue) > 24 * (100 - 30) * 0.8    # hires still waiting
    model.close()
    free = copy.deepcopy(plan)
    free.recruit_capacity[:, doctor] = np.inf
    assert np.isfinite(plan.recruit_capacity[:, doctor]).all()
    a, b = agents_simulate(plan, range(3), 4), agents_simulate(free, range(3), 4)
    for var in ("headcount", "joiners", "leavers"):
        np.testing.assert_array_equal(a[var][:, :, doctor], b[var][:, :, doctor])


# --------------------------------------------------------------------------------------------------
# the trace as Parquet
def test_trace_as_parquet_holds_the_same_rows_as_csv(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.engines.agents import run_replicate
    from sim.engines.agents.trace import COLUMNS, career, read_trace, write_trace

    plan = compile_plan(small(BASELINE, 0.03, 4))
    _, events = run_replicate(plan, 0, 7, trace=True)
    csv_path, pq_path = write_trace(tmp_path / "t.csv", plan, events), write_trace(tmp_path / "t.parquet", plan, events)
    rows_csv, rows_pq = read_trace(csv_path), read_trace(pq_path)
    assert len(rows_csv) == len(events) > 100
    assert rows_pq == rows_csv                                      # identical rows, as text
    schema = pq.read_schema(pq_path)
    assert schema.names == list(COLUMNS)
    assert schema.field("agent_id").type == pa.int64() and schema.field("time").type == pa.int32()
    assert schema.field("date").type == pa.date32() and schema.field("age").type == pa.int16()
    assert schema.field("event").type == pa.string()
    assert schema.metadata[b"scenario_name"] == plan.scenario_name.encode()
    # one career, round trip: a nursing student from intake to a post
    student = next(r["agent_id"] for r in rows_csv if r["programme"] == "nursing_degree" and r["event"] == "completion"
                   and r["to"] == "local post")
    one = career(pq_path, int(student))
    assert one == career(csv_path, int(student))
    assert [r["event"] for r in one][:3] == ["start", "completion", "hired"]
    table = pq.read_table(pq_path).to_pandas()
    assert str(table["agent_id"].dtype) == "int64" and (table["agent_id"] == int(student)).sum() == len(one)


def test_cli_run_with_a_parquet_trace_and_print_a_career(tmp_path):
    runner, trace = _run_traced(tmp_path, "careers.parquet")
    from sim.engines.agents.trace import read_trace

    rows = read_trace(trace)
    student = next(x["agent_id"] for x in rows if x["programme"] == "nursing_degree" and x["to"] == "local post")
    r = runner.invoke(app, ["trace", str(trace), "--agent", student])
    assert r.exit_code == 0, r.output
    assert "nursing_degree" in r.stdout and "newly_qualified" in r.stdout and "registered_nurse" in r.stdout
    r = runner.invoke(app, ["trace", str(trace), "--agent", "987654321"])
    assert r.exit_code == 2 and "no agent 987654321" in r.stderr
    (tmp_path / "fake.parquet").write_text("agent_id,time,event\n", encoding="utf-8")
    r = runner.invoke(app, ["trace", str(tmp_path / "fake.parquet"), "--agent", "1"])
    assert r.exit_code == 2 and "not a readable Parquet file" in r.stderr


@pytest.mark.parametrize("name", ["t.txt", "t.json", "trace"])
def test_cli_trace_suffix_must_be_csv_or_parquet(tmp_path, name):
    r = CliRunner().invoke(app, ["run", str(CONFIGS / "examples" / "spec_example.yaml"), "--engine", "agents",
                                 "-n", "1", "--years", "1", "--out", str(tmp_path / "x.nc"), "--trace",
                                 str(tmp_path / name), "-q"])
    assert r.exit_code == 2, r.output
    assert "--trace" in r.stderr and ".csv" in r.stderr and ".parquet" in r.stderr
    assert not (tmp_path / "x.nc").exists()
    r = CliRunner().invoke(app, ["trace", str(tmp_path / name), "--agent", "1"])
    assert r.exit_code == 2 and ".csv" in r.stderr and ".parquet" in r.stderr


def test_parquet_trace_without_pyarrow_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    for mod in ("pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, mod, None)                # import pyarrow now fails
    r = CliRunner().invoke(app, ["run", str(CONFIGS / "examples" / "spec_example.yaml"), "--engine", "agents",
                                 "-n", "1", "--years", "1", "--out", str(tmp_path / "x.nc"), "--trace",
                                 str(tmp_path / "t.parquet"), "-q"])
    assert r.exit_code == 2, r.output
    assert "--trace" in r.stderr and "pip install 'wfsim-ics[parquet]'" in r.stderr
    assert not (tmp_path / "x.nc").exists()
    r = CliRunner().invoke(app, ["trace", str(tmp_path / "t.parquet"), "--agent", "1"])
    assert r.exit_code == 2 and "pip install 'wfsim-ics[parquet]'" in r.stderr


# --------------------------------------------------------------------------------------------------
# a finished model is freed (Mesa 3.3 would keep it alive: see sim/engines/agents/mesa_compat.py)
def test_a_finished_replicate_leaves_no_model_behind():
    import gc
    import weakref

    import mesa

    from sim.engines.agents import model as agents_model

    assert hasattr(mesa.Agent, "_ids"), "Mesa no longer counts ids per model: delete mesa_compat.py"
    plan = compile_plan(sim.load_scenario(CONFIGS / "analytic" / "decay.yaml").model_copy(update={"years": 1}))
    seen = []
    real = agents_model.WorkforceModel

    class Watched(real):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            seen.append(weakref.ref(self))

    agents_model.WorkforceModel = Watched
    try:
        agents_model.run_replicate(plan, 0, 1)
    finally:
        agents_model.WorkforceModel = real
    gc.collect()
    assert len(seen) == 1 and seen[0]() is None
