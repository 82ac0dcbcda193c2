"""Drawing from the kernel's distributions: ages (guide tables over a cdf) and event months (the first
crossing of a cumulative hazard).

Drawing a unit exponential and walking the cumulative hazard to where it is crossed is exact for
piecewise-constant monthly hazards; both searches below start from a good guess, because they run once
per agent and per event and a bisection of ~1,200 ages or ~7 steps of months would dominate the run.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .jit import NO_RC
from .rng import next_u64, open_uniform, uniform

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
def age_months(s, cdf, guide):
    """Age in whole months drawn from a cdf over months and its guide (rows of one table; inverse transform)."""
    return first_above(cdf, guide, 0, uniform(s))


@njit(**NO_RC)
def retirement_month(s, cdf, guide, birth, age_now):
    """Absolute month of retirement, given the agent has not retired by ``age_now`` (months); ``cdf`` and
    ``guide`` are the profession's rows of the retirement-age table (months)."""
    g0 = cdf[age_now] if age_now < cdf.shape[0] else 1.0
    if g0 >= 1.0:
        return birth + age_now + 1
    target = g0 + uniform(s) * (1.0 - g0)
    return birth + first_above(cdf, guide, age_now + 1, target)


@njit(**NO_RC)
def first_crossing(cum, lo, hi, e):
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


@njit(**NO_RC)
def crossing(s, cum, lo, hi):
    """``first_crossing(cum, lo, hi, exponential(s))``, the same month from the same one draw of stream ``s``,
    taking the exponential's logarithm only where it can matter (a log is ~15% of the kernel's time).

    -log(u) >= 1 - u, so where 1 - u exceeds the whole range's hazard by far more than any rounding (1e-9 of
    it, against ~1e-16 for a log and a sum), the exponential does too and nothing crosses in the range.
    """
    bits = next_u64(s)
    if hi <= lo:
        return hi
    base = cum[lo] if lo < cum.shape[0] else cum[-1]
    if cum[hi] <= base:
        return hi
    u = open_uniform(bits)                      # as ``rng.exponential``
    if 1.0 - u > (cum[hi] - base) + 1e-9 * (1.0 + cum[hi]):
        return hi
    return first_crossing(cum, lo, hi, -math.log(u))


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
def first_above_cdf(cdf, x):
    """First index i with cdf[i] > x, or the last index if none (cdf non-decreasing): a bisection, the same
    answer as a scan from 0, in log2(L) steps where a national scenario has hundreds of locations."""
    a = 0
    b = cdf.shape[0] - 1
    while a < b:
        mid = (a + b) // 2
        if cdf[mid] > x:
            b = mid
        else:
            a = mid + 1
    return a
