"""The Python API: load a scenario, run it, or project its expectation."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Callable

import numpy as np
import xarray as xr

from .engines import simulator
from .model.compile import compile_base, with_levers
from .model.reviews import adaptive_levers, run_reviewed
from .model.expected import project
from .demand.draws import demand_draws
from .results.dataset import aggregate, build_dataset, central_demand, derived
from .scenario import load_scenario, scenario_dict, scenario_sha256
from .scenario.loading import ScenarioError

EVERY = ("month", "quarter", "year")


def wfsim_version() -> str:
    try:
        return version("wfsim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _with_years(scenario, years: int | None):
    """The scenario over another horizon; year-table entries and levers beyond it simply never act."""
    if years is None or years == scenario.years:
        return scenario
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 50:
        raise ScenarioError([("years", f"expected a whole number of years from 1 to 50; got {years!r}")], "run")
    return scenario.model_copy(update={"years": years})


def _demand_definition(scenario) -> str:
    if scenario.demand is not None:
        d = scenario.demand
        lines = f" with service lines {', '.join(d.service_lines)}" if d.service_lines else ""
        return f"{d.definition}{lines}"
    return "per profession: " + ", ".join(
        f"{k}: need per head" if p.demand.fte_per_1000_population is not None else f"{k}: funded establishment"
        for k, p in scenario.professions.items())


def provenance(scenario, *, engine: str, seed: int | None) -> dict:
    import json
    return {
        "scenario_name": scenario.name, "scenario_sha256": scenario_sha256(scenario),
        "scenario": json.dumps(scenario_dict(scenario), sort_keys=True), "seed": -1 if seed is None else seed,
        "engine": engine, "wfsim_version": wfsim_version(),
        "demand_definition": _demand_definition(scenario),
    }


def run(scenario, *, replicates: int | None = None, seed: int | None = None, engine: str = "kernel",
        years: int | None = None, every: str = "month", batch_size: int = 250,
        progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Run ``replicates`` stochastic replicates and return the SPEC §4 dataset.

    Replicate r always uses the random streams keyed by (seed, r), so batching and thread count
    do not change results. ``progress(done, total)`` is called after each batch.
    """
    scenario = _with_years(load_scenario(scenario), years)
    if every not in EVERY:
        raise ScenarioError([("every", f"expected one of {', '.join(EVERY)}; got {every!r}")], "run")
    replicates = scenario.replicates if replicates is None else replicates
    seed = scenario.seed if seed is None else seed
    if replicates < 1:
        raise ScenarioError([("replicates", f"expected a whole number ≥ 1; got {replicates}")], "run")
    if seed < 0:
        raise ScenarioError([("seed", f"expected a whole number ≥ 0; got {seed}")], "run")
    parts: dict[str, list[np.ndarray]] = {}
    plan = None
    for lo in range(0, replicates, batch_size):
        reps = range(lo, min(lo + batch_size, replicates))
        plan, values = simulate_replicates(scenario, reps, seed, engine=engine, every=every, plan=plan)
        for k, v in values.items():
            parts.setdefault(k, []).append(v)
        if progress:
            progress(reps.stop, replicates)
    values = {k: np.concatenate(v) for k, v in parts.items()}
    return build_dataset(plan, values, every=every, replicates=np.arange(replicates),
                         attrs=provenance(scenario, engine=engine, seed=seed))


def simulate_replicates(scenario, reps: range, seed: int, *, engine: str = "kernel", every: str = "month",
                        plan=None):
    """(plan, aggregated arrays) for replicates ``reps`` of a validated scenario: the unit of work that
    ``run`` batches and experiments send to worker processes. Replicate r depends only on (seed, r)."""
    simulate = simulator(engine)
    base = compile_base(scenario) if plan is None or adaptive_levers(scenario) else None
    plan = plan if plan is not None else with_levers(base, scenario, scenario.levers)
    if adaptive_levers(scenario):        # adaptive levers: each replicate's plan follows its own annual reviews
        values = run_reviewed(base, scenario, np.asarray(reps),
                              lambda pl, rr, funded: simulate(pl, rr, seed, funded_posts=funded),
                              lambda pl, rr: demand_draws(pl, rr, seed))
    else:
        demand_side = demand_draws(plan, reps, seed)
        values = derived(plan, simulate(plan, reps, seed, funded_posts=demand_side["funded_posts"]), demand_side)
    return plan, aggregate(values, every, time_axis=1)


def run_replicates(scenario, reps: range, seed: int, *, engine: str = "kernel", every: str = "month") -> xr.Dataset:
    """The dataset of replicates ``reps`` only (labelled by their own numbers): one experiment block."""
    scenario = load_scenario(scenario)
    plan, values = simulate_replicates(scenario, reps, seed, engine=engine, every=every)
    return build_dataset(plan, values, every=every, replicates=np.asarray(reps),
                         attrs=provenance(scenario, engine=engine, seed=seed))


def expected(scenario, *, years: int | None = None, every: str = "month") -> xr.Dataset:
    """The deterministic mean-field projection: same schema as ``run``, without ``replicate``."""
    scenario = _with_years(load_scenario(scenario), years)
    base = compile_base(scenario)
    plan = with_levers(base, scenario, scenario.levers)
    if adaptive_levers(scenario):   # one deterministic path through the reviews
        values = run_reviewed(base, scenario, np.zeros(1, np.int64),
                                 lambda pl, rr, funded: {k: v[None] for k, v in project(pl).items()},
                                 lambda pl, rr: {k: v[None] for k, v in central_demand(pl).items()})
        values = {k: v[0] for k, v in values.items()}
    else:
        values = derived(plan, project(plan), central_demand(plan))
    values = aggregate(values, every, time_axis=0)
    return build_dataset(plan, values, every=every, attrs=provenance(scenario, engine="expected", seed=None))
