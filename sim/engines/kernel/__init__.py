"""The ``kernel`` engine: numba Monte Carlo over replicates in parallel."""
from __future__ import annotations

import math

import numpy as np

from ...model.plan import REASONS, SOURCES, Plan
from .core import OVERFLOW, run_replicates, stream_states


def capacity(plan: Plan) -> int:
    """Agent slots a replicate can need: everyone present at the start plus every possible arrival."""
    expected_hires = float(plan.recruit_rate.sum())
    return int(plan.init_headcount.sum() + plan.init_cohorts[:, 3].sum() + plan.intake.sum()
               + expected_hires + 10 * math.sqrt(expected_hires) + 100)


def simulate(plan: Plan, replicates, seed: int) -> dict[str, np.ndarray]:
    """Raw counts for the given replicate numbers: headcount, joiners, leavers, trainees, completions."""
    reps = np.asarray(list(replicates), dtype=np.int64)
    R = len(reps)
    M, P, L = plan.shape
    G = len(plan.programmes)
    out = {
        "headcount": np.zeros((R, M, P, L), np.int32),
        "joiners": np.zeros((R, M, P, L, len(SOURCES)), np.int32),
        "leavers": np.zeros((R, M, P, L, len(REASONS)), np.int32),
        "trainees": np.zeros((R, M, G, L), np.int32),
        "completions": np.zeros((R, M, G, L), np.int32),
    }
    status = np.zeros(R, np.int64)
    run_replicates(stream_states(seed, reps), *plan.kernel_arrays(), capacity(plan), out["headcount"],
                   out["joiners"], out["leavers"], out["trainees"], out["completions"], status)
    if (status == OVERFLOW).any():
        raise RuntimeError("kernel ran out of agent slots; this is a bug in capacity(), please report it")
    return out
