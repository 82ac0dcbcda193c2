"""The phases of the kernel's month, one function each, in the order of ``sim.model.flows.MONTH``.

``MONTH_PHASES`` maps each phase to the steps of that table it implements, in the order the month
loop (``replicate._replicate``) runs them; tests/test_kernel_flows.py checks both against the table.
Leaving and retiring are counted when they are drawn (``calendar.schedule_staff``), so the ``depart``
phase only takes the month's leavers out of the stocks; moves, dropouts and completions are the
calendar's events. Hiring is in ``hiring.py``.

Every phase takes the month and the named data it needs (``structs.py``); ``st`` is the replicate's
streams, one set per profession and then per programme, and ``work`` the agents' columns
(``structs.agent_columns``).
"""
from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .calendar import draw_band, new_staff, schedule_staff, start_trainee
from .draws import first_above_cdf, first_crossing, retirement_month
from .hiring import hire
from .jit import NO_RC
from .rng import CELL, EMPLOY, MIGRATE, RETIRE, RETURN, ROTATE, SCHEDULE, exponential, uniform
from .structs import (AGENTS, COMPLETED, EV_DROP, EV_RETURN, EV_ROTATE, GONE, LEAVER, MOVED_IN, MOVED_OUT,
                      NEWLY_QUALIFIED, NO_PROGRAMME, OVERFLOW, PENDING, PROMOTED_IN, PROMOTED_OUT, RETIRE_RETURN,
                      RETIREMENT, RETURNED, ROTATING, ROTATION_IN, ROTATION_OUT, SECTOR_IN, SECTOR_OUT,
                      TRAINING_START, TRANSFER_IN, TRANSFER_OUT, agent_columns)

MONTH_PHASES = (
    ("depart", ("retire", "leave")),
    ("events", ("move", "attrition", "complete")),
    ("place", ("place",)),
    ("rotate", ("rotate",)),
    ("hire", ("hire",)),
    ("start", ("start",)),
    ("record", ("record",)),
)
__all__ = ["MONTH_PHASES", "population", "hire"] + [name for name, _ in MONTH_PHASES]   # hire: from hiring.py


@intrinsic
def prefetch(typingctx, arr, idx):
    """Ask the CPU to load ``arr[idx]`` into cache ahead of its use (LLVM's prefetch; no effect on results)."""
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]], wraparound=False)
        i32, i8p = ir.IntType(32), ir.IntType(8).as_pointer()
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]))
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])   # read, keep in all caches, data
        return context.get_dummy_value()
    return types.void(arr, idx), codegen


@njit(**NO_RC)
def population(st, staff, draws, progs, work, state, out):
    """The population at the end of month -1: staff in post, then the cohorts in training."""
    agents = agent_columns(work)
    P, L = staff.headcount.shape
    cap = agents.prof.shape[0]
    hc, tin, trn = state.hc, state.tin, state.trn
    n = 0
    for p in range(P):
        for l in range(L):
            k = staff.headcount[p, l]
            if n + k > cap:
                return OVERFLOW
            new_staff(n, k, p, l, -1, 0, st[p], staff, draws, agents, state, out)
            hc[p, l] += k
            n += k
    nrota = 0
    cohorts = progs.cohorts
    for c in range(cohorts.shape[0]):
        g, l, s, count = cohorts[c, 0], cohorts[c, 1], cohorts[c, 2], cohorts[c, 3]
        tp = progs.trainee_prof[g]
        for _ in range(count):
            if n >= cap:
                return OVERFLOW
            start_trainee(n, g, l, s, -1, st[P + g], progs, draws, agents, state)
            if state.scheduled[g]:
                agents.rota[nrota] = n
                nrota += 1
            trn[g, l] += 1
            if tp >= 0:
                hc[tp, l] += 1
                tin[tp, l] += 1
            n += 1
    state.count[AGENTS] = n
    state.count[ROTATING] = nrota
    return 0


@njit(**NO_RC)
def depart(m, state, out):
    """Retire, leave: the month's leavers, counted when drawn, leave the stocks and are added to the month's
    ``leavers`` (returners among them leave the stock of returners too)."""
    hc, gone, ret, ret_gone = state.hc, state.gone, state.ret, state.ret_gone
    P, L = hc.shape
    for p in range(P):
        for l in range(L):
            leaving, retiring = gone[p, l, m, 0], gone[p, l, m, 1]
            hc[p, l] -= leaving + retiring
            out.leavers[m, p, l, LEAVER] += leaving
            out.leavers[m, p, l, RETIREMENT] += retiring
            ret[p, l] -= ret_gone[m, p, l]
    SUB = state.hc_sub.shape[2]
    if SUB > 1:
        Gr = out.leavers_by_group.shape[3]
        for p in range(P):
            for l in range(L):
                for c in range(SUB):
                    k = state.gone_sub[p, l, m, c]
                    state.hc_sub[p, l, c] -= k
                    out.leavers_by_group[m, p, l, c % Gr] += k


@njit(**NO_RC)
def events(m, st, staff, draws, progs, work, state, out):
    """Move, attrition, complete: the month's events from the calendar. A move's one draw picks its kind
    (rotation, then migration to another ICS or region, then a sector move, then transfers, then promotion
    to the next band, by their shares of the summed hazard) and where it goes. Retirees who return (filed
    under their retirement month) rejoin, and their leaving month is drawn (the RETURN stream; returners
    are not in the counts by band and group). Completers who want a local post, and those looking in another ICS or
    region (the MIGRATE stream; placed where they look), are listed in ``agents.pending`` for the place
    phase."""
    agents = agent_columns(work)
    P, L = state.hc.shape
    prof, place, birth, retire, prog, kind, link = (agents.prof, agents.place, agents.birth, agents.retire,
                                                    agents.prog, agents.kind, agents.link)
    pend = agents.pending
    hc, tin, trn = state.hc, state.tin, state.trn
    rot_h, transfer_h = staff.rotation, staff.transfer
    join_out, leave_out = out.joiners, out.leavers
    sub = agents.sub
    cells = state.hc_sub.shape[2] > 1
    Gr = draws.group_cdf.shape[4]
    npend = 0
    i = state.head[m]
    while i >= 0:
        nxt = link[i]
        if nxt >= 0:                            # the next agent's fields load while this one is handled
            n2 = link[nxt]                      # prefetched an agent ago
            if n2 >= 0:
                prefetch(link, n2)
                prefetch(prof, n2)
                prefetch(place, n2)
                prefetch(kind, n2)
                prefetch(birth, n2)
                prefetch(retire, n2)
        p = prof[i]
        l = place[i]
        k = kind[i]
        if k == EV_ROTATE:                      # a move: to another place, or staff group / sector
            u = uniform(st[p, ROTATE])
            rot = rot_h[m, p, l]
            c = sub[i] if cells else 0
            promote = staff.promote[m, p, c]     # (0 without bands: x is as it was)
            x = u * (staff.move[m, p, l] + promote)
            hc[p, l] -= 1
            if promote > 0.0 and x >= staff.move[m, p, l]:     # promotion: the last kind, up a band in place
                sub[i] = staff.promote_to[p, c]
                leave_out[m, p, l, PROMOTED_OUT] += 1
                join_out[m, p, l, PROMOTED_IN] += 1
                out.promotions[m, p, l, c] += 1
                hc[p, l] += 1
            elif x < rot:
                x = x / rot
                l2 = first_above_cdf(staff.rotation_cdf[staff.rotation_row[p, l]], x)
                leave_out[m, p, l, ROTATION_OUT] += 1
                join_out[m, p, l2, ROTATION_IN] += 1
                place[i] = l2
                hc[p, l2] += 1
            elif x - rot < staff.migrate[m, p, l]:  # to another ICS or region (never without mobility)
                x = (x - rot) / staff.migrate[m, p, l]
                l2 = first_above_cdf(staff.migrate_cdf[staff.migrate_row[p, l]], x)
                leave_out[m, p, l, MOVED_OUT] += 1
                join_out[m, p, l2, MOVED_IN] += 1
                place[i] = l2
                hc[p, l2] += 1
            elif x - rot - staff.migrate[m, p, l] < staff.sector[m, p, l]:  # to another sector (never without)
                x = (x - rot - staff.migrate[m, p, l]) / staff.sector[m, p, l]
                l2 = first_above_cdf(staff.sector_cdf[staff.sector_row[p, l]], x)
                leave_out[m, p, l, SECTOR_OUT] += 1
                join_out[m, p, l2, SECTOR_IN] += 1
                out.sector_moves[m, p, staff.location_sector[l], staff.location_sector[l2]] += 1
                place[i] = l2
                hc[p, l2] += 1
            else:
                x -= rot
                x -= staff.migrate[m, p, l]
                x -= staff.sector[m, p, l]
                p2 = 0
                while p2 < P - 1 and (transfer_h[m, p, l, p2] == 0.0 or x >= transfer_h[m, p, l, p2]):
                    x -= transfer_h[m, p, l, p2]
                    p2 += 1
                leave_out[m, p, l, TRANSFER_OUT] += 1
                join_out[m, p2, l, TRANSFER_IN] += 1
                prof[i] = p2
                hc[p2, l] += 1
                if cells:                       # same group, the destination's entry band
                    sub[i] = draw_band(st[p, CELL], draws, p2, TRANSFER_IN) * Gr + c % Gr
                retire[i] = retirement_month(st[p, RETIRE], draws.retire_cdf[p2], draws.retire_guide[p2], birth[i],
                                             m - birth[i])
            if cells:
                state.hc_sub[p, l, c] -= 1
                state.hc_sub[prof[i], place[i], sub[i]] += 1
            schedule_staff(i, m + 1, st[p], staff, agents, state, out)
        elif k == EV_RETURN:                    # a retiree rejoins (retire and return) and draws when they leave
            hc[p, l] += 1
            state.ret[p, l] += 1
            join_out[m, p, l, RETIRE_RETURN] += 1
            prog[i] = RETURNED                  # (returners are not in the counts by band and group)
            M = state.head.shape[0]
            t = first_crossing(staff.cum_return[staff.return_row[p, l]], m + 1, M, exponential(st[p, RETURN]))
            if t < M:
                state.gone[p, l, t, 0] += 1
                state.ret_gone[t, p, l] += 1
        else:                                   # a trainee drops out or completes
            g = prog[i]
            tp = progs.trainee_prof[g]
            trn[g, l] -= 1
            if tp >= 0:
                hc[tp, l] -= 1
                tin[tp, l] -= 1
            if k == EV_DROP:
                prog[i] = GONE
                if tp >= 0:
                    leave_out[m, tp, l, LEAVER] += 1
            else:
                out.completions[m, g, l] += 1
                if tp >= 0:
                    leave_out[m, tp, l, COMPLETED] += 1
                if uniform(st[P + g, EMPLOY]) < progs.local[m, g, l]:
                    pend[npend] = i
                    npend += 1
                elif progs.graduate_cdf[g, l, L - 1] > 0.0:     # mobility: they may look elsewhere
                    x = uniform(st[P + g, MIGRATE])
                    cdf = progs.graduate_cdf[g, l]
                    if x < cdf[L - 1]:
                        l2 = first_above_cdf(cdf, x)
                        out.graduates_moved[m, g, l] += 1
                        place[i] = l2
                        pend[npend] = i
                        npend += 1
                    else:
                        prog[i] = GONE
                else:
                    prog[i] = GONE
        i = nxt
    state.count[PENDING] = npend


@njit(**NO_RC)
def place(m, st, staff, draws, progs, work, state, out):
    """Place: the month's completers wanting a local post take vacant posts before experienced hires, in
    random order within their staff group (each group's own stream); one who finds none is unplaced."""
    agents = agent_columns(work)
    P = state.hc.shape[0]
    prof, place, birth, retire, prog = agents.prof, agents.place, agents.birth, agents.retire, agents.prog
    pend, order = agents.pending, agents.order
    hc, tin, posts = state.hc, state.tin, state.posts
    produces = progs.produces
    npend = state.count[PENDING]
    top = 0                                     # gathered group by group (keeping their order), then shuffled
    for p in range(P):
        lo = top
        for j in range(npend):
            if produces[prog[pend[j]]] == p:
                order[top] = pend[j]
                top += 1
        for j in range(top - 1, lo, -1):
            k = lo + int(uniform(st[p, EMPLOY]) * (j - lo + 1))
            i = order[j]
            order[j] = order[k]
            order[k] = i
    for j in range(npend):
        i = order[j]
        g = prog[i]
        l = place[i]
        p = produces[g]
        if hc[p, l] - tin[p, l] + 1 > posts[m, p, l] + 1e-9:
            out.unplaced[m, g, l] += 1
            prog[i] = GONE
            continue
        prof[i] = p
        prog[i] = NO_PROGRAMME
        retire[i] = retirement_month(st[p, RETIRE], draws.retire_cdf[p], draws.retire_guide[p], birth[i],
                                     m - birth[i])
        if state.hc_sub.shape[2] > 1:           # their group from training, a newly qualified entry band
            Gr = draws.group_cdf.shape[4]
            g = agents.sub[i] % Gr
            agents.sub[i] = draw_band(st[p, CELL], draws, p, NEWLY_QUALIFIED) * Gr + g
            state.hc_sub[p, l, agents.sub[i]] += 1
            out.joiners_by_group[m, p, l, g] += 1
        schedule_staff(i, m + 1, st[p], staff, agents, state, out)
        hc[p, l] += 1
        out.joiners[m, p, l, NEWLY_QUALIFIED] += 1


@njit(**NO_RC)
def rotate(m, st, progs, work, state, out):
    """Rotate: in a month of its schedule, each trainee of a programme still in training after the month's
    dropouts and completions (its starters come later) draws a new place (its programme's SCHEDULE stream,
    one draw each, in agent order); a move is counted as rotation_out / rotation_in of their staff group.
    A trainee's dropout rate stays their cohort's. ``agents.rota`` is compacted to those still in training."""
    agents = agent_columns(work)
    G = progs.produces.shape[0]
    rotating = False
    for g in range(G):
        if progs.rotate[m, g]:
            rotating = True
    if not rotating:
        return
    P = state.hc.shape[0]
    L = progs.rotation_cdf.shape[2]
    rota, prog, place = agents.rota, agents.prog, agents.place
    hc, tin, trn = state.hc, state.tin, state.trn
    kept = 0
    for k in range(state.count[ROTATING]):
        i = rota[k]
        g = prog[i]
        if g < 0:                               # gone, or now staff
            continue
        rota[kept] = i
        kept += 1
        if not progs.rotate[m, g]:
            continue
        l = place[i]
        cdf = progs.rotation_cdf[g, l]
        if cdf[L - 1] <= 0.0:                   # no place of the ICS has a share: nobody moves
            continue
        x = uniform(st[P + g, SCHEDULE])
        l2 = first_above_cdf(cdf, x)
        if l2 == l:                             # drew the current place: stays
            continue
        place[i] = l2
        trn[g, l] -= 1
        trn[g, l2] += 1
        tp = progs.trainee_prof[g]
        if tp >= 0:
            hc[tp, l] -= 1
            hc[tp, l2] += 1
            tin[tp, l] -= 1
            tin[tp, l2] += 1
            out.leavers[m, tp, l, ROTATION_OUT] += 1
            out.joiners[m, tp, l2, ROTATION_IN] += 1
    state.count[ROTATING] = kept


@njit(**NO_RC)
def start(m, st, progs, draws, work, state, out):
    """Start: the month's intake starts training (in-service trainees join their staff group's headcount)."""
    agents = agent_columns(work)
    G, L = state.trn.shape
    P = state.hc.shape[0]
    cap = agents.prof.shape[0]
    hc, tin, trn, intake = state.hc, state.tin, state.trn, progs.intake
    n = state.count[AGENTS]
    nrota = state.count[ROTATING]
    for g in range(G):
        tp = progs.trainee_prof[g]
        for l in range(L):
            for _ in range(intake[m, g, l]):
                if n >= cap:
                    return OVERFLOW
                start_trainee(n, g, l, m, m, st[P + g], progs, draws, agents, state)
                if state.scheduled[g]:
                    agents.rota[nrota] = n
                    nrota += 1
                n += 1
            trn[g, l] += intake[m, g, l]
            if tp >= 0:
                hc[tp, l] += intake[m, g, l]
                tin[tp, l] += intake[m, g, l]
                out.joiners[m, tp, l, TRAINING_START] += intake[m, g, l]
    state.count[AGENTS] = n
    state.count[ROTATING] = nrota
    return 0


@njit(**NO_RC)
def record(m, state, out):
    """Record: the stocks at the end of the month (a loop: array assignment needs reference counting)."""
    P, L = state.hc.shape
    for p in range(P):
        for l in range(L):
            out.headcount[m, p, l] = state.hc[p, l]
            out.returned[m, p, l] = state.ret[p, l]
    G = state.trn.shape[0]
    for g in range(G):
        for l in range(L):
            out.trainees[m, g, l] = state.trn[g, l]
    SUB = state.hc_sub.shape[2]
    if SUB > 1:
        for p in range(P):
            for l in range(L):
                for c in range(SUB):
                    out.staff_by_group[m, p, l, c] = state.hc_sub[p, l, c]
