"""Arguments and output paths are checked before anything runs; results are written atomically, and a file
that is not a wfsim output is never written over (issue 17, class 3).

Before: ``--replicates 10**12`` hung; an ``--out`` that could not be written (its parent a file; a read-only
or special filesystem) was found only after the whole run (exit 1); an existing file at ``--out`` was
replaced without a word, even ``--out scenario.yaml``; a failed write left a damaged file.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import pytest
import xarray as xr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim.experiments
import sim.runs
from sim.cli import app
from sim.limits import REPLICATES, SEED, WORKERS, YEARS
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
PLAN = ROOT / "configs" / "levers" / "train.yaml"
runner = CliRunner()
FAST = ["-n", "2", "--years", "1", "-q"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if a simulation starts: the checks must come first."""
    def boom(*a, **k):
        raise AssertionError("the run started before the bad argument was found")

    monkeypatch.setattr(sim.runs, "run", boom)
    monkeypatch.setattr(sim.runs, "run_replicates", boom)


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("precious\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# limits on numbers, before running

def test_replicates_beyond_the_file_format_cap_exit_2_at_once():
    env = {k: v for k, v in os.environ.items() if k != "WFSIM_DEBUG"}
    r = subprocess.run([sys.executable, "-m", "sim.cli", "run", EXAMPLE, "--replicates", str(10 ** 12), "-q",
                        "--out", "/nonexistent/x.nc"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert r.returncode == 2 and "--replicates" in r.stderr, r.stderr


@pytest.mark.parametrize("args, option", [
    (["--replicates", "1000001"], "--replicates"),
    (["--seed", str(2 ** 63)], "--seed"),
    (["--seed", str(10 ** 30)], "--seed"),
])
def test_run_numbers_beyond_their_range(tmp_path, no_run, args, option):
    r = invoke("run", EXAMPLE, *args, "--out", tmp_path / "x.nc", "-q")
    assert r.exit_code == 2 and option in r.stderr, r.output


@pytest.mark.parametrize("args, option", [(["--workers", "100000"], "--workers"), (["--workers", "0"], "--workers")])
def test_experiment_numbers_beyond_their_range(tmp_path, no_run, args, option):
    exp = ROOT / "experiments" / "hee_supply_levers.yaml"
    r = invoke("experiment", exp, *args, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 2 and option in r.stderr, r.output


# --------------------------------------------------------------------------------------------------
# output paths that cannot be written: exit 2 naming the option, before running

def test_out_whose_parent_is_a_file(a_file, no_run):
    r = invoke("run", EXAMPLE, *FAST, "--out", a_file / "x.nc")
    assert r.exit_code == 2 and "--out" in r.stderr, r.output


@pytest.mark.parametrize("where", ["/proc/wfsim-test/x.nc", "/proc/wfsim-test.nc", "/sys/wfsim-test.nc"])
def test_out_on_a_special_filesystem(no_run, where):
    r = invoke("run", EXAMPLE, *FAST, "--out", where)
    assert r.exit_code == 2 and "--out" in r.stderr, r.output


def test_out_to_a_special_file(no_run):
    r = invoke("run", EXAMPLE, *FAST, "--out", "/dev/null")
    assert r.exit_code == 2 and "--out" in r.stderr, r.output


def test_trace_whose_parent_is_a_file(a_file, no_run):
    r = invoke("run", EXAMPLE, *FAST, "--engine", "agents", "--trace", a_file / "t.csv",
               "--out", a_file.parent / "x.nc")
    assert r.exit_code == 2 and "--trace" in r.stderr, r.output


def test_experiment_out_on_a_special_filesystem(no_run, tmp_path):
    r = invoke("experiment", ROOT / "experiments" / "hee_supply_levers.yaml", "--out", "/proc/wfsim-test", "-q")
    assert r.exit_code == 2 and "--out" in r.stderr, r.output


def test_schema_out(tmp_path, a_file):
    out = tmp_path / "schema.json"
    r = invoke("schema", "--out", out)
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8") == (ROOT / "configs" / "schema.json").read_text(encoding="utf-8")
    assert invoke("schema", "--out", out).exit_code == 0                 # its own output: replaced
    before = digest(a_file)
    r = invoke("schema", "--out", a_file)
    assert r.exit_code == 2 and "--out" in r.stderr and "not a wfsim" in r.stderr
    assert digest(a_file) == before


# --------------------------------------------------------------------------------------------------
# existing files: a wfsim output is replaced (and said so); anything else is refused

def test_out_over_a_scenario_file_is_refused(tmp_path, no_run):
    scenario = tmp_path / "scenario.yaml"
    shutil.copy(EXAMPLE, scenario)
    before = digest(scenario)
    r = invoke("run", scenario, *FAST, "--out", scenario)
    assert r.exit_code == 2 and "--out" in r.stderr and "not a wfsim" in r.stderr, r.output
    assert digest(scenario) == before


def test_trace_over_a_scenario_file_is_refused(tmp_path, no_run):
    target = tmp_path / "notes.csv"
    target.write_text("a,b\n1,2\n", encoding="utf-8")
    r = invoke("run", EXAMPLE, *FAST, "--engine", "agents", "--trace", target, "--out", tmp_path / "x.nc")
    assert r.exit_code == 2 and "--trace" in r.stderr and "not a wfsim" in r.stderr, r.output
    assert target.read_text() == "a,b\n1,2\n"


def test_a_wfsim_output_is_replaced_and_said_so(tmp_path):
    out = tmp_path / "x.nc"
    assert invoke("run", EXAMPLE, *FAST, "--out", out).exit_code == 0
    r = invoke("run", EXAMPLE, *FAST, "--seed", "9", "--out", out)
    assert r.exit_code == 0, r.output
    assert "replacing" in r.stdout.replace(str(tmp_path), "")
    assert xr.load_dataset(out).attrs["seed"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nc"]            # no temporary file left behind


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    out = tmp_path / "x.nc"
    assert invoke("run", EXAMPLE, *FAST, "--out", out).exit_code == 0
    before = digest(out)

    def half_then_fail(self, path, *a, **k):
        Path(path).write_bytes(b"\x89HDF\r\n\x1a\n half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_then_fail)
    r = invoke("run", EXAMPLE, *FAST, "--seed", "3", "--out", out)
    assert r.exit_code != 0
    assert digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nc"]


def test_experiment_refuses_a_folder_holding_other_files_named_like_its_outputs(tmp_path, no_run):
    (tmp_path / "results.zarr").mkdir()
    (tmp_path / "results.zarr" / "mine.txt").write_text("keep me", encoding="utf-8")
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "question": "q?", "scenario": str(EXAMPLE), "replicates": 2,
                                    "block": 2, "years": 1, "variants": {"baseline": {}}}), encoding="utf-8")
    for extra in ([], ["--restart"]):
        r = invoke("experiment", path, "--out", tmp_path, "-q", *extra)
        assert r.exit_code == 2 and "--out" in r.stderr and "not a wfsim" in r.stderr, r.output
        assert (tmp_path / "results.zarr" / "mine.txt").read_text() == "keep me"


def test_experiment_refuses_a_comparison_csv_that_is_not_its_own(tmp_path):
    (tmp_path / "comparison.csv").write_text("precious\n", encoding="utf-8")
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "question": "q?", "scenario": str(EXAMPLE), "replicates": 2,
                                    "block": 2, "years": 1, "variants": {"baseline": {}}}), encoding="utf-8")
    r = invoke("experiment", path, "--out", tmp_path, "-q", "--workers", "1")
    assert r.exit_code == 2 and "comparison.csv" in r.stderr and "not a wfsim" in r.stderr, r.output
    assert (tmp_path / "comparison.csv").read_text() == "precious\n"
    assert not (tmp_path / "results.zarr").exists()


def test_plot_refuses_to_write_over_other_pngs(tmp_path):
    out = tmp_path / "x.nc"
    assert invoke("run", EXAMPLE, *FAST, "--out", out).exit_code == 0
    figures = tmp_path / "figs"
    r = invoke("plot", out, "--out", figures)
    assert r.exit_code == 0, r.output
    again = invoke("plot", out, "--out", figures)                         # its own figures: replaced
    assert again.exit_code == 0, again.output
    victim = next(figures.glob("fan_*.png"))
    victim.write_bytes(b"\x89PNG\r\n\x1a\n not from wfsim")
    r = invoke("plot", out, "--out", figures)
    assert r.exit_code == 2 and "--out" in r.stderr and "not a wfsim" in r.stderr, r.output
    assert victim.read_bytes() == b"\x89PNG\r\n\x1a\n not from wfsim"
    r = invoke("plot", out, "--out", "/proc/wfsim-figs")
    assert r.exit_code == 2 and "--out" in r.stderr, r.output


# --------------------------------------------------------------------------------------------------
# property: every numeric option at and beyond its bounds: accepted, or exit 2 naming it; never 1

OPTIONS = [("run", "--replicates", 1, REPLICATES), ("run", "--seed", 0, SEED), ("run", "--years", 1, YEARS),
           ("experiment", "--workers", 1, WORKERS), ("run", "--threads", 1, numba.config.NUMBA_NUM_THREADS)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(OPTIONS), where=st.sampled_from(["lo", "hi"]),
       step=st.sampled_from([0, 1, 2, 10 ** 20, 10 ** 400]))
def test_property_numeric_options_at_and_beyond_their_bounds(tmp_path, case, where, step):
    command, option, lo, hi = case
    value = lo - step if where == "lo" else hi + step

    def accepted(*a, **k):
        raise ScenarioError([("", "accepted")], "test")

    threads = numba.get_num_threads()           # --threads sets numba's: put it back after
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sim.runs, "run", accepted)
        mp.setattr(sim.experiments, "run_experiment", accepted)
        target = EXAMPLE if command == "run" else tmp_path / "e.yaml"
        if command == "experiment":
            target.write_text(yaml.safe_dump({"name": "x", "question": "q?", "scenario": str(EXAMPLE),
                                              "variants": {"baseline": {}}}), encoding="utf-8")
        r = invoke(command, target, option, str(value), "--out", tmp_path / ("x.nc" if command == "run" else "o"),
                   "-q")
    numba.set_num_threads(threads)
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    if step == 0:
        assert "accepted" in r.stderr, r.output
    else:
        assert option in r.output and "accepted" not in r.stderr, r.output
