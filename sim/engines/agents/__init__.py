"""The ``agents`` engine: trainees, staff and funded posts as Mesa agents on a SimPy clock.

It samples the same stochastic process as the kernel, from the same plan tensors (so every lever
works here too), but the readable way: each person is an agent, each month each staff member is
checked for leaving and moving at that month's hazards, retirements and programme completions are
events at their dates, and recruitment runs from an advertised vacancy to a start ``time_to_hire``
months later (where a profession's recruitment capacity is limited, hires queue for the places of its
recruiting team, a ``simpy.Container``, and start in a later month). It is slow, records careers
(``trace``), and is the reference the kernel is tested against. See :mod:`sim.engines.agents.model`
for the order of events within a month.

``simulate(plan, replicates, seed, funded_posts=None, workers=None, trace=None)`` returns the same
raw counts as the kernel. Replicates run in separate processes (``workers``, default
``min(2, cpu count)``; in-process for one replicate or one worker); replicate r draws only from
streams keyed by (seed, r, decision), so results never depend on the number of workers.
``sim.run(scenario, engine="agents")`` calls it; to pass ``workers`` or ``trace`` through
``sim.run``, wrap the call in ``with options(workers=…, trace=…):`` (as ``wfsim run`` does).
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ...model.flows import COUNTS, plan_count_shapes
from ...model.plan import Plan
from ...processes import signals_blocked, start_worker, stop_children
from .agents import Returner, Role, StaffMember, Trainee
from .model import WorkforceModel, run_replicate
from .trace import trace_format, write_trace

__all__ = ["simulate", "options", "WorkforceModel", "Trainee", "StaffMember", "Returner", "Role", "run_replicate"]

_DEFAULTS: dict = {"workers": None, "trace": None}


@contextmanager
def options(*, workers: int | None = None, trace: str | Path | None = None):
    """Defaults for :func:`simulate` calls made inside the block (e.g. through ``sim.run``)."""
    before = dict(_DEFAULTS)
    _DEFAULTS.update(workers=workers, trace=trace)
    try:
        yield
    finally:
        _DEFAULTS.update(before)


def default_workers() -> int:
    return min(2, os.cpu_count() or 1)


def current_workers() -> int:
    """The worker processes a :func:`simulate` call made now would use."""
    return _DEFAULTS["workers"] or default_workers()


# worker processes get the plan once, at start-up
_PLAN: Plan | None = None
VARIABLES = tuple(c.name for c in COUNTS)


def _init_worker(plan: Plan, parent: int) -> None:
    global _PLAN
    start_worker(parent)                # ends with the command that started it (sim.processes)
    _PLAN = plan


def _run_in_worker(job: tuple):
    replicate, seed, traced, funded = job
    return run_replicate(_PLAN, replicate, seed, traced, funded)


def _context():
    """Fork on Linux: workers start at once and scripts need no ``if __name__ == "__main__"`` guard
    (the workers run only Python and numpy, never the kernel's threads); spawn elsewhere."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _pooled(plan: Plan, jobs: list, workers: int) -> list:
    """Run ``jobs`` in worker processes; Ctrl-C, SIGTERM or an error stops them at once."""
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_init_worker,
                               initargs=(plan, os.getpid()))
    try:
        with signals_blocked():         # the workers start (fork) with Ctrl-C held until their initializer
            results = pool.map(_run_in_worker, jobs)
        results = list(results)
    except BaseException:
        stop_children(before)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _empty(plan: Plan) -> dict[str, np.ndarray]:
    shapes = plan_count_shapes(plan)
    return {k: np.zeros((0,) + shapes[k], np.int32) for k in VARIABLES}


def simulate(plan: Plan, replicates, seed: int, funded_posts: np.ndarray | None = None, workers: int | None = None,
             trace: str | Path | None = None) -> dict[str, np.ndarray]:
    """Raw counts for the given replicate numbers, as the kernel returns them: headcount, joiners,
    leavers, trainees, completions, unplaced.

    ``funded_posts``: funded FTE, [R, M, P, L] one per replicate (as ``sim.demand.demand_draws``
    gives) or [M, P, L] for all; default the plan's central path. ``workers``: processes (default
    ``min(2, cpu count)``). ``trace``: a .csv or .parquet path for the event log of replicate 0
    (written only if 0 is among ``replicates``; the suffix is checked before the run).
    """
    reps = [int(r) for r in replicates]
    if not reps:
        return _empty(plan)
    workers = workers or _DEFAULTS["workers"] or default_workers()
    trace = trace if trace is not None else _DEFAULTS["trace"]
    if trace is not None:
        trace_format(trace)
    if funded_posts is not None and funded_posts.ndim == 4:
        if funded_posts.shape[0] != len(reps):
            raise ValueError(f"funded_posts has {funded_posts.shape[0]} replicates; expected {len(reps)}")
        funded = list(funded_posts)
    else:
        funded = [funded_posts] * len(reps)
    jobs = [(r, seed, trace is not None and r == 0, f) for r, f in zip(reps, funded)]
    if workers <= 1 or len(reps) <= 1:
        results = [run_replicate(plan, *job) for job in jobs]
    else:
        results = _pooled(plan, jobs, min(workers, len(reps)))
    for job, (_, events) in zip(jobs, results):
        if job[2]:
            write_trace(trace, plan, events)
    return {k: np.stack([counts[k] for counts, _ in results]) for k in VARIABLES}
