"""Experiments (sim/experiments): the grid, the resumable zarr runner, backends, and paired comparison."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.experiments import blocks, comparison, load_experiment, open_experiment, run_experiment
from sim.experiments.runner import MANIFEST, STORE
from sim.scenario import ScenarioError

# a value written into a store of another type is a silent loss of data (e.g. pence dropped): fail instead
pytestmark = pytest.mark.filterwarnings("error::xarray.SerializationWarning")
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"


def experiment_data(**over) -> dict:
    data = {
        "name": "small", "question": "Do more nursing places or slower leaving shrink the gap by 2029?",
        "scenario": str(EXAMPLE), "replicates": 12, "seed": 5, "years": 3, "every": "year", "block": 4,
        "variants": {
            "baseline": {},
            "more_places": {"levers": [{"lever": "training_places", "id": "extra", "programme": "nursing_degree",
                                        "change": 0.3, "from": "2026-09"}]},
            "slower_leaving": {"set": {"professions.registered_nurse.leave_rate": 0.07}},
        },
        "futures": {"central": {}, "high_growth": {"set": {"professions.registered_nurse.demand.growth": 0.03}}},
        "compare": {"professions": ["registered_nurse"], "at": ["2028-03", "2029-03"]},
    }
    data.update(over)
    return data


def write(tmp_path: Path, data: dict, name: str = "exp.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def loaded(path: Path) -> xr.Dataset:
    ds = open_experiment(path).load()
    for key in ("created", "experiment_file"):     # when it ran, and how the file was named
        ds.attrs.pop(key)
    return ds


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the small experiment (one process)."""
    out = tmp_path_factory.mktemp("ref")
    exp = load_experiment(experiment_data())
    run_experiment(exp, out, workers=1)
    return exp, out, loaded(out)


# --- the grid -------------------------------------------------------------------------------------

def test_grid_labels_and_overrides():
    exp = load_experiment(experiment_data())
    assert [r.label for r in exp.runs] == ["baseline@central", "baseline@high_growth", "more_places@central",
                                          "more_places@high_growth", "slower_leaving@central",
                                          "slower_leaving@high_growth"]
    by = {r.label: r.scenario for r in exp.runs}
    assert by["slower_leaving@high_growth"].professions["registered_nurse"].leave_rate == 0.07
    assert by["slower_leaving@high_growth"].professions["registered_nurse"].demand.growth == 0.03
    assert by["baseline@central"].professions["registered_nurse"].demand.growth == 0.012
    assert len(by["more_places@central"].levers) == len(by["baseline@central"].levers) + 1
    assert all(r.scenario.years == 3 for r in exp.runs)
    assert len(blocks(exp)) == 6 * 3


def test_lever_costs_keep_their_pence_when_the_first_run_has_no_levers(tmp_path):
    """The store's lever variables are floats even if the baseline (the template's probe) has no levers."""
    data = experiment_data(futures={}, replicates=4, variants={
        "baseline": {"set": {"levers": []}},
        "retain": {"set": {"levers": []}, "levers": [{"lever": "retention", "id": "keep",
                                                      "profession": "registered_nurse", "leave_rate_multiplier": 0.9,
                                                      "cost_per_head_per_year": 123.45}]}})
    exp = load_experiment(data)
    run_experiment(exp, tmp_path, workers=1)
    ds = open_experiment(tmp_path).load()
    one = sim.run(exp.runs[1].scenario, replicates=4, seed=5, every="year")
    assert ds.lever_cost.dtype == np.float64 and ds.lever_scale.dtype == np.float32
    np.testing.assert_array_equal(ds.lever_cost.sel(scenario="retain").values, one.lever_cost.values)
    assert float(ds.lever_cost.sel(scenario="baseline").sum()) == 0.0


def test_one_future_labels_runs_by_variant():
    exp = load_experiment(experiment_data(futures={}))
    assert [r.label for r in exp.runs] == ["baseline", "more_places", "slower_leaving"]


@pytest.mark.parametrize("change, field", [
    ({"baseline": "nothing"}, "baseline"),
    ({"replicates": 0}, "replicates"),
    ({"colour": "blue"}, "colour"),
    ({"every": "week"}, "every"),
    ({"variants": {"baseline": {"set": {"professions.midwife.leave_rate": 0.1}}}}, "variants.baseline.set"),
    ({"variants": {"baseline": {}, "x": {"set": {"professions.registered_nurse.leave_rate": 7}}}}, "leave_rate"),
    ({"variants": {"baseline": {}, "x": {"plans": ["no/such/plan.yaml"]}}}, "variants.x.plans.0"),
    ({"variants": {"baseline": {}, "x": {"levers": [{"lever": "no_such_lever"}]}}}, "levers"),
    ({"compare": {"professions": ["midwife"]}}, "compare.professions.0"),
    ({"scenario": "missing.yaml"}, "scenario"),
])
def test_bad_experiment_names_the_field(change, field, tmp_path):
    with pytest.raises(ScenarioError) as e:
        load_experiment(experiment_data(**change))
    assert field in str(e.value)
    result = CliRunner().invoke(app, ["experiment", str(write(tmp_path, experiment_data(**change)))])
    assert result.exit_code == 2 and field in result.output and "Traceback" not in result.output


def test_variants_must_share_the_store_layout():
    data = experiment_data(variants={"baseline": {}, "x": {"set": {"geography.places.0.name": "Elsewhere"}}})
    with pytest.raises(ScenarioError, match="places"):
        load_experiment(data)


# --- the runner -----------------------------------------------------------------------------------

def test_store_holds_exactly_what_sim_run_gives(reference):
    """Blocks of replicates, run by run, reproduce whole-run results bit for bit (same seed, replicates)."""
    exp, _, ds = reference
    assert ds.sizes["scenario"] == 6 and ds.sizes["replicate"] == 12
    for r in (exp.runs[0], exp.runs[3]):
        one = sim.run(r.scenario, replicates=12, seed=5, every="year")
        got = ds.sel(scenario=r.label).reindex(lever=one.lever.values)
        for name in ("headcount", "joiners", "leavers", "gap_fte", "cost", "trainees", "lever_cost"):
            np.testing.assert_array_equal(got[name].values, one[name].values, err_msg=name)
        np.testing.assert_array_equal(got.population.values, one.population.values)
    # a lever absent from a run costs nothing there
    assert float(ds.lever_cost.sel(scenario="baseline@central", lever=[l for l in ds.lever.values
                                                                       if "extra" in l]).sum()) == 0
    assert ds.attrs["baseline"] == "baseline" and ds.attrs["experiment_name"] == "small"
    assert list(ds.variant.values[:2]) == ["baseline", "baseline"]


def test_resume_after_interrupt_at_every_point_is_identical(reference, tmp_path):
    exp, _, ref = reference
    total = len(blocks(exp))
    for stop_after in (1, 7, total - 1):
        out = tmp_path / f"stop{stop_after}"
        seen = []

        def interrupt(block):
            seen.append(block.index)
            if len(seen) == stop_after:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            run_experiment(exp, out, workers=1, on_block=interrupt)
        assert len(json.loads((out / MANIFEST).read_text())["done"]) == stop_after
        info = run_experiment(exp, out, workers=1)
        assert info["computed"] == total - stop_after and info["resumed_from"] == stop_after
        xr.testing.assert_identical(loaded(out), ref)


def test_half_written_block_is_redone(reference, tmp_path):
    """A block whose region was (partly) written but never recorded is computed and written again."""
    import zarr

    exp, _, ref = reference
    out = tmp_path / "half"

    def stop(block):
        if block.index == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(exp, out, workers=1, on_block=stop)
    nxt = blocks(exp)[5]                          # not recorded: garble its region as a crash mid-write would
    store = zarr.open_group(str(out / STORE), mode="r+")
    store["headcount"][nxt.run, nxt.lo:nxt.hi] = -1
    run_experiment(exp, out, workers=1)
    xr.testing.assert_identical(loaded(out), ref)


def test_killed_process_resumes_identically(reference, tmp_path):
    """SIGKILL of the real command while blocks are being written; the same command then finishes."""
    exp, _, ref = reference
    path = write(tmp_path, experiment_data())
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim.cli", "experiment", str(path), "--out", str(out), "--workers", "1", "-q"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        m = (out / MANIFEST)
        if m.exists() and len(json.loads(m.read_text() or "{}").get("done", {})) >= 3:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(json.loads((out / MANIFEST).read_text())["done"])
    assert done < len(blocks(exp)), "the run finished before it could be killed"
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"resumed with {done} blocks already done" in result.stdout
    xr.testing.assert_identical(loaded(out), ref)


def test_worker_processes_give_the_same_store(reference, tmp_path):
    exp, _, ref = reference
    run_experiment(exp, tmp_path / "two", workers=2)
    xr.testing.assert_identical(loaded(tmp_path / "two"), ref)


def test_dask_local_cluster_gives_the_same_store(reference, tmp_path):
    pytest.importorskip("dask.distributed")
    exp, _, ref = reference
    info = run_experiment(exp, tmp_path / "dask", workers=2, dask="local")
    assert info["backend"] == "dask local"
    xr.testing.assert_identical(loaded(tmp_path / "dask"), ref)


def test_changed_experiment_is_not_mixed_into_old_results(reference, tmp_path):
    exp, out, _ = reference
    changed = load_experiment(experiment_data(seed=6))
    with pytest.raises(ScenarioError, match="different experiment"):
        run_experiment(changed, out, workers=1)


# --- comparison -----------------------------------------------------------------------------------

def test_paired_differences_equal_hand_computation(reference):
    exp, _, ds = reference
    table = comparison(ds)
    assert set(table.year) == {"2028-03", "2029-03"}
    assert set(table.profession) == {"registered_nurse", "all professions"}
    # one profession in this scenario: the whole workforce's rows are the nurses' rows
    rn, total = (table[table.profession == p].set_index(["scenario", "year"]).sort_index()
                 for p in ("registered_nurse", "all professions"))
    np.testing.assert_allclose(total[["gap_p50", "reduction_p5", "extra_cost_p95"]].values,
                               rn[["gap_p50", "reduction_p5", "extra_cost_p95"]].values, rtol=1e-5)
    row = table[(table.scenario == "more_places@high_growth") & (table.year == "2029-03")].iloc[0]
    assert row.baseline == "baseline@high_growth"
    t = 2                                          # yearly output: the third plan year ends 2029-03
    gap = ds.gap_fte.sel(profession="registered_nurse").sum("place").isel(time=t)
    red = gap.sel(scenario="baseline@high_growth").values - gap.sel(scenario="more_places@high_growth").values
    spend = ds.cost.sum("kind").isel(time=slice(0, t + 1)).sum("time")
    extra = (spend.sel(scenario="more_places@high_growth") - spend.sel(scenario="baseline@high_growth")).values / 1e6
    assert row.reduction_p50 == pytest.approx(np.median(red), rel=1e-6)
    assert row.reduction_p5 == pytest.approx(np.percentile(red, 5), rel=1e-6)
    assert row.extra_cost_p95 == pytest.approx(np.percentile(extra, 95), rel=1e-6)
    assert row.p_smaller_gap == pytest.approx(np.mean(red > 0))
    if np.percentile(red, 5) > 0:          # £ per FTE closed only where the gap shrinks in ≥ 95% of replicates
        assert row.cost_per_fte_closed == pytest.approx(np.median(extra) * 1e6 / np.median(red), rel=1e-6)
    else:
        assert np.isnan(row.cost_per_fte_closed)
    base = table[table.scenario == table.baseline]
    assert (base.reduction_p50 == 0).all() and (base.extra_cost_p50 == 0).all()
    # slower leaving shrinks the gap in every replicate: pairing removes the noise the futures share
    slower = table[(table.scenario == "slower_leaving@central") & (table.year == "2029-03")].iloc[0]
    assert slower.p_smaller_gap == 1.0 and slower["rank"] == 1
    assert slower.cost_per_fte_closed == pytest.approx(slower.extra_cost_p50 * 1e6 / slower.reduction_p50)
    ranks = table[(table.future == "central") & (table.year == "2029-03")].sort_values("rank")
    assert list(ranks.reduction_p50) == sorted(ranks.reduction_p50, reverse=True)


def test_cli_writes_store_comparison_and_table(tmp_path):
    path = write(tmp_path, experiment_data(futures={}, replicates=8))
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["experiment", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert (out / STORE).is_dir() and (out / "comparison.csv").is_file()
    assert "reduction" in result.output and "slower_leaving" in result.output, result.output
    again = CliRunner().invoke(app, ["experiment", str(path), "--out", str(out), "--workers", "1", "-q"])
    assert again.exit_code == 0 and "all 6 blocks were already in the store" in again.output


# --- report ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["html", "md"])
def test_report_holds_question_table_figures_provenance_and_stress(reference, fmt, tmp_path):
    import shutil

    exp, out, ds = reference
    folder = tmp_path / "rep"
    shutil.copytree(out, folder)
    result = CliRunner().invoke(app, ["report", str(folder), "--format", fmt])
    assert result.exit_code == 0, result.output
    path = folder / f"report.{fmt}"
    text = path.read_text(encoding="utf-8")
    assert exp.spec.question in text
    for r in exp.runs:                       # every run's provenance hash is in the report
        assert r.sha256[:16] in text
    for item in ("1.1 Purpose of the model", "4.3 Estimation approach", "5.2 Random sampling",
                 "6.1 Computer model sharing"):
        assert item in text
    table = comparison(ds)
    row = table[(table.scenario == "slower_leaving@central") & (table.year == "2029-03")].iloc[0]
    assert f"{row.reduction_p50:,.0f} ({row.reduction_p5:,.0f} to {row.reduction_p95:,.0f})" in text
    pngs = sorted((folder / "figures").glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    if fmt == "html":
        assert text.count("data:image/png;base64,") == len(pngs) and "<table>" in text
    else:
        assert all(f"figures/{p.name}" in text for p in pngs)


def test_report_of_a_folder_without_results_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "no experiment results" in result.output
    result = CliRunner().invoke(app, ["report", str(tmp_path), "--format", "pdf"])
    assert result.exit_code == 2 and "--format" in result.output


@pytest.mark.slow
def test_runner_memory_does_not_grow_with_the_number_of_runs():
    """Peak RSS of the whole runner (one process) with 6 runs is within 10% of that with 2 runs."""
    from benchmarks.experiments import measure

    two, six = measure(2, 40, 20), measure(6, 40, 20)
    assert six["store_mb"] > 2.5 * two["store_mb"]          # three times the results went through it
    assert six["peak_rss_mb"] < 1.10 * two["peak_rss_mb"]
