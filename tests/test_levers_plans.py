"""The shipped action plans (configs/levers/*.yaml) on the default ICS, and ``--plan`` on the CLI."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from typer.testing import CliRunner

import sim
from sim.cli import app

ROOT = Path(__file__).parents[1]
BASELINE = ROOT / "configs" / "baseline_ics.yaml"
PLANS = ROOT / "configs" / "levers"
NAMES = ("train", "retain", "reform", "all")


def rn_gap_2031(ds) -> float:
    rn = ds.sel(profession="registered_nurse", time=np.datetime64("2031-03")).sum("place")
    return float(rn.gap_fte)


@pytest.fixture(scope="module")
def expected():
    out = {"baseline": sim.expected(sim.load_scenario(BASELINE), years=5)}
    for name in NAMES:
        out[name] = sim.expected(sim.load_scenario(BASELINE, plans=[PLANS / f"{name}.yaml"]), years=5)
    return out


def test_all_is_the_three_plans_together():
    levers = {n: [x.id for x in sim.load_scenario(BASELINE, plans=[PLANS / f"{n}.yaml"]).levers] for n in NAMES}
    assert levers["all"] == levers["train"] + levers["retain"] + levers["reform"]
    assert len(set(levers["all"])) == len(levers["all"])


@pytest.mark.parametrize("name", NAMES)
def test_each_plan_narrows_the_nurse_gap_at_a_cost(expected, name):
    base, ds = expected["baseline"], expected[name]
    assert rn_gap_2031(ds) < rn_gap_2031(base)
    assert float(ds.cost.sel(kind="levers").sum()) > 0
    assert list(ds.lever.values) == [x["id"] for x in _flat(name)]
    # the lever costs add up to the levers kind
    np.testing.assert_allclose(ds.lever_cost.sum("lever").values, ds.cost.sel(kind="levers").values, rtol=1e-9)


def test_combined_plan_beats_each_alone(expected):
    assert rn_gap_2031(expected["all"]) < min(rn_gap_2031(expected[n]) for n in ("train", "retain", "reform"))


def _flat(name: str) -> list[dict]:
    out = []
    for item in yaml.safe_load((PLANS / f"{name}.yaml").read_text())["levers"]:
        out += _flat(Path(item["include"]).stem) if "include" in item else [item]
    return out


def test_cli_run_with_a_plan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["run", str(BASELINE), "--plan", str(PLANS / "retain.yaml"), "-n", "2",
                                 "--years", "2", "--every", "year"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "results" / "baseline-ics+retain.nc"
    assert out.exists(), r.output
    assert "spend on each lever" in r.output and "gp_retention" in r.output


def test_cli_bad_plan_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("levers:\n  - {lever: retention, profession: nurse, leave_rate_multiplier: 0.9}\n")
    for plan, needle in ((bad, "unknown profession 'nurse'"), (tmp_path / "none.yaml", "not found")):
        r = CliRunner().invoke(app, ["validate", str(BASELINE), "--plan", str(plan)])
        assert r.exit_code == 2 and needle in r.output, r.output


def test_cli_plan_by_name_runs_the_shipped_plan(tmp_path, monkeypatch):
    """``--plan retain`` where no file of that name exists is configs/levers/retain.yaml (shipped in the package)."""
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["run", str(BASELINE), "--plan", "retain", "-n", "2", "--years", "1", "-q"])
    assert r.exit_code == 0, r.output
    with xr.open_dataset(tmp_path / "results" / "baseline-ics+retain.nc") as by_name:
        by_path = sim.run(sim.load_scenario(BASELINE, plans=[PLANS / "retain.yaml"]), replicates=2, years=1)
        assert list(by_name.lever.values) == list(by_path.lever.values) == [x["id"] for x in _flat("retain")]
        xr.testing.assert_equal(by_name, by_path)           # values, not attributes (creation time)


def test_cli_unknown_plan_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["validate", str(BASELINE), "--plan", "trian"])
    assert r.exit_code == 2, r.output
    names = ", ".join(sorted(p.stem for p in PLANS.glob("*.yaml")))
    assert f"--plan trian: file not found: trian (or name a shipped action plan: {names})" in r.output


def test_experiment_variants_name_shipped_plans():
    from sim.experiments import load_experiment

    exp = load_experiment({"name": "x", "question": "q", "scenario": "default",
                           "variants": {"baseline": {}, "train": {"plans": ["train"]}}})
    assert [x.id for x in exp.runs[1].scenario.levers] == [x["id"] for x in _flat("train")]
