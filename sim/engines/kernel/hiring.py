"""The hire phase of the kernel's month: experienced hires start, by profession, place, then source.

Where hiring is only into vacancies, a hire starts only while their place has a vacant post, or, where
their location is in a shared recruitment pool (``Recruitment.pool``), while a location of the pool has
one: they start at the pool's location with the most vacant posts (the first of equals). Under a
recruiting team's capacity (``Recruitment.capacity``) hires over it wait in a first-come-first-served
queue per profession (runs of place, source, count), served before the next month's new hires; a hire
whose turn comes when their place has no vacancy is lost and uses no capacity.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .calendar import new_staff
from .jit import NO_RC
from .rng import RECRUIT, poisson
from .structs import AGENTS, FIRST_RECRUITED, OVERFLOW, agent_columns


@njit(**NO_RC)
def hire(m, st, staff, draws, recruit, work, state, out):
    """Hire: month m's experienced hires, from arrivals drawn on each profession's RECRUIT stream."""
    agents = agent_columns(work)
    P, L = state.hc.shape
    S = recruit.rates.shape[3]
    cap = agents.prof.shape[0]
    hc, tin, posts = state.hc, state.tin, state.posts
    n = state.count[AGENTS]
    for p in range(P):
        if recruit.capacity[m, p] != np.inf or state.q_first[p] < state.q_end[p]:
            state.count[AGENTS] = n
            if not _limited_hires(m, p, st[p], staff, draws, recruit, work, state, out):
                return OVERFLOW
            n = state.count[AGENTS]
            continue
        for l in range(L):
            for src in range(S):
                arrivals = poisson(st[p, RECRUIT], recruit.rates[m, p, l, src])
                k = 0                           # those who find a vacancy, in turn
                while k < arrivals and hc[p, l] + k - tin[p, l] + 1 <= posts[m, p, l] + 1e-9:
                    k += 1
                if n + k > cap:
                    return OVERFLOW
                new_staff(n, k, p, l, m, FIRST_RECRUITED + src, st[p], staff, draws, agents, state, out)
                n += k
                hc[p, l] += k
                out.joiners[m, p, l, FIRST_RECRUITED + src] += k
                if k < arrivals and recruit.pool[m, p, l] >= 0:     # the rest: to the pool's vacancies
                    state.count[AGENTS] = n
                    for _ in range(arrivals - k):
                        l2 = pool_vacancy(m, p, l, recruit, state)
                        if l2 < 0:
                            break
                        if not _start_hire(m, p, l2, src, st[p], staff, draws, work, state, out):
                            return OVERFLOW
                    n = state.count[AGENTS]
    state.count[AGENTS] = n
    return 0


@njit(**NO_RC)
def pool_vacancy(m, p, l, recruit, state):
    """The location of l's shared recruitment pool with the most vacant posts of profession p in month m
    (whole posts, as the agents engine counts them; the first of equals), or -1 where none has one."""
    pool = recruit.pool[m, p]
    me = pool[l]
    if me < 0:
        return -1
    hc, tin, posts = state.hc, state.tin, state.posts
    best, most = -1, 0.0
    for l2 in range(pool.shape[0]):
        if pool[l2] == me and l2 != l:
            room = np.floor(posts[m, p, l2] + 1e-9) - (hc[p, l2] - tin[p, l2])
            if room > most:
                best, most = l2, room
    return best


@njit(**NO_RC)
def _limited_hires(m, p, st, staff, draws, recruit, work, state, out):
    """Month m's experienced hires of profession p under its recruitment capacity (False: out of agent
    slots). The queue is served first, in order, then the month's new hires in the usual order (place,
    then source); once the month's capacity is used the rest join the queue."""
    agents = agent_columns(work)
    L, S = recruit.rates.shape[2], recruit.rates.shape[3]
    queue, q_first, q_end = state.queue, state.q_first, state.q_end
    hc, tin, posts = state.hc, state.tin, state.posts
    room = recruit.capacity[m, p]               # float: inf where only the queue is left to serve
    while q_first[p] < q_end[p] and room > 0:
        j = q_first[p]
        l = queue[p, j, 0]
        while queue[p, j, 2] > 0 and room > 0:
            l2 = l
            if hc[p, l] - tin[p, l] + 1 > posts[m, p, l] + 1e-9:
                l2 = pool_vacancy(m, p, l, recruit, state)
                if l2 < 0:
                    queue[p, j, 2] = 0          # no vacancy when their turn comes: the offers lapse
                    break
            if not _start_hire(m, p, l2, queue[p, j, 1], st, staff, draws, work, state, out):
                return False
            queue[p, j, 2] -= 1
            room -= 1
        if queue[p, j, 2] == 0:
            q_first[p] += 1
    for l in range(L):
        for src in range(S):
            arrivals = poisson(st[RECRUIT], recruit.rates[m, p, l, src])
            for k in range(arrivals):
                if room <= 0:                   # capacity used: the rest wait for a later month
                    e = q_end[p]
                    queue[p, e, 0] = l
                    queue[p, e, 1] = src
                    queue[p, e, 2] = arrivals - k
                    q_end[p] = e + 1
                    break
                l2 = l
                if hc[p, l] - tin[p, l] + 1 > posts[m, p, l] + 1e-9:
                    l2 = pool_vacancy(m, p, l, recruit, state)
                    if l2 < 0:
                        break                   # no vacancy for this hire
                if not _start_hire(m, p, l2, src, st, staff, draws, work, state, out):
                    return False
                room -= 1
    return True


@njit(**NO_RC)
def _start_hire(m, p, l, src, st, staff, draws, work, state, out):
    """An experienced hire from recruited source ``src`` starts at place l in month m (False: no agent slot)."""
    agents = agent_columns(work)
    n = state.count[AGENTS]
    if n >= agents.prof.shape[0]:
        return False
    new_staff(n, 1, p, l, m, FIRST_RECRUITED + src, st, staff, draws, agents, state, out)
    state.count[AGENTS] = n + 1
    state.hc[p, l] += 1
    out.joiners[m, p, l, FIRST_RECRUITED + src] += 1
    return True
