"""The kernel's random numbers: named xoshiro256** streams, per replicate, decision and owner.

Each replicate has one state per decision (``STREAMS``) *and* per owner (each profession, then each
programme): the decision's state is seeded from ``numpy.random.SeedSequence`` keyed by (seed,
replicate, the decision's key) and split into owners by xoshiro's jump (2^128 draws apart). Results
therefore do not depend on thread count or batching, and two scenarios share each replicate's numbers
decision by decision and owner by owner (common random numbers): a lever on one profession leaves the
random numbers, and so the replicates, of professions it does not reach unchanged. Numba's own
``np.random`` keeps one state per thread, so it is not used.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .jit import NO_RC

# The decisions that draw random numbers: (name, key). A stream's position here is its index in a
# replicate's states; its key seeds it, so a new stream takes a new key and leaves the others' numbers
# as they were. Every stream is always seeded: an all-zero xoshiro state returns 0 for ever.
STREAMS = (
    ("age", 0),             # ages of staff and trainees as they join
    ("retire", 1),          # retirement ages
    ("leave", 2),           # months of leaving
    ("rotate", 3),          # months and destinations of moves
    ("recruit", 4),         # experienced hires arriving
    ("train", 5),           # dropout months of trainees
    ("employ", 6),          # completers wanting a local post, and their order in the queue for posts
    ("schedule", 7),        # new places of trainees on a rotation schedule
    ("migrate", 8),         # where completers not taking a local post look for one (mobility)
    ("return", 9),          # whether a retiree returns, and when a returner leaves (retire and return)
    ("cell", 10),           # joiners' band and group (characteristics and bands; never drawn without them)
)
STREAM = {name: i for i, (name, _) in enumerate(STREAMS)}
N_STREAMS = len(STREAMS)
# their indices, as literals for the compiled code (tests/test_kernel_streams.py checks them against STREAMS)
AGE, RETIRE, LEAVE, ROTATE, RECRUIT, TRAIN, EMPLOY, SCHEDULE, MIGRATE, RETURN, CELL = range(11)


def stream_states(seed: int, replicates: range | np.ndarray) -> np.ndarray:
    """[R, N_STREAMS, 4] uint64 xoshiro states: replicate r's stream named n is keyed by (seed, r, key of n).

    Seeding is Python work (~12 µs a stream): ~0.1 ms a replicate of the default ICS, next to ~13 ms of
    kernel on one core, so every stream is seeded whether or not the plan draws from it."""
    out = np.empty((len(replicates), len(STREAMS), 4), np.uint64)
    for i, r in enumerate(replicates):
        for d, (_, key) in enumerate(STREAMS):
            out[i, d] = np.random.SeedSequence(seed, spawn_key=(int(r), key)).generate_state(4, np.uint64)
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


@njit(**NO_RC)
def uniform(s):
    """Uniform on [0, 1) with 53 random bits."""
    return (next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(**NO_RC)
def open_uniform(bits):
    """Uniform on the open interval (0, 1) from one draw's 64 bits (its top 53)."""
    return ((bits >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@njit(**NO_RC)
def exponential(s):
    """Unit exponential, strictly positive (the uniform is taken on the open interval)."""
    return -math.log(open_uniform(next_u64(s)))


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
