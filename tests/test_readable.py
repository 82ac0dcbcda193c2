"""Readable output: terminal tables at 80 columns, the summary CSV, progress per block of replicates,
the compiling notice, default output names and quick start-up."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from rich.console import Console
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.results.summary import SUMMARY_COLUMNS, summary_frame, summary_rows

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
BASELINE = ROOT / "configs" / "baseline_ics.yaml"
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def render(table, width: int = 80) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(table)
    return console.file.getvalue()


def assert_fits(text: str, names, numbers, width: int = 80) -> None:
    """No line wider than the terminal, nothing cut with an ellipsis, every name and number whole on a line."""
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, max(lines, key=len)
    assert "…" not in text and "..." not in text
    words = {w for line in lines for w in re.split(r"[\s│┃|]+", line) if w}
    for name in names:
        assert name in words, f"{name!r} cut or missing"
    found = {m for line in lines for m in NUMBER.findall(line)}
    for number in numbers:
        assert number in found, f"{number} cut or missing"


@pytest.fixture(scope="module")
def baseline_run():
    """The full baseline (nine staff groups, five goals) for three years: a wide summary."""
    scn = sim.load_scenario(BASELINE)
    return scn, sim.run(scn, replicates=8, seed=3, years=3)


def test_run_tables_fit_80_columns_and_cut_nothing(baseline_run):
    from sim.cli.simulation import print_run_tables

    scn, ds = baseline_run
    console = Console(width=80, file=io.StringIO(), color_system=None)
    print_run_tables(ds, scn.goals, Path("results/x.summary.csv"), console=console)
    text = console.file.getvalue()
    frame = summary_frame(ds)
    medians = frame.sel(quantile=0.5)
    numbers = [f"{v:,.0f}" for var in ("supply", "demand", "gap") for v in medians[var].values.ravel()]
    numbers += [f"{v:,.0f}" for q in (0.05, 0.95) for v in frame["gap"].sel(quantile=q).values.ravel()]
    names = [str(p) for p in ds.profession.values] + ["results/x.summary.csv", "agency_bank"]
    assert_fits(text, names, numbers)
    assert "every percentile of each quantity: results/x.summary.csv" in " ".join(text.split())
    words = set(text.split())
    for goal in scn.goals:       # goal names wrap at words, never cut
        assert set(goal.name.split()) <= words, goal.name


def test_wide_terminal_keeps_the_wide_layout(baseline_run):
    from sim.cli.simulation import print_run_tables

    scn, ds = baseline_run
    console = Console(width=400, file=io.StringIO(), color_system=None)
    print_run_tables(ds, scn.goals, None, console=console)
    text = console.file.getvalue()
    row = summary_frame(ds)["gap"].isel(time=0, profession=0).values
    assert f"{row[1]:,.0f} ({row[0]:,.0f} to {row[2]:,.0f})" in text and "year end" in text


def test_levers_listing_fits_80_columns():
    from sim.cli.scenarios import levers_table
    from sim.levers import Lever, registry

    text = render(levers_table())
    params = [k for cls in registry().values() for k in cls.model_fields if k not in Lever.model_fields]
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in text
    for name in list(registry()) + params:
        assert re.search(rf"(^|[\s│]){re.escape(name)}(:|\s|$)", text, re.M), f"{name} cut or missing"


@pytest.fixture(scope="module")
def comparison_table_frame(tmp_path_factory):
    from sim.experiments import comparison, load_experiment, open_experiment, run_experiment
    from tests.test_experiments import experiment_data

    out = tmp_path_factory.mktemp("cmp")
    data = experiment_data(replicates=6, block=3)
    data["variants"]["a_much_longer_variant_name_for_the_table"] = data["variants"].pop("slower_leaving")
    run_experiment(load_experiment(data), out, workers=1)
    return comparison(open_experiment(out))


def test_comparison_with_zero_demand_gives_no_share_and_no_warning(comparison_table_frame, tmp_path):
    import warnings

    from sim.experiments import comparison, load_experiment, open_experiment, run_experiment
    from tests.test_experiments import experiment_data

    data = experiment_data(replicates=2, block=2, futures={})
    data["variants"] = {"baseline": {}, "no_demand": {"set": {"professions.registered_nurse.demand": {
        "fte_per_1000_population": 0}}}}
    run_experiment(load_experiment(data), tmp_path, workers=1)
    ds = open_experiment(tmp_path).load()
    ds["demand_fte"][:] = 0                                   # no demand anywhere, in every run
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = comparison(ds)
    assert table.gap_share_p50.isna().all() and table.gap_p50.notna().all()


def test_experiment_comparison_fits_80_columns(comparison_table_frame):
    from sim.cli.experiments import print_comparison

    table = comparison_table_frame
    console = Console(width=80, file=io.StringIO(), color_system=None)
    print_comparison(table, Path("results/small/comparison.csv"), console=console)
    text = console.file.getvalue()
    numbers = [f"{v:,.0f}" for v in table.gap_p50] + [f"{v:,.0f}" for v in table.gap_p95]
    numbers += [f"{v:,.1f}" for v in table[table.scenario != table.baseline].extra_cost_p50]
    assert_fits(text, list(table.scenario.unique()) + ["results/small/comparison.csv"], numbers)


def test_summary_csv_is_tidy_and_matches_the_dataset(baseline_run):
    _, ds = baseline_run
    rows = summary_rows(ds)
    assert tuple(rows.columns) == SUMMARY_COLUMNS
    assert set(rows.statistic) == {"p5", "median", "p95"}
    assert set(rows.quantity) == {"effective_fte", "demand_fte", "gap_fte", "vacancy_rate"}
    assert list(rows.plan_year.unique()) == ["2026/27", "2027/28", "2028/29"]
    assert list(rows.month.unique()) == ["2027-03", "2028-03", "2029-03"]
    one = rows[(rows.profession == "gp") & (rows.month == "2028-03") & (rows.quantity == "gap_fte")]
    gp = ds.gap_fte.sel(profession="gp").sum("place").sel(time="2028-03").squeeze()
    assert one.set_index("statistic").value.to_dict() == pytest.approx(
        {"p5": float(gp.quantile(0.05)), "median": float(gp.median()), "p95": float(gp.quantile(0.95))})
    assert (rows[rows.quantity == "vacancy_rate"].unit == "share of funded posts").all()


def test_run_writes_the_summary_csv_beside_the_dataset(tmp_path):
    out = tmp_path / "r.nc"
    result = CliRunner().invoke(app, ["run", str(EXAMPLE), "-n", "3", "--years", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    csv = tmp_path / "r.summary.csv"
    rows = pd.read_csv(csv)
    ds = xr.load_dataset(out)
    assert len(rows) == 2 * ds.sizes["profession"] * 4 * 3
    assert f"wrote {csv}" in result.output
    csv.write_text("my own notes\n", encoding="utf-8")           # a file wfsim did not write is never replaced
    again = CliRunner().invoke(app, ["run", str(EXAMPLE), "-n", "3", "--years", "2", "--out", str(out)])
    assert again.exit_code == 2 and "not a wfsim run summary" in again.output
    assert csv.read_text(encoding="utf-8") == "my own notes\n"


def test_default_names_carry_plans_and_a_non_default_engine():
    from sim.cli.simulation import default_output, summary_path

    assert default_output("x", "kernel", ()) == Path("results/x.nc")
    assert default_output("x", "agents", ()) == Path("results/x+agents.nc")
    assert default_output("x", "agents", [Path("train")]) == Path("results/x+train+agents.nc")
    assert summary_path(Path("results/x+agents.nc")) == Path("results/x+agents.summary.csv")
    assert summary_path(Path("out/data.h5")) == Path("out/data.h5.summary.csv")


# --- progress and compiling ----------------------------------------------------------------------

@pytest.mark.parametrize("n, parallel, block", [(1000, 1, 50), (1000, 2, 50), (6000, 2, 250), (20, 2, 2),
                                                 (7, 1, 1), (3, 16, 16), (100, 1, 5)])
def test_progress_block(n, parallel, block):
    assert sim.runs.progress_block(n, parallel) == block


def test_progress_moves_per_block_and_batching_never_changes_results():
    calls = []
    ds = sim.run(EXAMPLE, replicates=40, seed=11, years=2, progress=lambda done, total: calls.append((done, total)))
    assert [d for d, _ in calls] == list(range(2, 41, 2)) and {t for _, t in calls} == {40}
    for batch in (1, 7, 250):
        other = sim.run(EXAMPLE, replicates=40, seed=11, years=2, batch_size=batch)
        for name in ds.data_vars:
            np.testing.assert_array_equal(ds[name].values, other[name].values, err_msg=name)


def _run_stderr(monkeypatch, compiled: bool, *args) -> str:
    import sim.engines

    monkeypatch.setattr(sim.engines, "kernel_compiled", lambda: compiled)
    result = CliRunner().invoke(app, ["run", str(EXAMPLE), "-n", "2", "--years", "1", *args])
    assert result.exit_code == 0, result.output
    return result.stderr


def test_first_run_says_it_is_compiling(monkeypatch, tmp_path):
    from sim.cli.simulation import COMPILING

    out = ["--out", str(tmp_path / "r.nc")]
    assert COMPILING in _run_stderr(monkeypatch, False, *out)
    assert COMPILING not in _run_stderr(monkeypatch, True, *out)
    assert COMPILING not in _run_stderr(monkeypatch, False, *out, "-q")


def test_compiled_cache_is_seen_warm_or_cold(tmp_path):
    sim.run(EXAMPLE, replicates=1, seed=1, years=1)          # compiled (or loaded) in this process: on disk now
    code = "from sim.engines import kernel_compiled; print(kernel_compiled())"
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert warm.stdout.strip() == "True", warm.stderr
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path)}     # an empty cache
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert cold.stdout.strip() == "False", cold.stderr


def test_commands_import_nothing_heavy():
    code = ("import sys, sim.cli.commands; print(sorted(m for m in ('numba', 'xarray', 'matplotlib', 'pandas', 'numpy', 'pydantic', "
            "'scipy', 'mesa', 'simpy', 'h5py', 'zarr') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and json.loads(out.stdout.replace("'", '"')) == [], out.stdout + out.stderr


# --- the web app's server ends with the command --------------------------------------------------

def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    return [int(c) for t in tasks.iterdir() for c in (t / "children").read_text().split()] if tasks.is_dir() else []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_app_server_ends_with_the_command(how, tmp_path):
    import signal
    import socket
    import time

    pytest.importorskip("streamlit")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "app", "--no-browser", "--port", str(port),
                             "--address", "127.0.0.1"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while not _children(proc.pid) and time.monotonic() < end:
            time.sleep(0.2)
        (child,) = _children(proc.pid)
        time.sleep(1.0)                                          # the server is starting (or up)
        proc.send_signal(getattr(signal, how))
        proc.wait(30)
        end = time.monotonic() + 20
        while _alive(child) and time.monotonic() < end:
            time.sleep(0.2)
        assert not _alive(child), f"streamlit ({child}) outlived wfsim app after {how}"
        if how == "SIGTERM":
            assert proc.returncode == 130
    finally:
        for pid in [proc.pid] + _children(proc.pid):
            if _alive(pid):
                os.kill(pid, 9)


# --- wfsim init ---------------------------------------------------------------------------------

def _uncomment_levers(text: str) -> str:
    head, tail = text.split("\n# levers:\n")
    return head + "\nlevers:\n" + "\n".join(line[2:] if line.startswith("# ") else line for line in tail.splitlines())


def test_init_writes_a_starter_that_validates_and_runs(tmp_path):
    path = tmp_path / "my area.yaml"
    result = CliRunner().invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.count("\n#") > 10 and "Nuffield Trust" in text and "lever: retention" in text
    assert CliRunner().invoke(app, ["validate", str(path)]).output.strip() == "valid"
    scn = sim.load_scenario(path)
    assert scn.name == "my-area" and len(scn.geography.places) == 2 and len(scn.professions) == 2
    assert len(scn.goals) == 1 and not scn.levers
    base = sim.run(scn, replicates=4, seed=2, years=3)
    assert float(base.gap_fte.sel(profession="registered_nurse").isel(time=-1).sum("place").median()) > 0
    with_levers = tmp_path / "levers.yaml"
    with_levers.write_text(_uncomment_levers(text), encoding="utf-8")
    scn2 = sim.load_scenario(with_levers)
    assert [lv.lever for lv in scn2.levers] == ["retention", "training_places"]
    run2 = sim.run(scn2, replicates=4, seed=2, years=3)       # the levers narrow the nurse gap (same replicates)
    gap = lambda ds: ds.gap_fte.sel(profession="registered_nurse").isel(time=-1).sum("place")  # noqa: E731
    assert (gap(run2) < gap(base)).all()


def test_init_never_replaces_a_file(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", str(path)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert path.read_text(encoding="utf-8") == "mine\n"
    bad = CliRunner().invoke(app, ["init", str(path / "x.yaml")])       # a folder that is a file
    assert bad.exit_code == 2 and "x.yaml" in bad.output or str(path) in bad.output


def test_experiment_says_it_is_compiling_on_a_cold_cache(monkeypatch, tmp_path):
    import sim.engines
    from sim.cli.simulation import COMPILING
    from tests.test_experiments import experiment_data, write

    path = write(tmp_path, experiment_data(futures={}, replicates=2, block=2, years=1,
                                           compare={"professions": ["registered_nurse"], "at": ["2027-03"]}))
    for compiled, said in ((False, True), (True, False)):
        monkeypatch.setattr(sim.engines, "kernel_compiled", lambda compiled=compiled: compiled)
        r = CliRunner().invoke(app, ["experiment", str(path), "--out", str(tmp_path / f"o{compiled}"), "--workers", "1"])
        assert r.exit_code == 0, r.output
        assert (COMPILING in r.stderr) is said
