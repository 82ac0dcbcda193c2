"""Running big geographies: replicates simulated a few at a time give the same arrays as all at once, the
time and area roll-ups may be taken in either order for stocks and counts, and an experiment by ICS gives
bit-identical stores on local worker processes and on a Dask LocalCluster with 1 or 2 workers (the
national analytic config here; England in the slow test and benchmarks/england.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sim
from sim.experiments.runner import run_experiment
from sim.experiments.spec import load_experiment
from sim.model.compile import compile_plan
from sim.results.dataset import DIMS, STOCKS, aggregate, to_level
from sim.results.levels import roll_up
from sim.runs import simulation
from sim.vocabulary import STORE

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "configs" / "analytic" / "national.yaml"
ENGLAND = ROOT / "configs" / "england.yaml"


def test_chunk_size_follows_the_providers():
    small = simulation.chunk_size(compile_plan(sim.load_scenario(NATIONAL)))
    england = simulation.chunk_size(compile_plan(sim.load_scenario(ENGLAND)))
    assert small >= 250 > england >= 4


@pytest.mark.parametrize("every,level", [("month", "provider"), ("year", "ics"), ("quarter", "nation")])
def test_replicates_in_chunks_give_the_arrays_of_one_chunk(monkeypatch, every, level):
    scenario = sim.load_scenario(NATIONAL)
    _, whole = simulation.simulate_replicates(scenario, range(3, 12), 7, every=every, level=level)
    monkeypatch.setattr(simulation, "CHUNK_BYTES", 1)          # 4 replicates a chunk
    assert simulation.chunk_size(compile_plan(scenario)) == 4
    _, chunked = simulation.simulate_replicates(scenario, range(3, 12), 7, every=every, level=level)
    assert whole.keys() == chunked.keys()
    for k in whole:
        assert whole[k].dtype == chunked[k].dtype and np.array_equal(whole[k], chunked[k]), k


def test_time_first_roll_up_is_the_same_as_areas_first():
    """to_level coarsens stocks and counts in time before summing areas: the same numbers, bit for bit."""
    scenario = sim.load_scenario(NATIONAL)
    plan = compile_plan(scenario)
    from sim.demand.draws import demand_draws
    from sim.engines import simulator
    from sim.runs.lever_costs import outcomes

    reps = np.arange(3)
    demand_side = demand_draws(plan, reps, 1)
    values = outcomes(plan, simulator("kernel")(plan, reps, 1, funded_posts=demand_side["funded_posts"]), demand_side)
    for every in ("quarter", "year"):
        areas_first = aggregate(roll_up(plan, values, DIMS, "ics"), every, time_axis=1)
        fast = to_level(plan, values, "ics", every, time_axis=1)
        assert any(k in STOCKS for k in fast) and any(fast[k].dtype.kind == "i" for k in fast)
        for k in values:
            assert fast[k].dtype == areas_first[k].dtype and np.array_equal(fast[k], areas_first[k]), k


def experiment(tmp_path: Path, scenario: Path, replicates: int, block: int, **extra) -> Path:
    import yaml

    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({
        "name": "scale", "question": "Does the backend change results?", "scenario": str(scenario),
        "replicates": replicates, "seed": 3, "every": "year", "level": "ics", "block": block,
        "baseline": "baseline", "variants": {"baseline": {}}, **extra}))
    return path


def data_vars_identical(a: Path, b: Path) -> None:
    x, y = xr.open_zarr(a / STORE), xr.open_zarr(b / STORE)
    assert set(x.data_vars) == set(y.data_vars)
    for k in x.data_vars:
        assert x[k].dtype == y[k].dtype and np.array_equal(x[k].values, y[k].values, equal_nan=True), k


@pytest.fixture(scope="module")
def local_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    exp = load_experiment(experiment(tmp, NATIONAL, 12, 3))
    info = run_experiment(exp, tmp / "local", workers=2)
    assert info["backend"] == "local processes"
    return exp, tmp / "local"


@pytest.mark.parametrize("workers", [1, 2])
def test_dask_local_cluster_by_ics_is_bit_identical_to_local_processes(local_store, tmp_path, workers):
    pytest.importorskip("dask.distributed")
    exp, local = local_store
    info = run_experiment(exp, tmp_path / "dask", workers=workers, dask="local")
    assert info["backend"] == "dask local" and info["workers"] == workers
    data_vars_identical(local, tmp_path / "dask")
    assert "ics" in xr.open_zarr(tmp_path / "dask" / STORE).dims


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_england_on_dask_is_bit_identical_to_local_processes(tmp_path, workers):
    """England (530 providers, 15 years) by ICS: 8 replicates in blocks of 2."""
    pytest.importorskip("dask.distributed")
    exp = load_experiment(experiment(tmp_path, ENGLAND, 8, 2))
    run_experiment(exp, tmp_path / "local", workers=2)
    run_experiment(exp, tmp_path / "dask", workers=workers, dask="local")
    data_vars_identical(tmp_path / "local", tmp_path / "dask")
