"""The Monte Carlo kernel: one replicate per thread, events drawn once per agent.

Each agent's next event month (retirement, leaving, rotation; dropout or completion for trainees) is
drawn when it joins, from its hazards over the months ahead, and the agent is filed in that month's
bucket of a calendar; a month then costs only its events, not a draw per agent. Drawing a unit
exponential and walking the cumulative hazard is exact for piecewise-constant monthly hazards.
Leaving and retiring are not filed: nothing moves a staff member before their next event, so the
month's counts are added when it is drawn (a third of all events, never visited again).

Random numbers: one xoshiro256** state per replicate, per decision (ages, retirement, leaving,
rotation, recruitment, training, employment, the new places of scheduled rotations) *and* per owner
(each profession, each programme), seeded from ``numpy.random.SeedSequence`` per (seed, replicate,
decision) and split into owners by xoshiro's jump (2^128 draws apart). Results do not depend on
thread count or batching, and two scenarios share each replicate's numbers decision by decision and
owner by owner (common random numbers): a lever on one profession leaves the random numbers, and so
the replicates, of professions it does not reach unchanged. Numba's own ``np.random`` keeps one state
per thread, so it is not used. The RNG lives in this module on purpose: numba's on-disk cache does not
notice changes to functions imported from other modules.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# random streams (decisions)
AGE, RETIRE, LEAVE, ROTATE, RECRUIT, TRAIN, EMPLOY, SCHEDULE = range(8)
N_STREAMS = 8
# indices into plan.SOURCES and plan.REASONS
NEWLY_QUALIFIED, ROTATION_IN, TRAINING_START, TRANSFER_IN = 0, 4, 5, 6
RETIREMENT, LEAVER, ROTATION_OUT, COMPLETED, TRANSFER_OUT = 0, 1, 2, 3, 4
# event kinds
EV_ROTATE, EV_DROP, EV_COMPLETE = range(3)
NO_PROGRAMME = -1
GONE = -2               # ``prog`` of a trainee who dropped out or completed without taking a local post
OVERFLOW = 1
# The per-agent code is compiled without reference counting (numba's ``_nrt`` option): it allocates
# nothing, and the atomic counts numba keeps on every array view and array argument cost ~17% of a run.
NO_RC = dict(cache=True, _nrt=False)
WORK_ROWS = 10          # per agent slot: profession, place, birth, retirement, programme, event, link; pending,
                        # order, rotating trainees


def stream_states(seed: int, replicates: range | np.ndarray, schedule: bool = True) -> np.ndarray:
    """[R, N_STREAMS, 4] uint64 xoshiro states, replicate r stream d keyed by (seed, r, d).

    ``schedule=False`` leaves the SCHEDULE stream (destinations of scheduled rotations) unseeded, all
    zero, for plans without rotation schedules, which never draw from it: seeding is Python-side work.
    """
    out = np.zeros((len(replicates), N_STREAMS, 4), np.uint64)
    streams = N_STREAMS if schedule else SCHEDULE
    for i, r in enumerate(replicates):
        for d in range(streams):
            out[i, d] = np.random.SeedSequence(seed, spawn_key=(int(r), d)).generate_state(4, np.uint64)
    return out


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(**NO_RC)
def next_u64(s):
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


JUMP = np.array([0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C], np.uint64)


@njit(cache=True)
def _jump(s, jump):
    """Advance state ``s`` by 2^128 draws (xoshiro256**'s jump): non-overlapping sub-streams."""
    t = np.zeros(4, np.uint64)
    for w in range(4):
        for b in range(64):
            if (jump[w] >> np.uint64(b)) & np.uint64(1):
                t[0] ^= s[0]
                t[1] ^= s[1]
                t[2] ^= s[2]
                t[3] ^= s[3]
            next_u64(s)
    s[:] = t


@njit(cache=True)
def owner_streams(base, owners, jump):
    """[owners, N_STREAMS, 4]: owner k's stream of each decision is the replicate's stream jumped k times."""
    out = np.empty((owners,) + base.shape, np.uint64)
    s = base.copy()
    for k in range(owners):
        out[k] = s
        for d in range(s.shape[0]):
            _jump(s[d], jump)
    return out


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
def uniform(s):
    """Uniform on [0, 1) with 53 random bits."""
    return (next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(**NO_RC)
def exponential(s):
    """Unit exponential, strictly positive (the uniform is taken on the open interval)."""
    u = ((next_u64(s) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    return -math.log(u)


GUIDE = 1024            # buckets of a guide table; a power of two, so ``target * GUIDE`` is exact


@njit(cache=True)
def guide_table(cdf):
    """[rows, GUIDE] guide table for fast inverse-transform draws from each row of ``cdf``.

    ``guide[r, k]`` is the first index whose ``cdf * GUIDE`` reaches k: no answer for a target in
    [k / GUIDE, (k + 1) / GUIDE) lies below it, so a search may start there (Chen & Asau's guide table).
    A draw then costs a step or two instead of a bisection of ~1,200 ages, and gives the same index.
    """
    rows, n = cdf.shape
    guide = np.empty((rows, GUIDE), np.int32)
    for r in range(rows):
        i = 0
        for k in range(GUIDE):
            while i < n - 1 and cdf[r, i] * GUIDE < k:
                i += 1
            guide[r, k] = i
    return guide


@njit(**NO_RC)
def first_above(cdf, guide, lo, target):
    """First index a >= lo with cdf[a] > target (cdf non-decreasing, cdf[-1] > target; else the last
    index, or lo if beyond it), starting from ``guide`` (a row of ``guide_table``)."""
    k = int(target * GUIDE)
    i = guide[k if k < GUIDE else GUIDE - 1]
    if i < lo:
        i = lo
    hi = cdf.shape[0] - 1
    while i < hi and cdf[i] <= target:
        i += 1
    return i


@njit(**NO_RC)
def age_months(s, table, row):
    """Age in whole months drawn from row ``row`` of a (cdf over months, guide) table (inverse transform)."""
    return first_above(table[0][row], table[1][row], 0, uniform(s))


@njit(**NO_RC)
def poisson(s, lam):
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        limit = math.exp(-lam)
        k = 0
        prod = uniform(s)
        while prod > limit:
            k += 1
            prod *= uniform(s)
        return k
    # PTRS, Hörmann (1993), as in numpy
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v * invalpha / (a / (us * us) + b)) <= -lam + k * loglam - math.lgamma(k + 1.0):
            return int(k)


@njit(**NO_RC)
def retirement_month(s, table, row, birth, age_now):
    """Absolute month of retirement, given the agent has not retired by ``age_now`` (months); ``table`` is
    (cdf of retirement age in months, guide) and ``row`` the profession."""
    cdf = table[0][row]
    g0 = cdf[age_now] if age_now < cdf.shape[0] else 1.0
    if g0 >= 1.0:
        return birth + age_now + 1
    target = g0 + uniform(s) * (1.0 - g0)
    return birth + first_above(cdf, table[1][row], age_now + 1, target)


@njit(cache=True)
def one_replicate(st, leave_h, hazards, recruit, recruit_cap, retire_t, staff_age_t, joiner_age_t, init_hc, rot_cdf,
                  rot_h, transfer_h, prog_prod, prog_tp, prog_months, prog_q, entry_age_t, intake, local, cohorts,
                  prog_rot, prog_rot_cdf, work, vac_cap, hc_out, join_out, leave_out, trn_out, comp_out, unp_out):
    """One replicate (see ``_replicate``): allocates its small arrays, so the work itself runs without
    reference counting."""
    M, P, L = leave_h.shape
    G = prog_prod.shape[0]
    S = recruit.shape[3]
    limited = False
    for m in range(M):
        for p in range(P):
            if recruit_cap[m, p] != np.inf:
                limited = True
    # hires waiting for a start (recruitment capacity): per profession, runs (place, source, count), FIFO;
    # each month adds at most L * S runs
    queue = np.zeros((P, M * L * S + 1 if limited else 1, 3), np.int64)
    # trainees of programmes with a rotation schedule, in agent order (compacted at each rotation)
    scheduled = np.zeros(G, np.bool_)
    for g in range(G):
        for m in range(M):
            if prog_rot[m, g]:
                scheduled[g] = True
    scratch = (np.full(M, -1, np.int32), np.zeros((P, L), np.int64), np.zeros((G, L), np.int64),
               np.zeros((P, L), np.int64), queue, np.zeros(P, np.int64), np.zeros(P, np.int64), scheduled,
               np.zeros((M, P, L), np.int64))
    return _replicate(st, leave_h, hazards, recruit, recruit_cap, retire_t, staff_age_t, joiner_age_t, init_hc, rot_cdf,
                      rot_h, transfer_h, prog_prod, prog_tp, prog_months, prog_q, entry_age_t, intake, local, cohorts,
                      prog_rot, prog_rot_cdf, work, scratch, vac_cap, hc_out, join_out, leave_out, trn_out, comp_out,
                      unp_out)


@njit(**NO_RC)
def _replicate(st, leave_h, hazards, recruit, recruit_cap, retire_t, staff_age_t, joiner_age_t, init_hc, rot_cdf,
               rot_h, transfer_h, prog_prod, prog_tp, prog_months, prog_q, entry_age_t, intake, local, cohorts,
               prog_rot, prog_rot_cdf, work, scratch, vac_cap, hc_out, join_out, leave_out, trn_out, comp_out, unp_out):
    """One replicate: the population at the start, then month by month its events, hires and starters.

    ``vac_cap`` [M, P, L] is the staff (excluding in-service trainees) a place may employ: funded posts
    in heads where hiring is only into vacancies, else infinite. Newly qualified staff are placed
    first, then experienced hires; a graduate with no vacancy is lost and counted in ``unp_out``.

    ``recruit_cap`` [M, P]: the most experienced hires of a profession that may start in the month (inf:
    no limit). Hires over it wait in a first-come-first-served queue per profession (runs of place,
    source, count), served before the next month's new hires; a hire whose turn comes when their place
    has no vacancy is lost and uses no capacity.

    ``prog_rot`` [M, G]: in those months every trainee of the programme still in training after the
    month's dropouts and completions (this month's starters come later) draws a new place from
    ``prog_rot_cdf[g, place]`` (the SCHEDULE stream, one draw each, in agent order); a move is counted as
    rotation_out / rotation_in of their staff group. A trainee's dropout rate stays their cohort's.

    ``hazards``: (cum_leave, cum_rot, age_flat, age_mult, age_runs), built once by ``run_replicates``.
    ``retire_t``, ``staff_age_t``, ``joiner_age_t``, ``entry_age_t``: (cdf, guide table) pairs, see ``guide_table``.
    ``work`` [WORK_ROWS, cap]: scratch for the agents, reused from replicate to replicate (nothing in it is
    read before this replicate writes it).
    """
    M, P, L = leave_h.shape
    G = prog_prod.shape[0]
    cap = work.shape[1]
    prof, place, birth, retire, prog, kind, link = work[0], work[1], work[2], work[3], work[4], work[5], work[6]
    # tin: in-service trainees counted in hc; gone: staff who leave or retire, by month, as drawn
    head, hc, trn, tin, queue, q_first, q_end, scheduled, gone = scratch
    agents = (prof, place, birth, retire, kind, link, head, gone, leave_out)
    pend = work[7]                               # this month's completers who want a local post
    order = work[8]                              # ... grouped by staff group, in random order within it
    n = 0
    S = recruit.shape[3]
    rota = work[9]
    nrota = 0

    # --- the population at the end of month -1 ---------------------------------------------
    for p in range(P):
        for l in range(L):
            k = init_hc[p, l]
            if n + k > cap:
                return OVERFLOW
            _new_staff(n, k, p, l, -1, st[p], staff_age_t, retire_t, hazards, agents, prog)
            hc[p, l] += k
            n += k
    for c in range(cohorts.shape[0]):
        g, l, s, count = cohorts[c, 0], cohorts[c, 1], cohorts[c, 2], cohorts[c, 3]
        for _ in range(count):
            if n >= cap:
                return OVERFLOW
            a = age_months(st[P + g, AGE], entry_age_t, g)
            _new_trainee(n, g, l, s, s - a, -1, st[P + g], prog_prod, prog_months, prog_q, prof, place, birth, prog,
                         kind, link, head, M)
            if scheduled[g]:
                rota[nrota] = n
                nrota += 1
            trn[g, l] += 1
            if prog_tp[g] >= 0:
                hc[prog_tp[g], l] += 1
                tin[prog_tp[g], l] += 1
            n += 1

    # --- months ----------------------------------------------------------------------------
    for m in range(M):
        npend = 0
        for p in range(P):
            for l in range(L):
                hc[p, l] -= gone[m, p, l]
        i = head[m]
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
                total = rot
                for p2 in range(P):
                    total += transfer_h[m, p, l, p2]
                x = u * total
                hc[p, l] -= 1
                if x < rot:
                    x = x / rot
                    l2 = 0
                    while l2 < L - 1 and rot_cdf[l, l2] <= x:
                        l2 += 1
                    leave_out[m, p, l, ROTATION_OUT] += 1
                    join_out[m, p, l2, ROTATION_IN] += 1
                    place[i] = l2
                    hc[p, l2] += 1
                else:
                    x -= rot
                    p2 = 0
                    while p2 < P - 1 and (transfer_h[m, p, l, p2] == 0.0 or x >= transfer_h[m, p, l, p2]):
                        x -= transfer_h[m, p, l, p2]
                        p2 += 1
                    leave_out[m, p, l, TRANSFER_OUT] += 1
                    join_out[m, p2, l, TRANSFER_IN] += 1
                    prof[i] = p2
                    hc[p2, l] += 1
                    retire[i] = retirement_month(st[p, RETIRE], retire_t, p2, birth[i], m - birth[i])
                _schedule_staff(i, m + 1, st[p], hazards, agents)
            else:                                   # a trainee drops out or completes
                g = prog[i]
                tp = prog_tp[g]
                trn[g, l] -= 1
                if tp >= 0:
                    hc[tp, l] -= 1
                    tin[tp, l] -= 1
                if k == EV_DROP:
                    prog[i] = GONE
                    if tp >= 0:
                        leave_out[m, tp, l, LEAVER] += 1
                else:
                    comp_out[m, g, l] += 1
                    if tp >= 0:
                        leave_out[m, tp, l, COMPLETED] += 1
                    if uniform(st[P + g, EMPLOY]) < local[m, g, l]:
                        pend[npend] = i
                        npend += 1
                    else:
                        prog[i] = GONE
            i = nxt

        # graduates compete for posts in random order within their staff group, on its own stream: gathered
        # group by group (keeping their order), then shuffled group by group
        top = 0
        for p in range(P):
            lo = top
            for j in range(npend):
                if prog_prod[prog[pend[j]]] == p:
                    order[top] = pend[j]
                    top += 1
            for j in range(top - 1, lo, -1):
                k = lo + int(uniform(st[p, EMPLOY]) * (j - lo + 1))
                i = order[j]
                order[j] = order[k]
                order[k] = i
        for j in range(npend):                      # newly qualified staff take vacant posts first
            i = order[j]
            g = prog[i]
            l = place[i]
            p = prog_prod[g]
            if hc[p, l] - tin[p, l] + 1 > vac_cap[m, p, l] + 1e-9:
                unp_out[m, g, l] += 1
                prog[i] = GONE
                continue
            prof[i] = p
            prog[i] = NO_PROGRAMME
            retire[i] = retirement_month(st[p, RETIRE], retire_t, p, birth[i], m - birth[i])
            _schedule_staff(i, m + 1, st[p], hazards, agents)
            hc[p, l] += 1
            join_out[m, p, l, NEWLY_QUALIFIED] += 1

        rotating = False                            # scheduled rotations of trainees (doctors in training)
        for g in range(G):
            if prog_rot[m, g]:
                rotating = True
        if rotating:
            nrota = _rotate_trainees(m, rota, nrota, st[P:], prog_rot, prog_rot_cdf, prog_tp, prog, place, hc, tin, trn,
                                     join_out, leave_out)

        for p in range(P):                          # experienced hires, by source
            if recruit_cap[m, p] != np.inf or q_first[p] < q_end[p]:
                n = _limited_hires(m, p, n, cap, recruit, recruit_cap, queue, q_first, q_end, vac_cap, hc, tin,
                                   st[p], joiner_age_t, retire_t, hazards, agents, prog, join_out)
                if n < 0:
                    return OVERFLOW
                continue
            for l in range(L):
                for src in range(S):
                    arrivals = poisson(st[p, RECRUIT], recruit[m, p, l, src])
                    k = 0                           # those who find a vacancy, in turn
                    while k < arrivals and hc[p, l] + k - tin[p, l] + 1 <= vac_cap[m, p, l] + 1e-9:
                        k += 1
                    if n + k > cap:
                        return OVERFLOW
                    _new_staff(n, k, p, l, m, st[p], joiner_age_t, retire_t, hazards, agents, prog)
                    n += k
                    hc[p, l] += k
                    join_out[m, p, l, 1 + src] += k

        for g in range(G):                          # starters
            for l in range(L):
                for _ in range(intake[m, g, l]):
                    if n >= cap:
                        return OVERFLOW
                    a = age_months(st[P + g, AGE], entry_age_t, g)
                    _new_trainee(n, g, l, m, m - a, m, st[P + g], prog_prod, prog_months, prog_q, prof, place, birth,
                                 prog, kind, link, head, M)
                    if scheduled[g]:
                        rota[nrota] = n
                        nrota += 1
                    n += 1
                trn[g, l] += intake[m, g, l]
                if prog_tp[g] >= 0:
                    hc[prog_tp[g], l] += intake[m, g, l]
                    tin[prog_tp[g], l] += intake[m, g, l]
                    join_out[m, prog_tp[g], l, TRAINING_START] += intake[m, g, l]

        for p in range(P):                          # (a loop: array assignment needs reference counting)
            for l in range(L):
                hc_out[m, p, l] = hc[p, l]
        for g in range(G):
            for l in range(L):
                trn_out[m, g, l] = trn[g, l]
    return 0


@njit(**NO_RC)
def _rotate_trainees(m, rota, nrota, st, prog_rot, prog_rot_cdf, prog_tp, prog, place, hc, tin, trn, join_out,
                     leave_out):
    """Month m's scheduled rotations: each trainee still in training among ``rota[:nrota]`` (the trainees of
    programmes with a schedule, in agent order) whose programme rotates this month draws a new place.
    Returns the new length of ``rota``, compacted to the trainees still in training."""
    L = prog_rot_cdf.shape[2]
    kept = 0
    for k in range(nrota):
        i = rota[k]
        g = prog[i]
        if g < 0:                                   # gone, or now staff
            continue
        rota[kept] = i
        kept += 1
        if not prog_rot[m, g]:
            continue
        l = place[i]
        cdf = prog_rot_cdf[g, l]
        if cdf[L - 1] <= 0.0:                       # no place of the ICS has a share: nobody moves
            continue
        x = uniform(st[g, SCHEDULE])
        l2 = 0
        while l2 < L - 1 and cdf[l2] <= x:
            l2 += 1
        if l2 == l:                                 # drew the current place: stays
            continue
        place[i] = l2
        trn[g, l] -= 1
        trn[g, l2] += 1
        tp = prog_tp[g]
        if tp >= 0:
            hc[tp, l] -= 1
            hc[tp, l2] += 1
            tin[tp, l] -= 1
            tin[tp, l2] += 1
            leave_out[m, tp, l, ROTATION_OUT] += 1
            join_out[m, tp, l2, ROTATION_IN] += 1
    return kept


@njit(**NO_RC)
def _limited_hires(m, p, n, cap, recruit, recruit_cap, queue, q_first, q_end, vac_cap, hc, tin, st, joiner_age_t,
                   retire_t, hazards, agents, prog, join_out):
    """Month m's experienced hires of profession p under its recruitment capacity; returns the new agent
    count (-1: out of slots). The queue is served first, in order, then the month's new hires in the
    usual order (place, then source); once the month's capacity is used the rest join the queue."""
    L = recruit.shape[2]
    room = recruit_cap[m, p]                        # float: inf where only the queue is left to serve
    while q_first[p] < q_end[p] and room > 0:
        j = q_first[p]
        l = queue[p, j, 0]
        while queue[p, j, 2] > 0 and room > 0:
            if hc[p, l] - tin[p, l] + 1 > vac_cap[m, p, l] + 1e-9:
                queue[p, j, 2] = 0                  # no vacancy when their turn comes: the offers lapse
                break
            n = _start_hire(n, cap, m, p, l, queue[p, j, 1], st, joiner_age_t, retire_t, hazards, agents, prog,
                            hc, join_out)
            if n < 0:
                return n
            queue[p, j, 2] -= 1
            room -= 1
        if queue[p, j, 2] == 0:
            q_first[p] += 1
    for l in range(L):
        for src in range(recruit.shape[3]):
            arrivals = poisson(st[RECRUIT], recruit[m, p, l, src])
            for k in range(arrivals):
                if room <= 0:                       # capacity used: the rest wait for a later month
                    e = q_end[p]
                    queue[p, e, 0] = l
                    queue[p, e, 1] = src
                    queue[p, e, 2] = arrivals - k
                    q_end[p] = e + 1
                    break
                if hc[p, l] - tin[p, l] + 1 > vac_cap[m, p, l] + 1e-9:
                    break                           # no vacancy for this hire
                n = _start_hire(n, cap, m, p, l, src, st, joiner_age_t, retire_t, hazards, agents, prog, hc,
                                join_out)
                if n < 0:
                    return n
                room -= 1
    return n


@njit(**NO_RC)
def _start_hire(n, cap, m, p, l, src, st, joiner_age_t, retire_t, hazards, agents, prog, hc, join_out):
    """An experienced hire from source ``src`` starts at place l in month m, as agent n; returns n + 1."""
    if n >= cap:
        return -1
    _new_staff(n, 1, p, l, m, st, joiner_age_t, retire_t, hazards, agents, prog)
    hc[p, l] += 1
    join_out[m, p, l, 1 + src] += 1
    return n + 1


@njit(**NO_RC)
def _push(i, t, ev, kind, link, head):
    kind[i] = ev
    link[i] = head[t]
    head[t] = i


@njit(**NO_RC)
def _first_crossing(cum, lo, hi, e):
    """First month t in [lo, hi) with cum[t+1] - cum[lo] >= e, else hi (cum is non-decreasing).

    A month with zero hazard never holds an event, even where cum[lo] + e rounds to cum[lo].
    """
    base = cum[lo] if lo < cum.shape[0] else cum[-1]
    target = base + e
    if hi <= lo or cum[hi] < target or cum[hi] <= base:
        return hi
    a = lo + 1                                  # the answer + 1 is the first a in [a, b] with cum[a] >= target
    b = hi                                      # (and > base); cum[hi] is such an a
    # first guess: where the average hazard over the range would cross (exact for a constant hazard, the
    # common case: then a step or two, not a bisection of ~7 steps)
    g = a + int((target - base) / (cum[hi] - base) * (hi - a))
    if g > b:
        g = b
    if cum[g] >= target and cum[g] > base:
        b = g
        if g > a and not (cum[g - 1] >= target and cum[g - 1] > base):
            return g - 1
    else:
        a = g + 1
        if a < b and cum[a] >= target and cum[a] > base:
            return a - 1
    while a < b:
        mid = (a + b) // 2
        if cum[mid] >= target and cum[mid] > base:
            b = mid
        else:
            a = mid + 1
    return a - 1


@njit(cache=True, inline="always")
def _new_staff(n, k, p, l, m, st, age_t, retire_t, hazards, agents, prog):
    """Staff members n .. n+k-1 join profession p at place l in month m (-1: the starting population).

    In three passes (ages, retirements, next events): within a pass the agents are independent, so the
    CPU overlaps their work (the starting population ~6% faster). Each draw is from its decision's own
    stream in agent order, so the numbers are those of one pass per agent.
    """
    prof, place, birth, retire = agents[0], agents[1], agents[2], agents[3]
    for j in range(n, n + k):
        a = age_months(st[AGE], age_t, p)
        prof[j] = p
        place[j] = l
        birth[j] = m - a
        prog[j] = NO_PROGRAMME
    for j in range(n, n + k):
        retire[j] = retirement_month(st[RETIRE], retire_t, p, birth[j], m - birth[j])
    for j in range(n, n + k):
        _schedule_staff(j, m + 1, st, hazards, agents)


@njit(cache=True, inline="always")
def _schedule_staff(i, m_from, st, hazards, agents):
    """Draw staff member i's next event at or after ``m_from`` (none if past the horizon): a move is filed
    under its month; leaving or retiring is counted in its month's leavers and ``gone`` at once.

    Priority within a month: retirement, then leaving, then a move. Months are searched for on the
    cumulative hazard (``_first_crossing``; run by run of years of age with one multiplier, where leaving
    varies with age).
    Inlined into its callers: as a call, passing the tuples of arrays cost ~20% of the whole run.
    """
    cum_leave, cum_rot, age_flat, age_mult, age_next = hazards
    prof, place, birth, retire, kind, link, head, gone, leave_out = agents
    M = head.shape[0]
    p = prof[i]
    l = place[i]
    b = birth[i]
    r = retire[i]
    limit = r if r < M else M
    e = exponential(st[LEAVE])
    if age_flat[p, l]:
        leave_at = _first_crossing(cum_leave[p, l], m_from, limit, e)
    else:                                       # a run of years of age with one multiplier at a time
        cum = cum_leave[p, l]
        top = age_mult.shape[2] - 1
        leave_at = limit
        acc = 0.0
        t = m_from
        while t < limit:
            age = (t - b) // 12
            if age > top:
                age = top
            seg_end = b + age_next[p, l, age] * 12
            if seg_end > limit:
                seg_end = limit
            k = age_mult[p, l, age]
            inc = k * (cum[seg_end] - cum[t])
            if inc > 0.0 and acc + inc >= e:
                hit = _first_crossing(cum, t, seg_end, (e - acc) / k)
                if hit < seg_end:
                    leave_at = hit
                    break
            acc += inc
            t = seg_end
    e = exponential(st[ROTATE])
    rot_at = _first_crossing(cum_rot[p, l], m_from, leave_at, e)
    if rot_at < leave_at:
        _push(i, rot_at, EV_ROTATE, kind, link, head)
    elif leave_at < limit:                      # counted now: nothing moves them before then
        gone[leave_at, p, l] += 1
        leave_out[leave_at, p, l, LEAVER] += 1
    elif r < M:
        gone[r, p, l] += 1
        leave_out[r, p, l, RETIREMENT] += 1


@njit(cache=True)
def age_runs(age_mult, months):
    """[P, L, A] for each year of age, the first later age (years) with another leaving multiplier; past
    the last change, an age no one reaches within ``months`` of the horizon. Lets the leaving draw step
    over runs of years with one multiplier (two or three runs in the shipped scenarios, not ~10 years)."""
    P, L, A = age_mult.shape
    out = np.empty((P, L, A), np.int64)
    never = A + months // 12 + 200              # beyond any birth month's reach
    for p in range(P):
        for l in range(L):
            nxt = never
            for a in range(A - 1, -1, -1):
                out[p, l, a] = nxt
                if a > 0 and age_mult[p, l, a - 1] != age_mult[p, l, a]:
                    nxt = a
    return out


@njit(**NO_RC)
def _new_trainee(i, g, l, started, b, m_from, st, prog_prod, prog_months, prog_q, prof, place, birth, prog, kind,
                 link, head, M):
    """A trainee who started at month ``started``; checks for dropout run from ``m_from``+1 on."""
    prof[i] = prog_prod[g]
    place[i] = l
    birth[i] = b
    prog[i] = g
    finish = started + prog_months[g]
    q = prog_q[started if started > 0 else 0, g, l]      # the dropout rate of the cohort's start month
    u = uniform(st[TRAIN])
    if q > 0.0:
        d = math.ceil(math.log(1.0 - u) / math.log(1.0 - q))
        drop_at = m_from + (d if d >= 1 else 1)
    else:
        drop_at = finish + 1
    if drop_at <= finish:
        if drop_at < M:
            _push(i, drop_at, EV_DROP, kind, link, head)
    elif finish < M:
        _push(i, finish, EV_COMPLETE, kind, link, head)


@njit(parallel=True, cache=True)
def run_replicates(states, leave_h, cum_leave, cum_rot, age_flat, recruit, recruit_cap, age_mult, retire_cdf,
                   staff_age_cdf, joiner_age_cdf, init_hc, rot_cdf, rot_h, transfer_h, prog_prod, prog_tp, prog_months,
                   prog_q, entry_age_cdf, intake, local, cohorts, prog_rot, prog_rot_cdf, cap, vac_cap, hc_out,
                   join_out, leave_out, trn_out, comp_out, unp_out, status, chunks):
    """Every replicate of ``states`` into the outputs; ``chunks`` (the thread count) groups the replicates,
    r = c, c + chunks, ..., to share scratch arrays: the results do not depend on it."""
    # age and retirement distributions as (cdf, guide table): built once, shared by the replicates
    retire_t = (retire_cdf, guide_table(retire_cdf))
    staff_age_t = (staff_age_cdf, guide_table(staff_age_cdf))
    joiner_age_t = (joiner_age_cdf, guide_table(joiner_age_cdf))
    entry_age_t = (entry_age_cdf, guide_table(entry_age_cdf))
    hazards = (cum_leave, cum_rot, age_flat, age_mult, age_runs(age_mult, leave_h.shape[0]))
    R = states.shape[0]
    T = min(R, chunks)
    for c in prange(T):                         # a chunk of replicates per thread, sharing scratch arrays
        work = np.empty((WORK_ROWS, cap), np.int32)
        for r in range(c, R, T):
            # the replicate's streams, one set per profession and then per programme
            st = owner_streams(states[r], leave_h.shape[1] + prog_prod.shape[0], JUMP)
            vc = vac_cap[0] if vac_cap.shape[0] == 1 else vac_cap[r]     # one cap for all replicates, or one each
            status[r] = one_replicate(st, leave_h, hazards, recruit, recruit_cap, retire_t, staff_age_t, joiner_age_t,
                                      init_hc, rot_cdf, rot_h, transfer_h, prog_prod, prog_tp, prog_months, prog_q,
                                      entry_age_t, intake, local, cohorts, prog_rot, prog_rot_cdf, work, vc, hc_out[r],
                                      join_out[r], leave_out[r], trn_out[r], comp_out[r], unp_out[r])
