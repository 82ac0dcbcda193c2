"""Shared test helpers: statistical comparison of Monte Carlo means with a reference; the three engines on one
scenario; the same kernel run on one thread and on two."""
from __future__ import annotations

import numba
import numpy as np


def assert_mean_within(samples: np.ndarray, reference: np.ndarray, n_se: float = 4.0, atol: float = 1e-6,
                       what: str = "") -> None:
    """Replicate mean (axis 0) within n_se standard errors (+atol) of reference."""
    samples = np.asarray(samples, float)
    mean = samples.mean(axis=0)
    n = samples.shape[0]
    se = samples.std(axis=0, ddof=1) / np.sqrt(n)
    # a rare event no replicate happened to see: its count's standard error is at least Poisson's
    se = np.where(se == 0, np.sqrt(np.abs(reference) / n), se)
    bad = np.abs(mean - reference) > n_se * se + atol
    if bad.any():
        idx = np.argwhere(bad)[:5]
        detail = "; ".join(f"{tuple(i)}: mean {mean[tuple(i)]:.4g} vs {reference[tuple(i)]:.4g} "
                           f"(se {se[tuple(i)]:.3g})" for i in idx)
        raise AssertionError(f"{what}: {bad.sum()} of {bad.size} cells beyond {n_se} SE: {detail}")


def three_engines(scenario, variables, *, seed: int, kernel_replicates: int = 200, agent_replicates: int = 30,
                  agent_workers: int = 1, n_se: float = 4.0, **output) -> tuple:
    """Kernel, agents engine and mean field on one scenario: each Monte Carlo engine's replicate means of
    ``variables`` (raw counts) within ``n_se`` standard errors of the mean field, cell by cell of the output
    (``output``: ``every``, ``level``, ``years`` as ``sim.run`` takes them; by plan year, so that the cells
    compared are few and their sums near normal). Returns (expected, kernel, agents) for checks of their own."""
    import sim
    from sim.engines.agents import options

    expected = sim.expected(scenario, **output)
    kernel = sim.run(scenario, replicates=kernel_replicates, seed=seed, **output)
    with options(workers=agent_workers):
        agents = sim.run(scenario, replicates=agent_replicates, seed=seed, engine="agents", **output)
    for engine, ds in (("kernel", kernel), ("agents", agents)):
        for var in variables:
            assert_mean_within(ds[var].values, expected[var].values, n_se=n_se, what=f"{engine} {var}")
    return expected, kernel, agents


def assert_same_on_one_and_two_threads(simulate, plan, replicates, seed) -> dict:
    """Run ``simulate(plan, replicates, seed)`` on one numba thread and on two; assert every output is
    identical; return the one-thread outputs."""
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate(plan, replicates, seed)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = simulate(plan, replicates, seed)
    finally:
        numba.set_num_threads(before)
    for k in one:
        np.testing.assert_array_equal(one[k], two[k])
    return one


def node_paths(node, path=()):
    """Every path into a parsed YAML document (the root included), mapping keys and list indices: where a
    property test may put a hostile value."""
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from node_paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from node_paths(v, path + (i,))


def run_bad_scenario(tmp_path, scenario: dict):
    """``wfsim run`` on a scenario dict written to a file: the CLI's result (exit code, stderr) for bad input."""
    import yaml
    from typer.testing import CliRunner

    from sim.cli import app

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    return CliRunner().invoke(app, ["run", str(path), "-n", "1", "--out", str(tmp_path / "x.nc")])
