"""``sim.run`` and ``sim.expected``: a scenario's replicates on an engine, or its mean-field projection,
as one results dataset."""
from __future__ import annotations

from typing import Callable

import numpy as np
import xarray as xr

from ..demand.draws import demand_draws
from ..engines import parallel_replicates, simulator
from ..limits import REPLICATES, SEED, YEARS
from ..model.compile import compile_base, with_levers
from ..model.expected import project
from ..results.dataset import build_dataset, central_demand, to_level
from ..results.levels import check_level
from ..scenario import ScenarioError
from ..scenario.errors import shown
from ..scenario.loading import scenario_sha256
from ..vocabulary import DEFAULT_ENGINE, DEFAULT_LEVEL, DEFAULT_OUTPUT_STEP, OUTPUT_STEPS
from .budgets import budget_attrs, budgeted
from .lever_costs import outcomes
from .provenance import provenance
from .reviews import adaptive_levers, run_reviewed
from .scenarios import load_scenario


def with_horizon(scenario, years: int | None):
    """The scenario over another horizon (``--years``); year-table entries and levers beyond it simply
    never act."""
    if years is None or years == scenario.years:
        return scenario
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= YEARS:
        raise ScenarioError([("years", f"expected a whole number of years from 1 to {YEARS}; got {shown(years)}")],
                            "run")
    return scenario.model_copy(update={"years": years})


def run(scenario, *, replicates: int | None = None, seed: int | None = None, engine: str = DEFAULT_ENGINE,
        years: int | None = None, every: str = DEFAULT_OUTPUT_STEP, batch_size: int | None = None,
        progress: Callable[[int, int], None] | None = None, level: str = DEFAULT_LEVEL) -> xr.Dataset:
    """Run ``replicates`` stochastic replicates and return the results dataset.

    Replicate r always uses the random streams keyed by (seed, r), so batching and thread count
    do not change results. ``progress(done, total)`` is called after each batch (default size:
    :func:`progress_block`). ``level``: the areas results are summed to (provider, place, ics, region or
    nation); each batch is simulated by provider and summed before the next, so memory grows with the
    areas kept, not the providers.
    """
    scenario = with_horizon(load_scenario(scenario), years)
    if every not in OUTPUT_STEPS:
        raise ScenarioError([("every", f"expected one of {', '.join(OUTPUT_STEPS)}; got {every!r}")], "run")
    check_level(level)
    replicates = scenario.replicates if replicates is None else replicates
    seed = scenario.seed if seed is None else seed
    for name, value, lo, hi in (("replicates", replicates, 1, REPLICATES), ("seed", seed, 0, SEED)):
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ScenarioError([(name, f"expected a whole number from {lo:,} to {hi:,}; got {shown(value)}")], "run")
    batch_size = batch_size or progress_block(replicates, parallel_replicates(engine))
    parts: dict[str, list[np.ndarray]] = {}
    plan = None
    for lo in range(0, replicates, batch_size):
        reps = range(lo, min(lo + batch_size, replicates))
        plan, values = simulate_replicates(scenario, reps, seed, engine=engine, every=every, plan=plan, level=level)
        for k, v in values.items():
            parts.setdefault(k, []).append(v)
        if progress:
            progress(reps.stop, replicates)
    values = {k: np.concatenate(v) for k, v in parts.items()}
    return build_dataset(plan, values, every=every, replicates=np.arange(replicates),
                         attrs=provenance(scenario, engine=engine, seed=seed) | budget_attrs(scenario), level=level)


BLOCKS = 20            # progress moves in about this many steps
MAX_BLOCK = 250        # replicates per batch at most (memory of the raw monthly counts)


def progress_block(replicates: int, parallel: int = 1) -> int:
    """Replicates per batch: about a twentieth of the run (so progress moves in twentieths), at most
    ``MAX_BLOCK``, and at least ``parallel`` (the replicates the engine runs at once, so no thread or
    worker idles). Results never depend on it."""
    return max(1, parallel, min(MAX_BLOCK, -(-replicates // BLOCKS)))


def simulate_replicates(scenario, reps: range, seed: int, *, engine: str = DEFAULT_ENGINE,
                        every: str = DEFAULT_OUTPUT_STEP, plan=None, level: str = DEFAULT_LEVEL):
    """(plan tensors, arrays at ``level`` and output step) for replicates ``reps`` of a validated scenario: the
    unit of work that ``run`` batches and experiments send to worker processes. Replicate r depends only on
    (seed, r). The replicates are simulated a few at a time (:func:`chunk_size`) and each chunk is summed
    to the level and output step before the next, so memory follows the level, not the providers."""
    simulate = simulator(engine)
    if adaptive_levers(scenario):
        base = budgeted(compile_base(scenario), scenario)
        plan = plan if plan is not None else with_levers(base, scenario, scenario.levers)
    elif plan is None:
        plan = finished_plan(scenario)
    reps = np.asarray(reps)
    size = chunk_size(plan)
    parts: dict[str, list[np.ndarray]] = {}
    adaptive = bool(adaptive_levers(scenario))
    for lo in range(0, len(reps), size):
        chunk = reps[lo:lo + size]
        if adaptive:    # adaptive levers: each replicate's plan follows its own annual reviews
            values = run_reviewed(base, scenario, chunk,
                                  lambda pl, rr, funded: simulate(pl, rr, seed, funded_posts=funded),
                                  lambda pl, rr: demand_draws(pl, rr, seed))
        else:
            demand_side = demand_draws(plan, chunk, seed)
            values = outcomes(plan, simulate(plan, chunk, seed, funded_posts=demand_side["funded_posts"]), demand_side,
                              every)
        for k, v in to_level(plan, values, level, every, time_axis=1, stocks_at=not adaptive).items():
            parts.setdefault(k, []).append(v)
        del values
    return plan, {k: v[0] if len(v) == 1 else np.concatenate(v) for k, v in parts.items()}


_PLANS: dict[str, object] = {}      # scenario sha256 → its finished plan: the last one of this process


def finished_plan(scenario):
    """The scenario's plan tensors with budget control and levers applied, kept for the scenario last asked
    for in this process: each block of an experiment asks again, and England's plan takes ~1 s to build."""
    key = scenario_sha256(scenario)
    if key not in _PLANS:
        if _PLANS:                      # one at a time: England's is ~250 MB
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = with_levers(budgeted(compile_base(scenario), scenario), scenario, scenario.levers)
    return _PLANS[key]


CHUNK_BYTES = 1 << 30     # ~ the location-level monthly arrays of one chunk, before they are summed to the level


def chunk_size(plan) -> int:
    """Replicates simulated at once: as many as keep their location-level monthly arrays (raw counts and the
    variables derived from them, ~32 values per profession, location and month, 8 bytes each) near
    ``CHUNK_BYTES``; at least 4, so that the kernel's threads have replicates to share. The default ICS takes
    hundreds at once; England (530 providers) a handful."""
    M, P, L = plan.shape
    per_replicate = M * L * (32 * P + 3 * len(plan.programmes) + len(plan.service_lines)
                             + (3 * P * plan.cells if plan.cells > 1 else 0)) * 8     # counts by cell
    return max(4, CHUNK_BYTES // per_replicate)


def run_replicates(scenario, reps: range, seed: int, *, engine: str = DEFAULT_ENGINE,
                   every: str = DEFAULT_OUTPUT_STEP, level: str = DEFAULT_LEVEL) -> xr.Dataset:
    """The dataset of replicates ``reps`` only (labelled by their own numbers): one experiment block."""
    scenario = load_scenario(scenario)
    check_level(level)
    plan, values = simulate_replicates(scenario, reps, seed, engine=engine, every=every, level=level)
    return build_dataset(plan, values, every=every, replicates=np.asarray(reps),
                         attrs=provenance(scenario, engine=engine, seed=seed) | budget_attrs(scenario), level=level)


def expected(scenario, *, years: int | None = None, every: str = DEFAULT_OUTPUT_STEP,
             level: str = DEFAULT_LEVEL) -> xr.Dataset:
    """The deterministic mean-field projection: same schema as ``run``, without ``replicate``."""
    scenario = with_horizon(load_scenario(scenario), years)
    check_level(level)
    base = budgeted(compile_base(scenario), scenario)
    plan = with_levers(base, scenario, scenario.levers)
    if adaptive_levers(scenario):   # one deterministic path through the reviews
        values = run_reviewed(base, scenario, np.zeros(1, np.int64),
                              lambda pl, rr, funded: {k: v[None] for k, v in project(pl).items()},
                              lambda pl, rr: {k: v[None] for k, v in central_demand(pl).items()})
        values = {k: v[0] for k, v in values.items()}
    else:
        values = outcomes(plan, project(plan), central_demand(plan))
    values = to_level(plan, values, level, every, time_axis=0)
    return build_dataset(plan, values, every=every,
                         attrs=provenance(scenario, engine="expected", seed=None) | budget_attrs(scenario), level=level)
