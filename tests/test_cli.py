"""The `wfsim` command line (sim/cli/): exit codes 0/2/1, validate, run, levers.

Exit-code contract (README, docs/input-limits.md): 0 success; 2 bad input (config, arguments, missing file) with one line
per problem and no traceback; 1 an unexpected internal error.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pytest
import xarray as xr
import yaml
from typer.testing import CliRunner

import sim.runs
import sim.cli
from sim.cli import app
from sim import load_scenario
from sim.scenario import scenario_sha256

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def wfsim(*args, timeout: float = 180) -> subprocess.CompletedProcess:
    """`python -m sim.cli ARGS` in a fresh process (the real entry point, `main`)."""
    env = {k: v for k, v in os.environ.items() if k != "WFSIM_DEBUG"}
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


@pytest.fixture
def bad_scenario(tmp_path, example_data) -> Path:
    """The reference example scenario with three problems, one per section."""
    example_data["professions"]["registered_nurse"]["leave_rate"] = 1.5
    example_data["programmes"]["nursing_degree"]["attrition"] = "a quarter"
    example_data["levers"][1]["leave_rate_multiplier"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(example_data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def two_professions(tmp_path, example_data) -> Path:
    nurse = example_data["professions"]["registered_nurse"]
    example_data["professions"]["midwife"] = {**nurse, "label": "Midwives", "headcount": 900,
                                              "recruitment": {"domestic": 40},
                                              "demand": {"fte_per_1000_population": 0.55}}
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(example_data, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# the exit-code contract, in a real process

BAD_INPUT = {   # case: (arguments, text the message must contain)
    "missing file (validate)": (lambda t, bad: ["validate", t / "nope.yaml"], "not found"),
    "missing file (run)": (lambda t, bad: ["run", t / "nope.yaml", "--out", t / "x.nc"], "not found"),
    "invalid scenario (validate)": (lambda t, bad: ["validate", bad], "professions.registered_nurse.leave_rate"),
    "invalid scenario (run)": (lambda t, bad: ["run", bad, "--out", t / "x.nc", "-q"], "levers.1.leave_rate_multiplier"),
    "bad --engine value": (lambda t, bad: ["run", EXAMPLE, "--engine", "turbo", "--out", t / "x.nc"], "--engine"),
    "--replicates 0": (lambda t, bad: ["run", EXAMPLE, "--replicates", "0", "--out", t / "x.nc"], "--replicates"),
    "--trace without --engine agents": (lambda t, bad: ["run", EXAMPLE, "--trace", t / "t.csv", "-n", "2",
                                                        "--out", t / "x.nc", "-q"], "--trace"),
    "bad --every value": (lambda t, bad: ["run", EXAMPLE, "--every", "week", "--out", t / "x.nc"], "--every"),
    "unknown command": (lambda t, bad: ["simulate", EXAMPLE], "simulate"),
    "missing file (optimise)": (lambda t, bad: ["optimise", t / "nope.yaml", "--out", t / "o"], "not found"),
    "optimise --workers 0": (lambda t, bad: ["optimise", "configs/optimise/analytic_two_levers.yaml", "--workers", "0",
                                             "--out", t / "o"], "--workers"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_without_traceback(case, tmp_path, bad_scenario):
    args, needle = BAD_INPUT[case]
    r = wfsim(*args(tmp_path, bad_scenario))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert needle in r.stderr, r.stderr
    assert not (tmp_path / "x.nc").exists()
    if case.startswith("invalid scenario"):
        assert len(r.stderr.strip().splitlines()) == 3, r.stderr      # one line per problem


def test_subprocess_validate_valid_exits_0():
    r = wfsim("validate", EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "valid"


def test_installed_console_script(tmp_path):
    exe = Path(sys.executable).parent / "wfsim"
    if not exe.exists():
        pytest.skip("wfsim console script not installed in this environment")
    r = subprocess.run([exe, "validate", EXAMPLE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "valid", r.stderr
    r = subprocess.run([exe, "validate", tmp_path / "nope.yaml"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def _run_main(monkeypatch, capsys, argv):
    monkeypatch.setattr(sys, "argv", ["wfsim", *map(str, argv)])
    with pytest.raises(SystemExit) as info:
        sim.cli.main()
    return info.value.code, capsys.readouterr()


def test_internal_error_exits_1_with_one_plain_message(monkeypatch, capsys, tmp_path):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.delenv("WFSIM_DEBUG", raising=False)
    monkeypatch.setattr(sim.runs, "run", boom)
    code, out = _run_main(monkeypatch, capsys, ["run", EXAMPLE, "-n", "2", "--years", "2", "-q",
                                                "--out", tmp_path / "x.nc"])
    assert code == 1
    assert "internal error" in out.err and "RuntimeError" in out.err and "kaboom" in out.err
    assert "Traceback" not in out.err
    assert not (tmp_path / "x.nc").exists()


def test_internal_error_with_debug_reraises(monkeypatch, capsys, tmp_path):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setenv("WFSIM_DEBUG", "1")
    monkeypatch.setattr(sim.runs, "run", boom)
    monkeypatch.setattr(sys, "argv", ["wfsim", "run", str(EXAMPLE), "-n", "2", "-q", "--out", str(tmp_path / "x.nc")])
    with pytest.raises(RuntimeError, match="kaboom"):
        sim.cli.main()


def test_main_bad_input_exits_2(monkeypatch, capsys, tmp_path):
    code, out = _run_main(monkeypatch, capsys, ["validate", tmp_path / "nope.yaml"])
    assert code == 2 and "not found" in out.err


# --------------------------------------------------------------------------------------------------
# validate

def test_validate_valid():
    r = invoke("validate", EXAMPLE)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "valid"


def test_validate_invalid_prints_one_line_per_problem(bad_scenario):
    r = invoke("validate", bad_scenario)
    assert r.exit_code == 2
    assert "valid" not in r.stdout
    lines = r.stderr.strip().splitlines()
    expected = ["professions.registered_nurse.leave_rate", "programmes.nursing_degree.attrition",
                "levers.1.leave_rate_multiplier"]
    assert len(lines) == len(expected), r.stderr
    for path in expected:
        hits = [line for line in lines if f": {path}: " in line]
        assert len(hits) == 1, (path, lines)
    assert all(line.startswith(str(bad_scenario)) for line in lines)
    assert "Traceback" not in r.output


def test_validate_long_problem_lines_are_not_wrapped(tmp_path, example_data):
    example_data["professions"]["registered_nurse"]["leave_rate"] = {2026: 0.1, 2028: 7}
    path = tmp_path / ("a-rather-long-file-name-" * 4 + ".yaml")
    path.write_text(yaml.safe_dump(example_data), encoding="utf-8")
    r = invoke("validate", path)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("text, needle", [("- a\n- b\n", "mapping"), ("name: [x\n", "not valid YAML"),
                                          ("name: a\nname: b\n", "twice")])
def test_validate_bad_files(tmp_path, text, needle):
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    r = invoke("validate", path)
    assert r.exit_code == 2 and needle in r.stderr


def test_validate_needs_an_argument():
    r = invoke("validate")
    assert r.exit_code == 2


# --------------------------------------------------------------------------------------------------
# run

@pytest.fixture(scope="module")
def monthly_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "x.nc"
    r = runner.invoke(app, ["run", str(EXAMPLE), "--replicates", "20", "--years", "2", "--out", str(out), "--quiet"])
    return r, out


def test_run_quiet_writes_netcdf(monthly_run):
    r, out = monthly_run
    assert r.exit_code == 0, (r.output, r.exception)
    assert out.exists()
    assert "┃" not in r.stdout and "percentile" not in r.stdout      # --quiet: no table
    assert str(out) in r.stdout                                          # but it says where it wrote
    ds = xr.load_dataset(out, engine="h5netcdf")
    assert ds.sizes["replicate"] == 20 and ds.sizes["time"] == 24
    assert list(ds.profession.values) == ["registered_nurse"]
    assert list(ds.place.values) == ["North", "South", "City"]


def test_run_dataset_provenance(monthly_run, example_data):
    _, out = monthly_run
    ds = xr.load_dataset(out, engine="h5netcdf")
    for key in ("scenario_name", "scenario_sha256", "seed", "engine", "wfsim_version", "created"):
        assert key in ds.attrs, key
    assert ds.attrs["scenario_name"] == "example-ics"
    assert ds.attrs["engine"] == "kernel"
    assert int(ds.attrs["seed"]) == 20261123                       # the scenario's seed by default
    assert ds.attrs["wfsim_version"] == version("wfsim-ics")
    datetime.fromisoformat(ds.attrs["created"])
    # the hash is of the scenario as run (with --years 2)
    example_data["years"] = 2
    assert ds.attrs["scenario_sha256"] == scenario_sha256(load_scenario(example_data))
    assert ds.time.values[0] == ds.time.values[0].astype("datetime64[M]")
    assert str(ds.time.values[0].astype("datetime64[M]")) == "2026-04"


def test_run_every_year(tmp_path):
    out = tmp_path / "y.nc"
    r = invoke("run", EXAMPLE, "--replicates", "5", "--years", "2", "--every", "year", "--out", out, "--quiet")
    assert r.exit_code == 0, (r.output, r.exception)
    ds = xr.load_dataset(out, engine="h5netcdf")
    assert ds.sizes["time"] == 2 and ds.sizes["replicate"] == 5


def test_run_every_quarter(tmp_path):
    out = tmp_path / "q.nc"
    r = invoke("run", EXAMPLE, "-n", "3", "--years", "2", "--every", "quarter", "--out", out, "-q")
    assert r.exit_code == 0, (r.output, r.exception)
    assert xr.load_dataset(out, engine="h5netcdf").sizes["time"] == 8


def test_run_seed_option_and_reproducibility(tmp_path):
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    for out in (a, b):
        r = invoke("run", EXAMPLE, "-n", "4", "--years", "2", "--seed", "7", "--out", out, "-q", "--every", "year")
        assert r.exit_code == 0, (r.output, r.exception)
    da, db = xr.load_dataset(a, engine="h5netcdf"), xr.load_dataset(b, engine="h5netcdf")
    assert int(da.attrs["seed"]) == 7
    xr.testing.assert_equal(da, db)          # values and coords; attrs (created) may differ


def test_run_summary_table_names_professions_and_percentiles(tmp_path, two_professions):
    out = tmp_path / "two.nc"
    r = invoke("run", two_professions, "--replicates", "20", "--years", "2", "--out", out)
    assert r.exit_code == 0, (r.output, r.exception)
    text = r.stdout
    assert "registered_nurse" in text and "midwife" in text
    assert "5th" in text and "95th" in text and "percentile" in text and "20 replicates" in text
    for column in ("supply", "demand", "gap"):
        assert column in text
    assert "2027-03" in text and "2028-03" in text                   # the end of each plan year
    # cells read "median (p5 to p95)"; the medians match the written dataset
    assert len(re.findall(r"-?[\d,]+ \(-?[\d,]+ to -?[\d,]+\)", text)) == 2 * 2 * 3
    ds = xr.load_dataset(out, engine="h5netcdf")
    supply = ds.effective_fte.isel(time=-1).sum("place").median("replicate")
    for prof in ("registered_nurse", "midwife"):
        assert f"{float(supply.sel(profession=prof)):,.0f}" in text
    assert f"wrote {out}" in text.replace("\n", "")


def test_run_with_year_tables_and_years_override(tmp_path, example_data):
    """--years re-validates the scenario from its JSON form: year tables must survive that."""
    nurse = example_data["professions"]["registered_nurse"]
    nurse["leave_rate"] = {2026: 0.095, 2027: 0.08}
    nurse["recruitment"]["international"] = {2026: 300, 2027: 150}
    example_data["programmes"]["nursing_degree"]["intake"] = {2026: 850, 2027: 1000}
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump(example_data), encoding="utf-8")
    out = tmp_path / "t.nc"
    r = invoke("run", path, "-n", "3", "--years", "2", "--every", "year", "--out", out, "-q")
    assert r.exit_code == 0, (r.output, r.exception)
    assert xr.load_dataset(out, engine="h5netcdf").sizes["time"] == 2


def test_run_out_is_a_folder(tmp_path):
    r = invoke("run", EXAMPLE, "-n", "2", "--years", "2", "--out", tmp_path, "-q")
    assert r.exit_code == 2 and "folder" in r.stderr


@pytest.mark.parametrize("args, option", [
    (["--replicates", "0"], "--replicates"),
    (["--replicates", "many"], "--replicates"),
    (["--years", "0"], "--years"),
    (["--years", "51"], "--years"),
    (["--seed", "-1"], "--seed"),
    (["--threads", "0"], "--threads"),
    (["--engine", "turbo"], "--engine"),
    (["--every", "week"], "--every"),
    (["--bogus"], "--bogus"),
])
def test_run_bad_options_exit_2(tmp_path, args, option):
    r = invoke("run", EXAMPLE, *args, "--out", tmp_path / "x.nc", "-q")
    assert r.exit_code == 2, r.output
    assert option in r.stderr
    assert not (tmp_path / "x.nc").exists()


def test_run_too_many_threads(tmp_path):
    r = invoke("run", EXAMPLE, "--threads", "100000", "-n", "2", "--years", "2", "--out", tmp_path / "x.nc", "-q")
    assert r.exit_code == 2 and "--threads" in r.stderr


def test_run_engine_agents_writes_the_same_schema(tmp_path):
    """Both engines fill one results schema; only the ``engine`` attribute tells them apart."""
    common = ("-n", "2", "--years", "2", "--seed", "3", "-q")
    ra = invoke("run", EXAMPLE, "--engine", "agents", "--threads", "1", *common, "--out", tmp_path / "a.nc")
    rk = invoke("run", EXAMPLE, "--engine", "kernel", *common, "--out", tmp_path / "k.nc")
    assert ra.exit_code == 0 and rk.exit_code == 0, (ra.output, rk.output)
    a, k = (xr.open_dataset(tmp_path / f) for f in ("a.nc", "k.nc"))
    assert a.attrs["engine"] == "agents" and k.attrs["engine"] == "kernel"
    assert set(a.data_vars) == set(k.data_vars)
    for v in a.data_vars:
        assert a[v].dims == k[v].dims and a[v].shape == k[v].shape, v
        assert a[v].attrs.get("units") == k[v].attrs.get("units"), v


def test_run_invalid_scenario_one_line_per_problem(tmp_path, bad_scenario):
    r = invoke("run", bad_scenario, "--out", tmp_path / "x.nc", "-q")
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 3, r.stderr


# --------------------------------------------------------------------------------------------------
# levers

def test_levers_lists_the_plugins():
    r = invoke("levers")
    assert r.exit_code == 0, r.output
    for name in ("retention", "training_places"):
        assert name in r.stdout
    for param in ("leave_rate_multiplier", "profession", "programme", "change"):
        assert param in r.stdout
    assert "area" in r.stdout and "levels" in r.stdout


def test_no_arguments_shows_help():
    r = invoke()
    assert "validate" in r.output and "run" in r.output and "levers" in r.output


# --------------------------------------------------------------------------------------------------
# recruitment capacity: bad input names the field
@pytest.mark.parametrize("command", ["validate", "run"])
def test_negative_recruitment_capacity_exits_2_naming_the_field(tmp_path, example_data, command):
    example_data["professions"]["registered_nurse"]["recruitment"]["capacity_per_month"] = -5
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(example_data, sort_keys=False), encoding="utf-8")
    extra = ["--out", tmp_path / "x.nc", "-q"] if command == "run" else []
    r = invoke(command, path, *extra)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "professions.registered_nurse.recruitment.capacity_per_month" in lines[0]
    assert "from 0 to" in lines[0] and "-5" in lines[0]
    assert not (tmp_path / "x.nc").exists()


def test_run_with_a_recruitment_capacity(tmp_path):
    r = invoke("run", ROOT / "configs" / "analytic" / "recruitment_capacity.yaml", "-n", "4", "--years", "1",
               "--out", tmp_path / "x.nc", "-q")
    assert r.exit_code == 0, r.output
    ds = xr.open_dataset(tmp_path / "x.nc")
    starts = ds.joiners.sel(profession="nurse", source=["international", "return_to_practice", "domestic"])
    assert (starts.sum(["place", "source"]) == 30).all()
