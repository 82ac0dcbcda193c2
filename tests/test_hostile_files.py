"""Hostile and careless input files are refused with exit 2, quickly, in bounded memory (issue 17, class 2).

Before: a YAML alias bomb ("billion laughs") made the error path expand the value and exhaust memory;
deeply nested YAML gave an internal RecursionError; an include of /dev/zero read forever; a 50 MB file
hung validation. Now input files are bounded (size, nesting, expanded size of aliases), must be regular
files, and messages show at most a short, truncated form of any value.
"""
from __future__ import annotations

import copy
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
BASE = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
MAX_BYTES = 1 << 20                    # the documented limit on an input file: 1 MiB
runner = CliRunner()
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] +
                 [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)])


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))      # 3 GiB: a bomb fails, never swaps


def wfsim(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    """The real command in a fresh process, with a memory limit and a timeout (a hang fails the test)."""
    env = {k: v for k, v in os.environ.items() if k != "WFSIM_DEBUG"}
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout, preexec_fn=_limit_memory)


def said(text: str) -> str:
    """Output without the temporary paths (which hold the test's name)."""
    return re.sub(r"\S*pytest-of-\S*", "PATH", text)


def refused(r, needle: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and needle in said(r.stderr), r.stderr[-2000:]
    assert len(r.stderr) < 3000


def scenario_text(**top) -> str:
    d = copy.deepcopy(BASE)
    d.update(top)
    return yaml.safe_dump(d, sort_keys=False)


def test_alias_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.yaml"
    text = scenario_text()
    path.write_text(BOMB + "\n" + text.replace("start: 2026-04", "start: *i"), encoding="utf-8")
    refused(wfsim("validate", path, timeout=30), "alias")


def test_alias_bomb_in_an_experiment_file_is_refused(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(BOMB + "\nname: x\nquestion: q\ncompare: {at: *i}\nvariants: {baseline: {}}\n", encoding="utf-8")
    refused(wfsim("experiment", path, "--out", tmp_path / "o", timeout=30), "alias")


def test_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [*a]\n" + scenario_text(), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and "alias" in said(r.stderr), r.output


@pytest.mark.parametrize("text", ["[" * 20000 + "]" * 20000, "a:\n  " + "- " * 3000 + "x\n",
                                  "x: " + "{a: " * 5000 + "1" + "}" * 5000])
def test_deep_nesting_is_refused(tmp_path, text):
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])                  # a RecursionError would be exit 1 here
    assert r.exit_code == 2 and "nested" in said(r.stderr) and len(r.stderr) < 3000, (r.output, r.exception)


def test_include_of_dev_zero_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(levers=[{"include": "/dev/zero"}]), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])                  # refused by its name: nothing is read
    assert r.exit_code == 2 and "must be a .yaml" in said(r.stderr), r.output
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")                  # a YAML name is not enough
    path.write_text(scenario_text(levers=[{"include": "zero.yaml"}]), encoding="utf-8")
    refused(wfsim("validate", path, timeout=30), "not a regular file")


def test_special_file_on_the_command_line_is_refused(tmp_path):
    refused(wfsim("run", EXAMPLE, "--plan", "/dev/zero", "-n", "1", "--out", tmp_path / "x.nc", timeout=30),
            "not a regular file")


def test_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    refused(wfsim("validate", fifo, timeout=30), "not a regular file")      # a plain open would wait for a writer


def test_a_50_mb_file_is_refused_quickly(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("w") as f:
        f.write(scenario_text())
        line = "# " + "x" * 1000 + "\n"
        for _ in range(50_000):
            f.write(line)
    refused(wfsim("validate", path, timeout=30), "larger than")


def test_size_limit_applies_to_includes_and_experiments(tmp_path):
    big = tmp_path / "plan.yaml"
    big.write_text("levers: []\n" + "#" * (MAX_BYTES + 10) + "\n", encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(levers=[{"include": "plan.yaml"}]), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and "larger than" in said(r.stderr) and "levers.0" in r.stderr, r.output


def test_messages_truncate_long_values(tmp_path):
    path = tmp_path / "s.yaml"
    long = "y" * 200_000
    d = copy.deepcopy(BASE)
    d["start"] = long
    d["professions"]["registered_nurse"]["leave_rate"] = long
    d["professions"]["registered_nurse"][long] = 1                       # an unknown key
    d["levers"][0]["lever"] = long                                       # an unknown lever
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 2
    assert len(r.stderr) < 4000 and "…" in r.stderr, r.stderr[:3000]
    for field in ("start", "professions.registered_nurse.leave_rate", "levers.0"):
        assert f": {field}" in r.stderr


# --------------------------------------------------------------------------------------------------
# includes: the policy (they may leave the scenario's folder, but only to regular YAML files)

def test_include_outside_the_scenario_folder_is_allowed(tmp_path):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.yaml").write_text(yaml.safe_dump({"levers": [BASE["levers"][0]]}), encoding="utf-8")
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text(scenario_text(levers=[{"include": "../plans/p.yaml"}]), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("include, needle", [
    ("notes.txt", ".yaml"),
    (["a.yaml"], "a path"),
    ({"a": 1}, "a path"),
    (7, "a path"),
    ("", "a path"),
    ("missing.yaml", "not found"),
    (".", "folder"),
    ("x" * 300 + ".yaml", "too long"),
    ("a/" * 2100 + "x.yaml", "too long"),
])
def test_bad_includes_are_refused(tmp_path, include, needle):
    (tmp_path / "notes.txt").write_text(yaml.safe_dump({"levers": []}), encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(levers=[{"include": include}]), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and needle in said(r.stderr) and ": levers.0" in r.stderr, r.output


def test_experiment_plans_and_scenario_must_be_yaml_files(tmp_path):
    (tmp_path / "s.txt").write_text(scenario_text(), encoding="utf-8")
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "question": "q?", "scenario": "s.txt",
                                    "variants": {"baseline": {}}}), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and ": scenario" in r.stderr and ".yaml" in said(r.stderr), r.output


# --------------------------------------------------------------------------------------------------
# property: random YAML structure anywhere gives exit 0 or 2 with a short message, never 1

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                    st.binary(max_size=10).map(lambda b: b.decode("latin-1")),
                    st.sampled_from([10 ** 400, 2 ** 64, -2 ** 63 - 1, 1e308, "2026-04", "1e6", "/dev/zero",
                                     "../x.yaml"]))
structures = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                          max_leaves=20)


def _places(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _places(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _places(v, path + (i,))


PLACES = list(_places(BASE))


@PROPERTY
@given(where=st.sampled_from(PLACES), value=structures)
def test_property_random_structure_anywhere_gives_exit_0_or_2(tmp_path, where, value):
    d = copy.deepcopy(BASE)
    if where:
        node = d
        for k in where[:-1]:
            node = node[k]
        node[where[-1]] = value
    else:
        d = value
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d, allow_unicode=False), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code in (0, 2), (r.exit_code, r.output[-2000:], r.exception)
    assert "Traceback" not in r.output and len(r.output) < 6000


@PROPERTY
@given(text=st.text(alphabet=st.sampled_from(list("[]{}:-&*!|>'\"#,? \n\tab01.%@`")), max_size=200))
def test_property_random_yaml_text_gives_exit_0_or_2(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    for command in ("validate", "experiment"):
        r = runner.invoke(app, [command, str(path), *(["--verify"] if command == "experiment" else [])])
        assert r.exit_code == 2, (r.exit_code, r.output[-2000:], r.exception)
        assert "Traceback" not in r.output and len(r.output) < 6000
