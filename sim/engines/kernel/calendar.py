"""Agents joining, and their next events filed in the calendar.

Each agent's next event month (retirement, leaving, a move; dropout or completion for trainees) is
drawn when it joins, from its hazards over the months ahead, and the agent is filed in that month's
bucket of a calendar (a linked list per month); a month then costs only its events, not a draw per
agent. Leaving and retiring are not filed: nothing moves a staff member before their next event, so
the month's counts are added when it is drawn (a third of all events, never visited again).

The functions that run per agent are inlined into their callers: as calls, passing named tuples of
arrays cost ~20% of the whole run.
"""
from __future__ import annotations

import math

from numba import njit

from .draws import age_months, crossing, first_above_cdf, first_crossing, retirement_month
from .jit import NO_RC
from .rng import AGE, CELL, LEAVE, RETIRE, RETURN, ROTATE, TRAIN, exponential, uniform
from .structs import EV_COMPLETE, EV_DROP, EV_RETURN, EV_ROTATE, NO_PROGRAMME, TRAINING_START


@njit(**NO_RC)
def _push(i, t, ev, kind, link, head):
    kind[i] = ev
    link[i] = head[t]
    head[t] = i


@njit(cache=True, inline="always")
def draw_group(s, draws, m, p, l, src):
    """A joiner's group (``sim.model.cells``) from source ``src`` in month m; 0, drawing nothing, with one group."""
    if draws.group_cdf.shape[4] == 1:
        return 0
    return first_above_cdf(draws.group_cdf[m, p, l, src], uniform(s))


@njit(cache=True, inline="always")
def draw_band(s, draws, p, src):
    """A joiner's band from source ``src``; 0, drawing nothing, with one band."""
    if draws.band_cdf.shape[2] == 1:
        return 0
    return first_above_cdf(draws.band_cdf[p, src], uniform(s))


@njit(cache=True, inline="always")
def new_staff(n, k, p, l, m, src, st, staff, draws, agents, state, out):
    """Staff members n .. n+k-1 join profession p at place l in month m (-1: the starting population,
    whose ages are those of staff in post; later, those of experienced hires from source ``src``, an index
    of ``SOURCES``); ``st`` is p's streams.

    In three passes (ages, retirements, next events): within a pass the agents are independent, so the
    CPU overlaps their work (the starting population ~6% faster). Each draw is from its decision's own
    stream in agent order, so the numbers are those of one pass per agent.
    """
    prof, place, birth, retire, prog = agents.prof, agents.place, agents.birth, agents.retire, agents.prog
    if m < 0:
        age_cdf, age_guide = draws.staff_age_cdf[p], draws.staff_age_guide[p]
    else:
        age_cdf, age_guide = draws.joiner_age_cdf[p], draws.joiner_age_guide[p]
    for j in range(n, n + k):
        a = age_months(st[AGE], age_cdf, age_guide)
        prof[j] = p
        place[j] = l
        birth[j] = m - a
        prog[j] = NO_PROGRAMME
    retire_cdf, retire_guide = draws.retire_cdf[p], draws.retire_guide[p]
    for j in range(n, n + k):
        retire[j] = retirement_month(st[RETIRE], retire_cdf, retire_guide, birth[j], m - birth[j])
    sub = agents.sub
    if state.hc_sub.shape[2] > 1:               # their cells: band and group (sim.model.cells)
        Gr = draws.group_cdf.shape[4]
        for j in range(n, n + k):
            if m < 0:
                c = first_above_cdf(draws.start_cell_cdf[p, l], uniform(st[CELL]))
            else:
                g = draw_group(st[CELL], draws, m, p, l, src)
                c = draw_band(st[CELL], draws, p, src) * Gr + g
                out.joiners_by_group[m, p, l, g] += 1
            sub[j] = c
            state.hc_sub[p, l, c] += 1
    for j in range(n, n + k):
        schedule_staff(j, m + 1, st, staff, agents, state, out)


@njit(cache=True, inline="always")
def schedule_staff(i, m_from, st, staff, agents, state, out):
    """Draw staff member i's next event at or after ``m_from`` (none if past the horizon): a move is filed
    under its month; leaving or retiring is counted in its month's ``state.gone`` at once (and in ``leavers``
    when the month comes: ``phases.depart``).

    Priority within a month: retirement, then leaving, then a move. A retiree who returns (retire and
    return; the RETURN stream) is filed under their retirement month, to rejoin then. Months are searched for on the
    cumulative hazard (``first_crossing``; run by run of years of age with one multiplier, where leaving
    varies with age).
    """
    head = state.head
    M = head.shape[0]
    p = agents.prof[i]
    l = agents.place[i]
    b = agents.birth[i]
    r = agents.retire[i]
    cells = state.hc_sub.shape[2] > 1
    c = agents.sub[i] if cells else 0           # (not written without cells)
    limit = r if r < M else M
    cum = staff.cum_leave[staff.leave_row[p, l, c]]
    if staff.age_flat[p, l]:
        leave_at = crossing(st[LEAVE], cum, m_from, limit)
    else:                                       # a run of years of age with one multiplier at a time
        e = exponential(st[LEAVE])
        row = staff.age_row[p, l]
        age_mult = staff.age_mult[row]
        runs = staff.age_runs[row]
        top = age_mult.shape[0] - 1
        leave_at = limit
        acc = 0.0
        t = m_from
        while t < limit:
            age = (t - b) // 12
            if age > top:
                age = top
            seg_end = b + runs[age] * 12
            if seg_end > limit:
                seg_end = limit
            k = age_mult[age]
            inc = k * (cum[seg_end] - cum[t])
            if inc > 0.0 and acc + inc >= e:
                hit = first_crossing(cum, t, seg_end, (e - acc) / k)
                if hit < seg_end:
                    leave_at = hit
                    break
            acc += inc
            t = seg_end
    rot_at = crossing(st[ROTATE], staff.cum_move[staff.move_row[p, l, c]], m_from, leave_at)
    if rot_at < leave_at:
        _push(i, rot_at, EV_ROTATE, agents.kind, agents.link, head)
    elif leave_at < limit:                      # counted now: nothing moves them before then
        state.gone[p, l, leave_at, 0] += 1
        if cells:
            state.gone_sub[p, l, leave_at, c] += 1
    elif r < M:
        state.gone[p, l, r, 1] += 1
        if cells:
            state.gone_sub[p, l, r, c] += 1
        share = staff.return_share[r, p, l]     # retire and return: filed to rejoin in their retirement month
        if share > 0.0 and uniform(st[RETURN]) < share:
            _push(i, r, EV_RETURN, agents.kind, agents.link, head)


@njit(cache=True, inline="always")
def new_trainee(i, g, l, started, b, m_from, st, progs, agents, state):
    """Agent i, born in month b, started programme g at place l in month ``started``; checks for dropout
    run from ``m_from``+1 on (``st``: the programme's streams)."""
    agents.prof[i] = progs.produces[g]
    agents.place[i] = l
    agents.birth[i] = b
    agents.prog[i] = g
    finish = started + progs.months[g]
    q = progs.dropout[started if started > 0 else 0, g, l]    # the dropout rate of the cohort's start month
    u = uniform(st[TRAIN])
    if q > 0.0:
        d = math.ceil(math.log(1.0 - u) / math.log(1.0 - q))
        drop_at = m_from + (d if d >= 1 else 1)
    else:
        drop_at = finish + 1
    head = state.head
    if drop_at <= finish:
        if drop_at < head.shape[0]:
            _push(i, drop_at, EV_DROP, agents.kind, agents.link, head)
    elif finish < head.shape[0]:
        _push(i, finish, EV_COMPLETE, agents.kind, agents.link, head)


@njit(cache=True, inline="always")
def start_trainee(i, g, l, started, m_from, st, progs, draws, agents, state):
    """Agent i starts programme g at place l in month ``started``, of an age drawn from its entry ages, in a
    group drawn from the training_start shares of the profession it produces (their band comes on completion)."""
    a = age_months(st[AGE], draws.entry_age_cdf[g], draws.entry_age_guide[g])
    if state.hc_sub.shape[2] > 1:               # (draws nothing with one group)
        agents.sub[i] = draw_group(st[CELL], draws, started if started > 0 else 0, progs.produces[g], l,
                                   TRAINING_START)
    new_trainee(i, g, l, started, started - a, m_from, st, progs, agents, state)
