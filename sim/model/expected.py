"""The deterministic mean-field projection: the expected value of the kernel's process.

Same plan tensors, same order of events within a month (retirement, then leaving, then a move of
place or of staff group;
then hires and starters), tracked on a grid of ages in months, so the Monte Carlo mean must match it
within sampling error. It is also the instant preview behind ``sim.expected``.

Caps are applied to expected values (the mean of a minimum is not the minimum of means), so where
a cap binds only sometimes the projection is an approximation: hiring only into vacancies, and a
recruitment capacity (``recruit_capacity``), whose queue of waiting hires is followed as expected
numbers, first come first served. Where the capacity always binds (expected hires well above it)
or never does, the projection is exact.

Cohorts of trainees are followed by the place they started at (which sets their dropout rate) and, as
a vector over places, where they are now: in a rotation month of their programme each vector is
multiplied by the programme's rotation matrix (``Plan.rotation_matrix``), so right after it the
cohort's trainees in each ICS are split across its places by the programme's shares.
"""
from __future__ import annotations

import numpy as np
from .flows import RECRUITED, REASON as _R, SOURCE as _S, count_shapes
from .plan import AGES, Plan, age_pmf


def retirement_hazard(cdf: np.ndarray) -> np.ndarray:
    """P(retire at age-month a | not retired by a-1), on the AGES grid."""
    g = np.concatenate([cdf, np.ones(AGES - len(cdf))])
    prev = np.concatenate([[0.0], g[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(prev >= 1.0, 1.0, (g - prev) / (1.0 - prev))
    return h


def within_capacity(hires: np.ndarray, capacity: np.ndarray, waiting: list[list[np.ndarray]]) -> np.ndarray:
    """Expected starts [P, L, 3] of the month under each profession's capacity (inf: none): hires waiting
    from earlier months first, then the month's, each in place-then-source order; the rest wait (``waiting``
    is updated in place)."""
    out = np.array(hires, dtype=float)
    for p in range(out.shape[0]):
        if capacity[p] == np.inf and not waiting[p]:
            continue
        room = float(capacity[p])
        started = np.zeros(out.shape[1:])
        left = []
        for batch in waiting[p] + [out[p]]:
            flat = batch.ravel()
            take = np.minimum(flat, np.maximum(room - np.concatenate([[0.0], np.cumsum(flat)[:-1]]), 0.0)) \
                if room != np.inf else flat
            room -= take.sum()
            started += take.reshape(batch.shape)
            rest = (flat - take).reshape(batch.shape)
            if rest.sum() > 1e-12:
                left.append(rest)
        waiting[p] = left
        out[p] = started
    return out


def project(plan: Plan) -> dict[str, np.ndarray]:
    """Expected raw counts (floats, no replicate dimension), as the engines return them."""
    M, P, L = plan.shape
    G = len(plan.programmes)
    year_of_age = np.minimum(np.arange(AGES) // 12, plan.leave_age_mult.shape[2] - 1)
    mult = plan.leave_age_mult[:, :, year_of_age]                               # [P, L, AGES]
    ret_h = np.stack([retirement_hazard(plan.retire_cdf[p]) for p in range(P)])  # [P, AGES]
    staff_pmf = np.stack([age_pmf(*plan.staff_age[p]) for p in range(P)])
    joiner_pmf = np.stack([age_pmf(*plan.joiner_age[p]) for p in range(P)])
    entry_pmf = np.zeros((G, AGES))
    for g in range(G):
        entry_pmf[g] = age_pmf(*plan.prog_entry_age[g])
    dest = np.diff(np.concatenate([np.zeros((L, 1)), plan.rotation_cdf], axis=1), axis=1)  # [L, L2]
    rotation = plan.rotation_matrix()                                            # [G, L, L2] scheduled rotations
    stuck = rotation.sum(axis=2) <= 0                                            # no share in the ICS: nobody moves
    rotation[stuck] = np.eye(L)[np.nonzero(stuck)[1]]

    out = {name: np.zeros(shape) for name, shape in count_shapes(M, P, L, G).items()}
    cap_heads = plan.funded_posts / plan.fte_per_head if plan.hire_only_into_vacancies else np.full(plan.shape, np.inf)
    stock = plan.init_headcount[:, :, None] * staff_pmf[:, None, :]            # [P, L, AGES] at end of month -1
    cohorts = {}                              # (programme, start place, start month) -> [L] trainees by place now
    for g, l, s, n in plan.init_cohorts:
        cohorts[int(g), int(l), int(s)] = np.where(np.arange(L) == l, float(n), 0.0)
    waiting: list[list[np.ndarray]] = [[] for _ in range(P)]     # per profession, FIFO of [L, 3] expected hires

    for m in range(M):
        stock = np.concatenate([np.zeros((P, L, 1)), stock[:, :, :-1]], axis=2)   # a month older
        retired = stock * ret_h[:, None, :]
        stock = stock - retired
        left = stock * (1.0 - np.exp(-plan.leave_hazard[m][:, :, None] * mult))
        stock = stock - left
        rot, moves = plan.rotation_hazard[m], plan.transfer_hazard[m]               # [P, L], [P, L, P2]
        total = rot + moves.sum(-1)
        leaving = stock * (1.0 - np.exp(-total))[:, :, None]
        stock = stock - leaving
        with np.errstate(invalid="ignore", divide="ignore"):
            share_rot = np.where(total > 0, rot / total, 0.0)
            share_to = np.where(total[:, :, None] > 0, moves / total[:, :, None], 0.0)
        rotated = leaving * share_rot[:, :, None]
        stock = stock + np.einsum("pla,lk->pka", rotated, dest)
        transferred = np.einsum("pla,plq->qla", leaving, share_to)
        stock = stock + transferred
        out["leavers"][m, :, :, _R["retirement"]] = retired.sum(-1)
        out["leavers"][m, :, :, _R["leaver"]] = left.sum(-1)
        out["leavers"][m, :, :, _R["rotation_out"]] = rotated.sum(-1)
        out["leavers"][m, :, :, _R["transfer_out"]] = leaving.sum(-1) - rotated.sum(-1)
        out["joiners"][m, :, :, _S["rotation_in"]] = np.einsum("pl,lk->pk", rotated.sum(-1), dest)
        out["joiners"][m, :, :, _S["transfer_in"]] = transferred.sum(-1)

        graduates = np.zeros((G, L, AGES))        # completers wanting a local post, by age
        for key in list(cohorts):
            g, l, s = key
            tp, finish = plan.prog_trainee_prof[g], s + plan.prog_months[g]
            dropped = cohorts[key] * plan.prog_dropout[max(s, 0), g, l]         # [L], at the start place's rate
            cohorts[key] -= dropped
            if tp >= 0:
                out["leavers"][m, tp, :, _R["leaver"]] += dropped
            if m == finish:
                done = cohorts.pop(key)
                out["completions"][m, g] += done
                if tp >= 0:
                    out["leavers"][m, tp, :, _R["completed_training"]] += done
                ages = np.concatenate([np.zeros(plan.prog_months[g]), entry_pmf[g, :AGES - plan.prog_months[g]]])
                graduates[g] += done[:, None] * plan.local_employment[m, g, :, None] * ages[None, :]
            elif plan.prog_rotate[m, g]:                                          # scheduled rotation
                now = cohorts[key]
                moved = now[:, None] * rotation[g]                                 # [from, to]
                cohorts[key] = moved.sum(axis=0)
                stay = np.diagonal(moved)
                if tp >= 0:
                    out["leavers"][m, tp, :, _R["rotation_out"]] += now - stay
                    out["joiners"][m, tp, :, _S["rotation_in"]] += cohorts[key] - stay

        # hiring into vacancies: graduates first, then experienced hires (expected values: exact when
        # the cap does not bind, an approximation, min of means, where it does)
        room = np.maximum(cap_heads[m] - stock.sum(-1), 0.0)                     # staff excluding trainees
        wanted = np.zeros((P, L))
        for g in range(G):
            wanted[plan.prog_produces[g]] += graduates[g].sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            placed = np.where(wanted > 0, np.minimum(1.0, room / wanted), 1.0)     # share of graduates placed
        for g in range(G):
            p = plan.prog_produces[g]
            stock[p] += graduates[g] * placed[p][:, None]
            out["joiners"][m, p, :, _S["newly_qualified"]] += graduates[g].sum(-1) * placed[p]
            out["unplaced"][m, g] += graduates[g].sum(-1) * (1 - placed[p])
        room = np.maximum(room - np.minimum(wanted, room), 0.0)
        hires = within_capacity(plan.recruit_rate[m], plan.recruit_capacity[m], waiting)  # [P, L, 3]
        with np.errstate(invalid="ignore", divide="ignore"):
            taken = np.where(hires.sum(-1) > 0, np.minimum(1.0, room / hires.sum(-1)), 1.0)
        hires = hires * taken[:, :, None]
        stock = stock + hires.sum(-1)[:, :, None] * joiner_pmf[:, None, :]
        out["joiners"][m, :, :, RECRUITED[0]:RECRUITED[-1] + 1] += hires

        for g, l in zip(*np.nonzero(plan.intake[m])):
            cohorts[(int(g), int(l), m)] = np.where(np.arange(L) == l, float(plan.intake[m, g, l]), 0.0)
            tp = plan.prog_trainee_prof[g]
            if tp >= 0:
                out["joiners"][m, tp, l, _S["training_start"]] += plan.intake[m, g, l]

        out["headcount"][m] = stock.sum(-1)
        for (g, _, _), n in cohorts.items():
            out["trainees"][m, g] += n
            if plan.prog_trainee_prof[g] >= 0:
                out["headcount"][m, plan.prog_trainee_prof[g]] += n
    return out
