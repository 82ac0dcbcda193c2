"""A plan as the kernel's named data (``structs.py``): contiguous arrays of the dtypes the compiled code
was built for, and what the kernel derives once per call (cumulative hazards, guide tables, runs of ages).

The model layer knows nothing of the kernel's layout: this is the one place that reads a ``Plan`` for it.
"""
from __future__ import annotations

import math

import numpy as np

from ...model.plan import Plan, age_cdf
from .draws import age_runs, guide_table
from .structs import Draws, Programmes, Recruitment, Staff


def _f(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _i(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _cumulative(hazard: np.ndarray) -> np.ndarray:
    """[P, L, SUB, M+1] cumulative hazard of a [M, P, L, SUB] monthly hazard, from 0 before the first month."""
    zero = np.zeros((1,) + hazard.shape[1:])
    return _f(np.concatenate([zero, np.cumsum(hazard, axis=0)]).transpose(1, 2, 3, 0))


def _cdf(shares: np.ndarray) -> np.ndarray:
    """Cumulative shares along the last axis, exactly 1 from the last share above 0 (rows of zeros stay 0)."""
    cdf = np.cumsum(shares, axis=-1)
    total = cdf[..., -1:]
    cdf = np.divide(cdf, total, out=np.zeros_like(cdf), where=total > 0)
    last = shares.shape[-1] - 1 - np.argmax((shares > 0)[..., ::-1], axis=-1)
    cdf[np.arange(shares.shape[-1]) >= last[..., None]] = 1.0
    return _f(cdf * (total > 0))


def promote_to(plan: Plan) -> np.ndarray:
    """[P, SUB] the cell a promotion from each cell leads to: the next band, the same group (-1: none)."""
    Gr = len(plan.groups)
    nxt = plan.next_band                                                     # [P, B]
    group = np.arange(Gr)
    return _i(np.where(nxt[:, :, None] >= 0, nxt[:, :, None] * Gr + group, -1).reshape(nxt.shape[0], -1))


def _move_hazard(rotation: np.ndarray, migrate: np.ndarray, sector: np.ndarray, transfer: np.ndarray) -> np.ndarray:
    """[M, P, L] rotation hazard plus the migration hazard plus the sector-move hazard plus each transfer
    hazard, one at a time: a move's draw is split on this total by the same additions, so the kernel need
    not redo them at each move (adding a hazard of 0 leaves the sum as it was, to the bit)."""
    total = rotation + migrate
    total += sector
    for p2 in range(transfer.shape[3]):
        total += transfer[..., p2]
    return total


def distinct_rows(a: np.ndarray, lead: int) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct rows of ``a`` over its first ``lead`` axes, [U, ...], and each one's row, int64 [lead
    axes]): rows are compared byte for byte, so a row read through the index is the row itself, to the bit."""
    a = np.ascontiguousarray(a)
    flat = a.reshape(int(np.prod(a.shape[:lead])), -1)
    keys = flat.view(np.dtype((np.void, flat.dtype.itemsize * flat.shape[1]))).ravel()
    _, first, index = np.unique(keys, return_index=True, return_inverse=True)
    return np.ascontiguousarray(flat[first].reshape((len(first),) + a.shape[lead:])), _i(index.reshape(a.shape[:lead]))


def staff(plan: Plan) -> Staff:
    mult = _f(plan.leave_age_mult)
    rotation, transfer, migrate = _f(plan.rotation_hazard), _f(plan.transfer_hazard), _f(plan.migrate_hazard)
    sector = _f(plan.sector_hazard)
    promote = _f(plan.promotion_hazard)                                      # [M, P, SUB]; 0 without cells
    moving = plan.rotation_hazard + plan.migrate_hazard + plan.sector_hazard + plan.transfer_hazard.sum(axis=3)
    cum_leave, leave_row = distinct_rows(_cumulative(plan.leave_hazard[..., None] * plan.leave_mult_sub[:, :, None, :]), 3)
    cum_move, move_row = distinct_rows(_cumulative(moving[..., None] + promote[:, :, None, :]), 3)
    age_mult, age_row = distinct_rows(mult, 2)
    cum_return, return_row = distinct_rows(_cumulative(plan.return_hazard[..., None])[:, :, 0, :], 2)
    rotation_cdf, rotation_row = distinct_rows(_f(plan.rotation_cdf), 2)
    migrate_cdf, migrate_row = distinct_rows(_f(plan.migrate_cdf), 2)
    sector_cdf, sector_row = distinct_rows(_f(plan.sector_cdf), 2)
    return Staff(headcount=_i(plan.init_headcount), cum_leave=cum_leave, leave_row=leave_row, cum_move=cum_move,
                 move_row=move_row, age_flat=np.ascontiguousarray(np.all(plan.leave_age_mult == 1.0, axis=2)),
                 age_row=age_row, age_mult=age_mult,
                 age_runs=age_runs(age_mult[None], plan.leave_hazard.shape[0])[0], rotation=rotation,
                 transfer=transfer, move=_move_hazard(rotation, migrate, sector, transfer),
                 rotation_cdf=rotation_cdf, rotation_row=rotation_row, migrate=migrate, migrate_cdf=migrate_cdf,
                 migrate_row=migrate_row, sector=sector, sector_cdf=sector_cdf, sector_row=sector_row,
                 location_sector=_i(plan.location_sector_index), return_share=_f(plan.return_share),
                 cum_return=cum_return, return_row=return_row, promote=promote, promote_to=promote_to(plan))


def draws(plan: Plan) -> Draws:
    retire, staff_age = _f(plan.retire_cdf), age_cdf(plan.staff_age)
    joiner_age, entry_age = age_cdf(plan.joiner_age), age_cdf(plan.prog_entry_age)
    return Draws(retire_cdf=retire, retire_guide=guide_table(retire), staff_age_cdf=staff_age,
                 staff_age_guide=guide_table(staff_age), joiner_age_cdf=joiner_age,
                 joiner_age_guide=guide_table(joiner_age), entry_age_cdf=entry_age,
                 entry_age_guide=guide_table(entry_age), start_cell_cdf=_cdf(plan.start_sub),
                 group_cdf=_cdf(np.broadcast_to(plan.entry_group, plan.shape + plan.entry_group.shape[3:]))
                 if len(plan.groups) > 1 else np.ones((1, 1, 1, 1, 1)),
                 band_cdf=_cdf(plan.entry_band))


def recruitment(plan: Plan, funded_posts: np.ndarray | None) -> Recruitment:
    """``funded_posts`` [R, M, P, L] or [M, P, L] caps joiners where the plan hires only into vacancies."""
    pool = np.full(plan.shape, -1, np.int64) if plan.pool is None else _i(plan.pool)
    return Recruitment(rates=_f(plan.recruit_rate), capacity=_f(plan.recruit_capacity),
                       posts=posts_in_heads(plan, funded_posts), pool=pool)


def programmes(plan: Plan) -> Programmes:
    return Programmes(produces=_i(plan.prog_produces), trainee_prof=_i(plan.prog_trainee_prof),
                      months=_i(plan.prog_months), dropout=_f(plan.prog_dropout), intake=_i(plan.intake),
                      local=_f(plan.local_employment), cohorts=_i(plan.init_cohorts),
                      rotate=np.ascontiguousarray(plan.prog_rotate, dtype=np.bool_),
                      rotation_cdf=_f(plan.prog_rotation_cdf), graduate_cdf=_f(plan.graduate_cdf))


def posts_in_heads(plan: Plan, funded_posts: np.ndarray | None) -> np.ndarray:
    """[R or 1, M, P, L] staff in heads a place may employ (infinite unless hiring only into vacancies)."""
    if not plan.hire_only_into_vacancies or funded_posts is None:
        return np.full((1,) + plan.shape, np.inf)
    funded = funded_posts if funded_posts.ndim == 4 else funded_posts[None]
    return _f(funded / plan.fte_per_head[None])


def agent_slots(plan: Plan) -> int:
    """Agent slots a replicate can need: everyone present at the start plus every possible arrival."""
    expected_hires = float(plan.recruit_rate.sum())
    return int(plan.init_headcount.sum() + plan.init_cohorts[:, 3].sum() + plan.intake.sum()
               + expected_hires + 10 * math.sqrt(expected_hires) + 100)
