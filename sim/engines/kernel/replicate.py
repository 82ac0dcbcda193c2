"""The kernel's replicates: one per thread at a time, each the population at the start and then its months.

A month runs the phases of ``phases.MONTH_PHASES`` in order (see ``sim.model.flows.MONTH``). The work of
a replicate is compiled without reference counting (``jit.NO_RC``); ``one_replicate`` allocates what it
needs first, and ``run_replicates`` is handed one work array of agent columns per thread (kept between
calls: ``work_arrays``).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import phases
from .jit import NO_RC
from .rng import JUMP, owner_streams
from .structs import OVERFLOW, Outputs, State


@njit(parallel=True, cache=True)
def run_replicates(states, staff, draws, recruit, progs, out, works, status):
    """Every replicate of ``states`` [R, streams, 4] into ``out`` (``Outputs`` [R, ...]) and ``status`` [R]
    (0, or OVERFLOW: out of its agent slots). ``works`` [T, WORK_ROWS, slots] is one array of agent columns
    per chunk of replicates, r = c, c + T, ..., each run on one thread: the results do not depend on T."""
    R = states.shape[0]
    T = min(R, works.shape[0])
    owners = staff.headcount.shape[0] + progs.produces.shape[0]
    for c in prange(T):
        work = works[c]
        for r in range(c, R, T):
            # the replicate's streams, one set per profession and then per programme
            st = owner_streams(states[r], owners, JUMP)
            status[r] = one_replicate(r, st, staff, draws, recruit, progs, work, out)


@njit(cache=True)
def one_replicate(r, st, staff, draws, recruit, progs, work, out):
    """Replicate r: allocates its state and views, so that the work itself runs without reference counting.
    Nothing in ``work`` (the agents' columns, ``structs.agent_columns``) is read before this replicate writes it."""
    M, P, L, S = recruit.rates.shape
    G = progs.produces.shape[0]
    limited = False
    for m in range(M):
        for p in range(P):
            if recruit.capacity[m, p] != np.inf:
                limited = True
    # the queue of hires waiting for a start: each month adds at most L * S runs
    queue = np.zeros((P, M * L * S + 1 if limited else 1, 3), np.int64)
    scheduled = np.zeros(G, np.bool_)
    for g in range(G):
        for m in range(M):
            if progs.rotate[m, g]:
                scheduled[g] = True
    posts = recruit.posts[0] if recruit.posts.shape[0] == 1 else recruit.posts[r]   # one for all, or one each
    SUB = staff.promote.shape[2]                # cells (band × group); one without characteristics and bands
    big = SUB > 1
    state = State(np.full(M, -1, np.int32), np.zeros((P, L, M, 2), np.int32), np.zeros((P, L), np.int64),
                  np.zeros((P, L), np.int64), np.zeros((G, L), np.int64), queue, np.zeros(P, np.int64),
                  np.zeros(P, np.int64), scheduled, posts, np.zeros(3, np.int64), np.zeros((P, L), np.int64),
                  np.zeros((M, P, L), np.int64),
                  np.zeros((P, L, SUB) if big else (1, 1, 1), np.int64),
                  np.zeros((P, L, M, SUB) if big else (1, 1, 1, 1), np.int32))
    mine = Outputs(out.headcount[r], out.joiners[r], out.leavers[r], out.trainees[r], out.completions[r],
                   out.unplaced[r], out.graduates_moved[r], out.returned[r], out.sector_moves[r],
                   out.staff_by_group[r], out.joiners_by_group[r], out.leavers_by_group[r], out.promotions[r])
    return _replicate(st, staff, draws, recruit, progs, work, state, mine)


@njit(**NO_RC)
def _replicate(st, staff, draws, recruit, progs, work, state, out):
    """The population at the start, then month by month the phases of ``phases.MONTH_PHASES``, in order."""
    if phases.population(st, staff, draws, progs, work, state, out):
        return OVERFLOW
    for m in range(state.head.shape[0]):
        phases.depart(m, state, out)
        phases.events(m, st, staff, draws, progs, work, state, out)
        phases.place(m, st, staff, draws, progs, work, state, out)
        phases.rotate(m, st, progs, work, state, out)
        if phases.hire(m, st, staff, draws, recruit, work, state, out):
            return OVERFLOW
        if phases.start(m, st, progs, draws, work, state, out):
            return OVERFLOW
        phases.record(m, state, out)
    return 0
