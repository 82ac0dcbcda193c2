"""The ``agents`` engine: trainees, staff and funded posts as Mesa agents on a SimPy clock.

It samples the same stochastic process as the kernel, from the same plan tensors (so every lever
works here too), but the readable way: each person is an agent, each month each staff member is
checked for leaving and moving at that month's hazards, retirements and programme completions are
events at their dates, and recruitment runs from an advertised vacancy to a start ``time_to_hire``
months later. It is slow, records careers (``trace``), and is the reference the kernel is tested
against. See :mod:`sim.engines.agents.model` for the order of events within a month.

``simulate(plan, replicates, seed, workers=None, trace=None)`` returns the same raw counts as the
kernel. Replicates run in separate processes (``workers``, default ``min(2, cpu count)``; in-process
for one replicate or one worker); replicate r draws only from streams keyed by (seed, r, decision),
so results never depend on the number of workers.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ...model.plan import Plan
from .agents import Role, StaffMember, Trainee
from .model import WorkforceModel, run_replicate
from .trace import write_trace

__all__ = ["simulate", "options", "WorkforceModel", "Trainee", "StaffMember", "Role", "run_replicate"]

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


# worker processes get the plan once, at start-up
_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _PLAN
    _PLAN = plan


def _run_in_worker(job: tuple[int, int, bool]):
    replicate, seed, traced = job
    return run_replicate(_PLAN, replicate, seed, traced)


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:       # a clean single-threaded parent for the workers (numba may run threads here)
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.engines.agents.model"])
        return ctx
    return multiprocessing.get_context("spawn")


def simulate(plan: Plan, replicates, seed: int, workers: int | None = None,
             trace: str | Path | None = None) -> dict[str, np.ndarray]:
    """Raw counts for the given replicate numbers: headcount, joiners, leavers, trainees, completions.

    ``trace``: a CSV path for the event log of replicate 0 (written only if 0 is among ``replicates``).
    """
    reps = [int(r) for r in replicates]
    workers = workers or _DEFAULTS["workers"] or default_workers()
    trace = trace if trace is not None else _DEFAULTS["trace"]
    jobs = [(r, seed, trace is not None and r == 0) for r in reps]
    if workers <= 1 or len(reps) <= 1:
        results = [run_replicate(plan, r, s, t) for r, s, t in jobs]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(reps)), mp_context=_context(),
                                 initializer=_init_worker, initargs=(plan,)) as pool:
            results = list(pool.map(_run_in_worker, jobs))
    out = {k: np.stack([res[0][k] for res in results]) if results else None for k in
           ("headcount", "joiners", "leavers", "trainees", "completions")}
    if not results:
        M, P, L = plan.shape
        G = len(plan.programmes)
        from ...model.plan import REASONS, SOURCES
        out = {"headcount": np.zeros((0, M, P, L), np.int32), "joiners": np.zeros((0, M, P, L, len(SOURCES)), np.int32),
               "leavers": np.zeros((0, M, P, L, len(REASONS)), np.int32),
               "trainees": np.zeros((0, M, G, L), np.int32), "completions": np.zeros((0, M, G, L), np.int32)}
    for (r, _, traced), (_, events) in zip(jobs, results):
        if traced:
            write_trace(trace, plan, events)
    return out
