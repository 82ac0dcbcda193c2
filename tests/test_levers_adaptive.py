"""Adaptive plans (annual review hooks): engines are prefix-consistent, decisions follow each
replicate's own state, a plan that never fires changes nothing; plus action-plan includes and a
third-party lever loaded through the ``wfsim.levers`` entry point."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.engines import simulator
from sim.model.compile import compile_plan

ROOT = Path(__file__).parents[1]
GROWTH = ROOT / "configs" / "analytic" / "demand_growth.yaml"
THRESHOLD = 0.2


def scenario(adaptive: dict | None = None, **extra) -> dict:
    """Demand grows 2% a year ahead of supply: the gap share starts near 0.16 and moves around the threshold."""
    d = yaml.safe_load(GROWTH.read_text())
    d["years"] = 6
    d["levers"] = [{"lever": "retention", "id": "keep", "profession": "staff", "leave_rate_multiplier": 0.8,
                    "cost_per_head_per_year": 100}]
    if adaptive is not None:
        d["levers"].append({"lever": "adaptive_plan", "profession": "staff", "gap_threshold": THRESHOLD,
                            "raise_levers": ["keep"], "step": 0.5, "max_scale": 3, **adaptive})
    d.update(extra)
    return d


@pytest.mark.parametrize("engine", ["kernel", "agents"])
def test_engines_are_prefix_consistent(engine):
    """The first t months of a run do not depend on the plan after t: what reviews rely on."""
    d = scenario()
    d["years"] = 2
    plan = compile_plan(sim.load_scenario(d))
    run = simulator(engine)
    reps = range(3) if engine == "kernel" else range(1)
    full = run(plan, reps, 5)
    head = run(plan.head(13), reps, 5)
    for k in full:
        np.testing.assert_array_equal(head[k], full[k][:, :13], err_msg=k)


@pytest.fixture(scope="module")
def adaptive_run():
    return sim.run(sim.load_scenario(scenario({})), replicates=60, seed=11)


def test_decisions_follow_each_replicates_own_gap(adaptive_run):
    ds = adaptive_run
    scale = ds.lever_scale.sel(lever="keep").values                                 # [R, M]
    share = (ds.gap_fte.sum(["profession", "place"]) / ds.demand_fte.sum(["profession", "place"])).values
    reviews = [t for t in range(1, ds.sizes["time"]) if ds.time.dt.month.values[t] == 4]
    assert reviews == [12, 24, 36, 48, 60]
    raised_any = False
    for t in reviews:
        expected_raise = (share[:, t - 1] > THRESHOLD) & (scale[:, t - 1] + 0.5 <= 3 + 1e-12)
        got = scale[:, t] - scale[:, t - 1]
        np.testing.assert_allclose(got, np.where(expected_raise, 0.5, 0.0), err_msg=f"review at month {t}")
        raised_any |= expected_raise.any() and not expected_raise.all()
        # the scale holds between reviews
        nxt = t + 12 if t + 12 <= scale.shape[1] else scale.shape[1]
        assert (scale[:, t:nxt] == scale[:, t:t + 1]).all()
    assert raised_any, "the test scenario should split replicates at some review"
    assert (scale[:, :12] == 1).all()
    # the raised lever really is stronger: its cost per head follows the scale's months in force
    assert float(ds.lever_cost.sel(lever="keep").sum()) > 0


def test_raised_retention_lowers_leaving(adaptive_run):
    base = sim.run(sim.load_scenario(scenario({"gap_threshold": 1.0})), replicates=60, seed=11)
    ds = adaptive_run
    late = dict(time=slice(-12, None))
    raised = ds.lever_scale.sel(lever="keep").isel(time=-1) > 1
    lv = ds.leavers.sel(reason="leaver").isel(**late).sum(["time", "profession", "place"])
    lb = base.leavers.sel(reason="leaver").isel(**late).sum(["time", "profession", "place"])
    assert float(lv.where(raised).mean()) < float(lb.where(raised).mean())


def test_a_plan_that_never_fires_changes_nothing():
    """Threshold 1 (never met) or no budget: bit-identical to the same levers without the adaptive plan."""
    plain = sim.run(sim.load_scenario(scenario()), replicates=20, seed=3)
    for adaptive in ({"gap_threshold": 1.0}, {"budget_per_year": 0.0}):
        ds = sim.run(sim.load_scenario(scenario(adaptive)), replicates=20, seed=3)
        for v in plain.data_vars:
            if "lever" in plain[v].dims:
                np.testing.assert_array_equal(ds[v].sel(lever="keep").values, plain[v].sel(lever="keep").values)
            else:
                np.testing.assert_array_equal(ds[v].values, plain[v].values, err_msg=v)


def test_budget_stops_raises():
    """Retention costs £100 per head a year (~£0.45m at scale 1): a £0.6m budget allows one raise only."""
    ds = sim.run(sim.load_scenario(scenario({"budget_per_year": 6e5})), replicates=20, seed=3)
    scale = ds.lever_scale.sel(lever="keep").values
    assert scale.max() == 1.5 and (scale[:, -1] == 1.5).any()


def test_expected_takes_one_deterministic_path():
    ex = sim.expected(sim.load_scenario(scenario({})))
    share = (ex.gap_fte.sum(["profession", "place"]) / ex.demand_fte.sum(["profession", "place"])).values
    scale = ex.lever_scale.sel(lever="keep").values
    for t in (12, 24, 36, 48, 60):
        assert scale[t] - scale[t - 1] == (0.5 if share[t - 1] > THRESHOLD and scale[t - 1] < 3 else 0.0)


def test_agents_engine_reviews_too():
    d = scenario({})
    d["years"] = 2
    ds = sim.run(sim.load_scenario(d), replicates=2, seed=1, engine="agents")
    assert ds.attrs["engine"] == "agents"
    share = (ds.gap_fte.sum(["profession", "place"]) / ds.demand_fte.sum(["profession", "place"])).values
    scale = ds.lever_scale.sel(lever="keep").values
    np.testing.assert_allclose(scale[:, 12] - scale[:, 11], np.where(share[:, 11] > THRESHOLD, 0.5, 0.0))


@pytest.mark.parametrize("bad, field, needle", [
    ({"raise_levers": ["nope"]}, "levers.1.raise_levers", "no lever 'nope'"),
    ({"profession": "nurse"}, "levers.1.profession", "unknown profession"),
    ({"gap_threshold": 1.5}, "levers.1.gap_threshold", ""),
    ({"review_month": 13}, "levers.1.review_month", ""),
    ({"raise_levers": []}, "levers.1.raise_levers", ""),
])
def test_bad_adaptive_plans_are_refused(bad, field, needle):
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(scenario(bad))
    paths = [p for p, _ in e.value.problems]
    assert field in paths, e.value.problems
    assert needle in str(e.value)


def test_duplicate_lever_ids_are_refused():
    d = scenario()
    d["levers"].append(dict(d["levers"][0]))
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(d)
    assert "levers.1.id" in [p for p, _ in e.value.problems]


# --------------------------------------------------------------------------------------------------
# action plans: includes

def test_include_expands_a_plan_file(tmp_path):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "keep.yaml").write_text(yaml.safe_dump({
        "name": "keep", "description": "retention", "levers": [
            {"lever": "retention", "profession": "staff", "leave_rate_multiplier": 0.9}]}))
    d = scenario()
    d["levers"] = [{"include": "plans/keep.yaml"}]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    scn = sim.load_scenario(tmp_path / "s.yaml")
    assert [x.lever for x in scn.levers] == ["retention"]
    # the same plan appended from outside the scenario (wfsim run --plan)
    d["levers"] = []
    (tmp_path / "bare.yaml").write_text(yaml.safe_dump(d))
    scn2 = sim.load_scenario(tmp_path / "bare.yaml", plans=[tmp_path / "plans" / "keep.yaml"])
    assert sim.scenario.scenario_sha256(scn2) == sim.scenario.scenario_sha256(scn)


def test_include_problems_name_the_plan_file(tmp_path):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"levers": [
        {"lever": "retention", "profession": "nurse", "leave_rate_multiplier": 0.9}]}))
    d = scenario()
    d["levers"] = [{"include": "bad.yaml"}, {"include": "missing.yaml"}]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(tmp_path / "s.yaml")
    text = str(e.value)
    assert "levers.1" in text and "not found" in text
    d["levers"] = [{"include": "bad.yaml"}]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(tmp_path / "s.yaml")
    assert "unknown profession 'nurse'" in str(e.value) and "bad.yaml levers.0" in str(e.value)


# --------------------------------------------------------------------------------------------------
# a plugin from outside the package

PLUGIN = '''
from typing import Literal
from sim.levers import Lever
from sim.scenario.types import Number


class DoubleIntake(Lever):
    """A third party's lever: scale every programme's intake."""
    lever: Literal["scale_intake"]
    factor: Number(0, 10, "multiple of intake")
    area = 6

    def apply(self, plan, scenario):
        plan.intake *= 1 + (self.factor - 1) * self.window(plan)[:, None, :]
'''


def test_entry_point_plugin_runs(tmp_path):
    (tmp_path / "thirdparty_levers.py").write_text(textwrap.dedent(PLUGIN))
    dist = tmp_path / "thirdparty_levers-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-levers\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[wfsim.levers]\nscale_intake = thirdparty_levers:DoubleIntake\n")
    d = yaml.safe_load((ROOT / "configs" / "analytic" / "pipeline.yaml").read_text())
    d["levers"] = [{"lever": "scale_intake", "factor": 2}]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(tmp_path)!r})
        import sim
        assert "scale_intake" in sim.levers.registry()
        scn = sim.load_scenario({str(tmp_path / 's.yaml')!r})
        ds = sim.expected(scn, years=4)
        base = sim.expected(sim.load_scenario({str(ROOT / 'configs' / 'analytic' / 'pipeline.yaml')!r}), years=4)
        print(float(ds.trainees.isel(time=-1).sum()) / float(base.trainees.isel(time=-1).sum()))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert abs(float(r.stdout.strip()) - 2.0) < 1e-9
    # and the CLI lists it
    r = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
                        "from sim.cli import main; sys.argv=['wfsim', 'levers']; main()"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert "scale_intake" in r.stdout, r.stdout + r.stderr
