"""What an experiment's driver hands its workers: the kernel's threads per worker (never a change of
results) and budget control's factors (worked out once in the driver, used as given by every worker)."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import sim
from sim.experiments import load_experiment, run_experiment
from sim.experiments.runner import STORE, compute_block
from sim.runs.budgets import budget_control

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
BUDGETS = ROOT / "configs" / "analytic" / "budgets.yaml"


def experiment(scenario: Path, **over) -> dict:
    data = {"name": "threads", "question": "Does the thread count change anything?", "scenario": str(scenario),
            "replicates": 8, "seed": 11, "years": 3, "every": "year", "block": 4,
            "variants": {"baseline": {}}}
    data.update(over)
    return data


def stored(folder: Path) -> dict[str, np.ndarray]:
    ds = xr.open_zarr(folder / STORE)
    return {k: ds[k].values for k in ds.data_vars}


def test_one_or_two_kernel_threads_per_worker_give_the_same_store(tmp_path):
    exp = load_experiment(experiment(EXAMPLE))
    one = run_experiment(exp, tmp_path / "one", workers=1, threads=1)
    two = run_experiment(exp, tmp_path / "two", workers=1, threads=2)
    assert (one["threads"], two["threads"]) == (1, 2)
    a, b = stored(tmp_path / "one"), stored(tmp_path / "two")
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k], equal_nan=True), k


def test_by_default_the_cores_are_shared_out_over_the_workers(tmp_path):
    import os

    exp = load_experiment(experiment(EXAMPLE))
    info = run_experiment(exp, tmp_path / "out", workers=1)
    assert info["threads"] == max(1, os.cpu_count() or 1)


def test_a_worker_uses_the_budget_control_it_is_handed():
    """Handed other factors than its own projections would give, a block follows them: the driver's factors,
    not a worker's own repeat of the projections, set the levers' size."""
    scenario = sim.load_scenario(BUDGETS)
    own = budget_control(scenario)
    assert own is not None and (own.scale < 1).any()        # the analytic config is over budget in one year
    handed = copy.deepcopy(own)
    handed.scale = np.full_like(own.scale, 0.25)
    data = yaml.safe_load(BUDGETS.read_text())
    try:
        ds = compute_block(data, scenario.years, 0, 2, 7, "kernel", "month", 1, "place", handed)
        assert np.all(ds.budget_scale.values == np.float32(0.25))
    finally:
        from sim.runs import budgets, simulation

        budgets._CACHE.clear()               # the rest of the session works its factors out again
        simulation._PLANS.clear()
    ds = compute_block(data, scenario.years, 0, 2, 7, "kernel", "month", 1, "place", None)
    np.testing.assert_array_equal(ds.budget_scale.values[0], own.scale.astype(np.float32))


def test_budgeted_experiment_on_two_workers_matches_one(tmp_path):
    exp = load_experiment(experiment(BUDGETS, replicates=4, block=2))
    run_experiment(exp, tmp_path / "one", workers=1)
    run_experiment(exp, tmp_path / "two", workers=2)
    a, b = stored(tmp_path / "one"), stored(tmp_path / "two")
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), k
    assert (a["budget_scale"] < 1).any()
