"""Experiment and action-plan files are validated like scenarios, also by ``wfsim validate`` (issue 17, class 4).

Before: a base scenario file of the wrong type, or a comparison month outside the horizon, gave an
internal error (exit 1) after the whole grid had run; ``wfsim validate`` took scenarios only.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim.runs
from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
runner = CliRunner()
PROPERTY = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SMALL = {"name": "small", "question": "Does slower leaving shrink the gap?", "scenario": str(EXAMPLE),
         "replicates": 4, "seed": 1, "years": 2, "every": "year", "block": 2,
         "variants": {"baseline": {}, "slower": {"set": {"professions.registered_nurse.leave_rate": 0.07}}},
         "compare": {"professions": ["registered_nurse"], "at": ["2027-03", "2028-03"]}}


def write(tmp_path: Path, data, name: str = "e.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def no_run(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the experiment started running")

    monkeypatch.setattr(sim.runs, "run_replicates", boom)


@pytest.mark.parametrize("content", [["a", "b"], "just text", 42, None])
def test_base_scenario_of_the_wrong_type(tmp_path, no_run, content):
    write(tmp_path, content, "s.yaml")
    path = write(tmp_path, {**SMALL, "scenario": "s.yaml"})
    for command in (["experiment", path, "--out", tmp_path / "o"], ["validate", path]):
        r = invoke(*command)
        assert r.exit_code == 2 and ": scenario" in r.stderr and "mapping" in r.stderr, r.output


@pytest.mark.parametrize("at", ["2090-01", "2026-03", "1900-01"])
def test_comparison_month_outside_the_horizon(tmp_path, no_run, at):
    path = write(tmp_path, {**SMALL, "compare": {"at": ["2027-03", at]}})
    for command in (["experiment", path, "--out", tmp_path / "o"], ["validate", path]):
        r = invoke(*command)
        assert r.exit_code == 2 and ": compare.at.1" in r.stderr and "horizon" in r.stderr, r.output


def test_comparison_month_at_the_last_month_of_a_shortened_horizon(tmp_path):
    path = write(tmp_path, {**SMALL, "compare": {"at": ["2028-03"]}})
    assert invoke("validate", path).exit_code == 0
    path = write(tmp_path, {**SMALL, "compare": {"at": ["2028-04"]}})
    assert invoke("validate", path).exit_code == 2


@pytest.mark.parametrize("change, field", [
    ({"seed": 2 ** 64}, "seed"),
    ({"scenario": 5}, "scenario"),
    ({"variants": {"baseline": {"plans": [7]}}}, "variants.baseline.plans.0"),
    ({"variants": {"baseline": {"set": {"start": "2300-01"}}}}, "start"),
    ({"question": ""}, "question"),
])
def test_bad_experiment_fields_name_the_field(tmp_path, no_run, change, field):
    path = write(tmp_path, {**SMALL, **change})
    r = invoke("validate", path)
    assert r.exit_code == 2 and field in r.stderr, r.output


# --------------------------------------------------------------------------------------------------
# wfsim validate: a scenario, an experiment or an action plan, recognised by its keys

def test_validate_recognises_each_kind_of_file(tmp_path):
    r = invoke("validate", EXAMPLE)
    assert r.exit_code == 0 and r.stdout.strip() == "valid", r.output
    r = invoke("validate", write(tmp_path, SMALL))
    assert r.exit_code == 0 and "valid experiment" in r.stdout and "2 runs" in r.stdout, r.output
    r = invoke("validate", ROOT / "configs" / "levers" / "train.yaml")
    assert r.exit_code == 0 and "valid action plan" in r.stdout, r.output
    for shipped in sorted((ROOT / "experiments").glob("*.yaml")):
        assert invoke("validate", shipped).exit_code == 0, shipped


def test_validate_a_bad_action_plan(tmp_path):
    plan = {"name": "p", "levers": [{"lever": "retention", "profession": "registered_nurse",
                                     "leave_rate_multiplier": 99}]}
    r = invoke("validate", write(tmp_path, plan, "p.yaml"))
    assert r.exit_code == 2 and "levers.0.leave_rate_multiplier" in r.stderr, r.output
    plan["levers"][0] = {"lever": "retention", "profession": "midwife", "leave_rate_multiplier": 0.9}
    r = invoke("validate", write(tmp_path, plan, "p.yaml"), "--scenario", EXAMPLE)
    assert r.exit_code == 2 and "levers.0.profession" in r.stderr and "midwife" in r.stderr, r.output


# --------------------------------------------------------------------------------------------------
# property: random values anywhere in an experiment file give exit 0 or 2, never 1

values = st.one_of(st.none(), st.booleans(), st.integers(-10, 10 ** 30), st.floats(), st.text(max_size=12),
                   st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                              max_size=2),
                   st.sampled_from(["2026-04", "2090-01", "0000-01", "baseline", "registered_nurse", "../x.yaml",
                                    "/dev/zero", str(EXAMPLE)]))


def _places(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _places(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _places(v, path + (i,))


PLACES = [p for p in _places(SMALL) if p]


@PROPERTY
@given(where=st.sampled_from(PLACES), value=values)
def test_property_random_values_in_an_experiment_give_exit_0_or_2(tmp_path, no_run, where, value):
    d = copy.deepcopy(SMALL)
    node = d
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    r = invoke("validate", write(tmp_path, d))
    assert r.exit_code in (0, 2), (r.exit_code, r.output[-2000:], r.exception)
    assert "Traceback" not in r.output and len(r.output) < 6000
