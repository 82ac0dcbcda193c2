"""The ``kernel`` engine: numba Monte Carlo over replicates in parallel."""
from __future__ import annotations

import math

import numba
import numpy as np

from ...model.flows import count_shapes
from ...model.plan import Plan
from .core import OVERFLOW, run_replicates, stream_states


def capacity(plan: Plan) -> int:
    """Agent slots a replicate can need: everyone present at the start plus every possible arrival."""
    expected_hires = float(plan.recruit_rate.sum())
    return int(plan.init_headcount.sum() + plan.init_cohorts[:, 3].sum() + plan.intake.sum()
               + expected_hires + 10 * math.sqrt(expected_hires) + 100)


def hiring_cap(plan: Plan, funded_posts: np.ndarray | None) -> np.ndarray:
    """[R or 1, M, P, L] staff in heads a place may employ (infinite unless hiring only into vacancies)."""
    if not plan.hire_only_into_vacancies or funded_posts is None:
        return np.full((1,) + plan.shape, np.inf)
    funded = funded_posts if funded_posts.ndim == 4 else funded_posts[None]
    return np.ascontiguousarray(funded / plan.fte_per_head[None], dtype=np.float64)


def simulate(plan: Plan, replicates, seed: int, funded_posts: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Raw counts for the given replicate numbers: headcount, joiners, leavers, trainees, completions,
    unplaced graduates. ``funded_posts`` [R, M, P, L] (default: the plan's central path) caps hiring."""
    reps = np.asarray(list(replicates), dtype=np.int64)
    R = len(reps)
    out = {name: np.zeros((R,) + shape, np.int32)
           for name, shape in count_shapes(*plan.shape, len(plan.programmes)).items()}
    status = np.zeros(R, np.int64)
    cap_heads = hiring_cap(plan, plan.funded_posts if funded_posts is None else funded_posts)
    states = stream_states(seed, reps, schedule=bool(plan.prog_rotate.any()))
    run_replicates(states, *plan.kernel_arrays(), capacity(plan), cap_heads, out["headcount"],
                   out["joiners"], out["leavers"], out["trainees"], out["completions"], out["unplaced"], status,
                   numba.get_num_threads())
    if (status == OVERFLOW).any():
        raise RuntimeError("kernel ran out of agent slots; this is a bug in capacity(), please report it")
    return out
