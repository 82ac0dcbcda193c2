"""The deterministic mean-field projection: the expected value of the kernel's process.

Same plan tensors, same order of events within a month (``sim.model.flows.MONTH``: retirement, leaving,
moves, attrition, completions, graduates placed, scheduled rotations, hires, starters; one method of
:class:`MeanField` per step, run in the table's order), tracked on a grid of ages in months, so the Monte
Carlo mean must match it within sampling error. It is also the instant preview behind ``sim.expected``.

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
import math

from ..demand.establishment import funded_posts
from . import capped, cell_field, pools
from .flows import RECRUITED, REASON as _R, SECTORS, SOURCE as _S, STEPS, plan_count_shapes
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



BLOCKED_FROM = 64     # locations above which staff moves are applied block by block (see move_blocks)


def move_blocks(dest: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(locations, [P, n, n] their moves) for each group of locations that staff move only within (an ICS,
    where moves stay inside it). Applying the moves group by group with BLAS takes a national scenario's
    hundreds of providers from hours to seconds; its sums are ordered differently from one einsum over all
    locations, so scenarios with few locations (every shipped one but England) keep that einsum."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    linked = dest.any(axis=0)
    _, label = connected_components(csr_matrix(linked | linked.T), directed=False)
    out = []
    for k in range(label.max() + 1):
        idx = np.flatnonzero(label == k)
        out.append((idx, np.ascontiguousarray(dest[:, idx][:, :, idx])))
    return out


def live_ages(ret_h: np.ndarray, pmfs: list[np.ndarray], entry_pmf: np.ndarray, prog_months: np.ndarray) -> slice:
    """The ages (months) at which anyone can be in post: from the youngest age anyone joins at (staff at the
    start, experienced hires, completers) to past the oldest age anyone joins at or is still to retire at.
    Outside it the mean field's stock is zero at every step (retirement's hazard is 1 from the age everyone
    has retired by), so a national scenario follows only these ages: about a fifth of the grid's work.
    Sums over age then add fewer zeros in another order: the same to about 1e-15, not bit for bit, which is
    why scenarios with few locations and no cells (bands, characteristics) keep the whole grid."""
    support = [np.flatnonzero(p.any(axis=0)) for p in pmfs]
    for g in range(entry_pmf.shape[0]):
        support.append(np.flatnonzero(entry_pmf[g]) + int(prog_months[g]))
    joined = np.concatenate(support)
    if joined.size == 0:
        return slice(0, AGES)
    retired = [int(np.argmax(h >= 1.0)) if (h >= 1.0).any() else AGES for h in ret_h]
    hi = max(max(retired), int(joined.max())) + 2
    return slice(int(joined.min()), min(hi, AGES))


def blocked_moves(dest: np.ndarray) -> list[tuple[slice | np.ndarray, np.ndarray]]:
    """:func:`move_blocks` as the mean field applies them: each group's locations (a slice where they are a run,
    as an ICS's providers are) and its moves transposed, [P, to, from], for one stacked matrix product per
    group; groups nobody moves within are left out (they add nothing)."""
    out = []
    for idx, block in move_blocks(dest):
        if not block.any():
            continue
        at = slice(int(idx[0]), int(idx[-1]) + 1) if np.all(np.diff(idx) == 1) else idx
        out.append((at, np.ascontiguousarray(block.transpose(0, 2, 1))))
    return out


class MeanField:
    """The expected state of one plan, advanced a month at a time by one method per step of the month
    (``sim.model.flows.MONTH``), run in that table's order by :func:`project`.

    Staff are a stock by profession, place and age in months; cohorts of trainees are vectors over
    places, keyed by (programme, start place, start month). The staff side has a leading axis of demand
    paths (``funded_posts`` [N, M, P, L]; one path, the plan's central one, by default): what joiners find
    posts depends on the path, the cohorts of trainees do not, so they are followed once for all paths.
    """

    def __init__(self, plan: Plan, funded_posts: np.ndarray | None = None):
        self.plan = plan
        M, P, L = plan.shape
        G = len(plan.programmes)
        funded = plan.funded_posts[None] if funded_posts is None else funded_posts            # [N, M, P, L]
        N = funded.shape[0]
        year_of_age = np.minimum(np.arange(AGES) // 12, plan.leave_age_mult.shape[2] - 1)
        ret_h = np.stack([retirement_hazard(plan.retire_cdf[p]) for p in range(P)])      # [P, AGES]
        staff_pmf = np.stack([age_pmf(*plan.staff_age[p]) for p in range(P)])
        joiner_pmf = np.stack([age_pmf(*plan.joiner_age[p]) for p in range(P)])
        self.entry_pmf = np.zeros((G, AGES))
        for g in range(G):
            self.entry_pmf[g] = age_pmf(*plan.prog_entry_age[g])
        self.ages = live_ages(ret_h, [staff_pmf, joiner_pmf], self.entry_pmf, plan.prog_months) \
            if L > BLOCKED_FROM or plan.cells > 1 else slice(0, AGES)            # (staff by cell: 8 times the work)
        self.mult = plan.leave_age_mult[:, :, year_of_age[self.ages]]                  # [P, L, ages]
        self.ret_h = ret_h[:, self.ages]
        staff_pmf, self.joiner_pmf = staff_pmf[:, self.ages], joiner_pmf[:, self.ages]
        self.dest = plan.move_matrix()                                         # [P, L, L2] staff moves
        self.migrate = plan.migrate_matrix()                                   # [P, L, L2] ... to other ICSs, regions
        self.sector = plan.sector_matrix()                                     # [P, L, L2] ... to other sectors
        self.sector_of = np.zeros((L, len(SECTORS)))                           # [L, sectors] one-hot (none: 0)
        has = plan.location_sector_index >= 0
        self.sector_of[np.flatnonzero(has), plan.location_sector_index[has]] = 1.0
        self.elsewhere = plan.graduate_matrix()                                # [G, L, L2] completers looking there
        self.dest_blocks = blocked_moves(self.dest) if L > BLOCKED_FROM else None
        rotation = plan.rotation_matrix()                                      # [G, L, L2] scheduled rotations
        stuck = rotation.sum(axis=2) <= 0                                      # no share in the ICS: nobody moves
        rotation[stuck] = np.eye(L)[np.nonzero(stuck)[1]]
        self.rotation = rotation
        self.out = {name: np.zeros((N,) + shape) for name, shape in plan_count_shapes(plan).items()}
        self.cap_heads = (np.moveaxis(funded, 0, 1) / plan.fte_per_head[:, None] if plan.hire_only_into_vacancies
                          else np.full((M, N, P, L), np.inf))                  # [M, N, P, L]
        stock = plan.init_headcount[:, :, None] * staff_pmf[:, None, :]         # [P, L, AGES] at end of month -1
        # with characteristics or bands, staff are by cell too, flattened: [..., cell × AGES] (sim.model.cell_field)
        self.cells = cell_field.Cells(plan, self.mult.shape[2]) if plan.cells > 1 else None
        if self.cells is not None:
            stock = self.cells.start(plan, staff_pmf)
            self.ret_h = np.tile(self.ret_h, (1, plan.cells))
        self.stock = np.repeat(stock[None], N, axis=0)                         # [N, P, L, AGES]
        self.cohorts = {}                     # (programme, start place, start month) -> [L] trainees by place now
        self.started = {}                     # ... -> the cohort's starters (its completers are binomial)
        for g, l, s, n in plan.init_cohorts:
            self.cohorts[int(g), int(l), int(s)] = np.where(np.arange(L) == l, float(n), 0.0)
            self.started[int(g), int(l), int(s)] = float(n)
        self.waiting: list[list[np.ndarray]] = [[] for _ in range(P)]  # per profession, FIFO of [L, 3] hires
        self.graduates = np.zeros((G, L, self.mult.shape[2] * plan.cells))   # the month's completers wanting a post,
                                                                             # by age (and cell)
        self.room = np.zeros((N, P, L))           # the month's vacancies left for experienced hires (heads)
        # hiring only into vacancies: the variance of the staff count too (see sim.model.capped)
        self.capped = bool(plan.hire_only_into_vacancies)
        self.var = np.zeros((N, P, L))
        self.cap = np.floor(self.cap_heads + 1e-9)                             # whole posts, as the engines
        self.nodes = self.wanted = self.placed_first = None
        self.wanted_var = np.zeros((P, L))        # variance of the month's completers wanting a post
        # retirees back in post (retire and return): a stock without ages (they leave at their own hazard)
        self.returned = np.zeros((N, P, L))
        self.returning = np.zeros((N, P, L))      # the month's returners (no other event in their first month)

    def retire(self, m: int) -> None:
        if self.cells is not None:        # by cell (the stock, its variance and the leavers by group)
            retired = self.cells.retire(self, m)
        else:
            N, P, L = self.stock.shape[:3]
            self.stock = np.concatenate([np.zeros((N, P, L, 1)), self.stock[..., :-1]], axis=-1)   # a month older
            retired = self.stock * self.ret_h[:, None, :]
            self.stock = self.stock - retired
            if self.capped:
                after = self.stock.sum(-1)
                self.var = capped.thinned_variance(self.var, after + retired.sum(-1), after,
                                                   (self.stock * self.ret_h[:, None, :]).sum(-1))
            retired = retired.sum(-1)
        self.out["leavers"][:, m, :, :, _R["retirement"]] = retired
        if self.plan.returning:
            self.returning = retired * self.plan.return_share[m]
            self.out["joiners"][:, m, :, :, _S["retire_return"]] = self.returning

    def leave(self, m: int) -> None:
        if self.cells is not None:        # by cell (the stock, its variance and the leavers by group)
            left = self.cells.leave(self, m)
        else:
            q = 1.0 - np.exp(-self.plan.leave_hazard[m][:, :, None] * self.mult)      # [P, L, AGES]
            left = self.stock * q
            self.stock = self.stock - left
            if self.capped:
                after = self.stock.sum(-1)
                self.var = capped.thinned_variance(self.var, after + left.sum(-1), after, (self.stock * q).sum(-1))
            left = left.sum(-1)
        self.out["leavers"][:, m, :, :, _R["leaver"]] = left
        if self.plan.returning:
            gone = self.returned * -np.expm1(-self.plan.return_hazard[m])
            self.returned = self.returned - gone + self.returning
            self.out["leavers"][:, m, :, :, _R["leaver"]] += gone

    def move(self, m: int) -> None:
        if self.cells is not None:
            self.stock, self.var = self.cells.move(self, m)
            return
        plan, out = self.plan, self.out
        rot, moves = plan.rotation_hazard[m], plan.transfer_hazard[m]               # [P, L], [P, L, P2]
        mig, sec = plan.migrate_hazard[m], plan.sector_hazard[m]                     # [P, L]
        total = rot + mig + moves.sum(-1)                   # (+ a migration hazard of 0: the same to the bit)
        if sec.any():
            total = rot + mig + sec + moves.sum(-1)
        q = 1.0 - np.exp(-total)                                                     # [P, L]
        leaving = self.stock * q[:, :, None]
        self.stock = self.stock - leaving
        if self.capped:
            after = self.stock.sum(-1)
            self.var = capped.thinned_variance(self.var, after + leaving.sum(-1), after, after * q)
        with np.errstate(invalid="ignore", divide="ignore"):
            share_rot = np.where(total > 0, rot / total, 0.0)
            share_to = np.where(total[:, :, None] > 0, moves / total[:, :, None], 0.0)
        rotated = leaving * share_rot[:, :, None]
        if mig.any():                       # to another ICS or region
            with np.errstate(invalid="ignore", divide="ignore"):
                share_mig = np.where(total > 0, mig / total, 0.0)
            migrated = leaving * share_mig[:, :, None]
            self.stock = self.stock + np.einsum("npla,plk->npka", migrated, self.migrate)
            out["joiners"][:, m, :, :, _S["moved_in"]] = np.einsum("npl,plk->npk", migrated.sum(-1), self.migrate)
            out["leavers"][:, m, :, :, _R["moved_out"]] = migrated.sum(-1)
        if sec.any():                       # to a provider of another sector
            with np.errstate(invalid="ignore", divide="ignore"):
                share_sec = np.where(total > 0, sec / total, 0.0)
            sectored = leaving * share_sec[:, :, None]
            self.stock = self.stock + np.einsum("npla,plk->npka", sectored, self.sector)
            flow = sectored.sum(-1)[..., None] * self.sector                          # [N, P, L, L2]
            out["joiners"][:, m, :, :, _S["sector_in"]] = flow.sum(axis=2)
            out["leavers"][:, m, :, :, _R["sector_out"]] = sectored.sum(-1)
            out["sector_moves"][:, m] = np.einsum("npkl,ki,lj->npij", flow, self.sector_of, self.sector_of)
        if rot.any():                       # (adding nothing is skipped: the sums are the same to the bit)
            if self.dest_blocks is None:
                self.stock = self.stock + np.einsum("npla,plk->npka", rotated, self.dest)
            else:
                arrived = np.zeros_like(rotated)
                for at, into in self.dest_blocks:                # [P, to, from] @ [N, P, from, age]
                    arrived[:, :, at] = np.matmul(into, rotated[:, :, at])
                self.stock += arrived                                               # (the same sums, in place)
            out["joiners"][:, m, :, :, _S["rotation_in"]] = np.einsum("npl,plk->npk", rotated.sum(-1), self.dest)
        if moves.any():
            transferred = np.einsum("npla,plq->nqla", leaving, share_to)
            self.stock = self.stock + transferred
            out["joiners"][:, m, :, :, _S["transfer_in"]] = transferred.sum(-1)
        out["leavers"][:, m, :, :, _R["rotation_out"]] = rotated.sum(-1)
        out["leavers"][:, m, :, :, _R["transfer_out"]] = leaving.sum(-1) - rotated.sum(-1)
        if mig.any():
            out["leavers"][:, m, :, :, _R["transfer_out"]] -= out["leavers"][:, m, :, :, _R["moved_out"]]
        if sec.any():
            out["leavers"][:, m, :, :, _R["transfer_out"]] -= out["leavers"][:, m, :, :, _R["sector_out"]]
        if self.capped:                                                         # arrivals: Poisson-like
            self.var = self.var + out["joiners"][:, m, :, :, _S["rotation_in"]] \
                + out["joiners"][:, m, :, :, _S["transfer_in"]]
            if mig.any():
                self.var = self.var + out["joiners"][:, m, :, :, _S["moved_in"]]
            if sec.any():
                self.var = self.var + out["joiners"][:, m, :, :, _S["sector_in"]]

    def attrition(self, m: int) -> None:
        plan = self.plan
        for key in self.cohorts:
            g, l, s = key
            tp = plan.prog_trainee_prof[g]
            dropped = self.cohorts[key] * plan.prog_dropout[max(s, 0), g, l]    # [L], at the start place's rate
            self.cohorts[key] -= dropped
            if tp >= 0:
                self.out["leavers"][:, m, tp, :, _R["leaver"]] += dropped

    def complete(self, m: int) -> None:
        plan, out = self.plan, self.out
        self.graduates = np.zeros(self.graduates.shape)
        self.wanted_var = np.zeros(self.wanted_var.shape)
        for key in list(self.cohorts):
            g, l, s = key
            if m != s + plan.prog_months[g]:
                continue
            tp = plan.prog_trainee_prof[g]
            done = self.cohorts.pop(key)
            n = self.started.pop(key)
            local = plan.local_employment[m, g]
            self.wanted_var[plan.prog_produces[g]] += local * local * done * (1.0 - done / n) \
                + local * (1.0 - local) * done
            out["completions"][:, m, g] += done
            if tp >= 0:
                out["leavers"][:, m, tp, :, _R["completed_training"]] += done
            ages = np.concatenate([np.zeros(plan.prog_months[g]), self.entry_pmf[g, :AGES - plan.prog_months[g]]]
                                  )[self.ages]
            if self.cells is not None:          # by cell: their group from training, the newly qualified band
                ages = self.cells.completers(plan, g, l, s, ages)
            self.graduates[g] += done[:, None] * plan.local_employment[m, g, :, None] * ages[None, :]
            if self.elsewhere[g].any():        # mobility: those not taking a local post may look elsewhere
                away = done * (1.0 - local)                                     # [L] by place of training
                looking = away[:, None] * self.elsewhere[g]                     # [from, to]
                out["graduates_moved"][:, m, g] += looking.sum(axis=1)
                there = looking.sum(axis=0)
                self.graduates[g] += there[:, None] * ages[None, :]
                self.wanted_var[plan.prog_produces[g]] += there                 # (Poisson-like, as arrivals)

    def place(self, m: int) -> None:
        """Completers take vacant posts before experienced hires (:meth:`hire`). Hiring only into vacancies,
        the expected number placed is taken over the staff count's distribution (:mod:`sim.model.capped`)."""
        plan, out = self.plan, self.out
        staff = self.stock.sum(-1) + self.returned if plan.returning else self.stock.sum(-1)
        room = np.maximum(self.cap_heads[m] - staff, 0.0)                       # staff excluding trainees
        wanted = np.zeros(room.shape[1:])
        for g in range(len(plan.programmes)):
            wanted[plan.prog_produces[g]] += self.graduates[g].sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.capped:
                self.nodes, self.wanted = capped.staff_nodes(staff, self.var), wanted
                self.placed_first = np.minimum(
                    capped.expected_placed(self.nodes, self.cap[m], wanted, self.wanted_var), wanted) \
                    if wanted.any() else np.zeros(room.shape)
                placed = np.where(wanted > 0, self.placed_first / np.where(wanted > 0, wanted, 1.0), 1.0)
            else:
                placed = np.where(wanted > 0, np.minimum(1.0, room / wanted), 1.0)     # share of graduates placed
        for g in range(len(plan.programmes)):
            p = plan.prog_produces[g]
            self.stock[:, p] += self.graduates[g] * placed[:, p][..., None]
            if self.cells is not None:
                out["joiners_by_group"][:, m, p] += self.cells.by_group(self.graduates[g]) * placed[:, p][..., None]
            out["joiners"][:, m, p, :, _S["newly_qualified"]] += self.graduates[g].sum(-1) * placed[:, p]
            out["unplaced"][:, m, g] += self.graduates[g].sum(-1) * (1 - placed[:, p])
        self.room = np.maximum(room - np.minimum(wanted, room), 0.0)

    def rotate(self, m: int) -> None:
        plan, out = self.plan, self.out
        for key in self.cohorts:
            g = key[0]
            if not plan.prog_rotate[m, g]:
                continue
            tp = plan.prog_trainee_prof[g]
            now = self.cohorts[key]
            # [from, to] over the places the cohort is at: a place without its trainees adds a row of +0.0 to
            # the sums (rows are added in order), so leaving it out changes nothing, and on England (530
            # providers, a cohort in one ICS's dozen) it takes the rotations from minutes to a second
            at = np.flatnonzero(now)
            moved = now[at, None] * self.rotation[g][at]
            self.cohorts[key] = moved.sum(axis=0)
            stay = np.zeros(now.shape)
            stay[at] = moved[np.arange(at.size), at]
            if tp >= 0:
                out["leavers"][:, m, tp, :, _R["rotation_out"]] += now - stay
                out["joiners"][:, m, tp, :, _S["rotation_in"]] += self.cohorts[key] - stay

    def hire(self, m: int) -> None:
        plan = self.plan
        hires = within_capacity(plan.recruit_rate[m], plan.recruit_capacity[m], self.waiting)  # [P, L, 3]
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.capped:     # completers and hires together fill posts; the hires get what completers leave
                both, spread = self.wanted + hires.sum(-1), self.wanted_var + hires.sum(-1)   # hires: Poisson
                placed, _, self.var = capped.filled(self.nodes, self.cap[m], both, spread)
                room = np.maximum(placed - self.placed_first, 0.0)
            else:
                room = self.room
            taken = np.where(hires.sum(-1) > 0, np.minimum(1.0, room / hires.sum(-1)), 1.0)       # [N, P, L]
        offered, hires = hires, hires * taken[..., None]
        if plan.pool is not None and self.capped and (plan.pool[m] >= 0).any():     # shared recruitment pools
            moved, self.var = pools.redeployed(plan.pool[m], offered - hires, self.cap[m],
                                               self.stock.sum(-1) + hires.sum(-1), self.var)
            hires = hires + moved
        if self.cells is not None:
            arrived, appointed = self.cells.hires(plan, m, hires, self.joiner_pmf)
            self.out["joiners_by_group"][:, m] += appointed
            self.stock += arrived                                               # (the same sums, in place)
        else:
            self.stock = self.stock + hires.sum(-1)[..., None] * self.joiner_pmf[:, None, :]
        self.out["joiners"][:, m, :, :, RECRUITED[0]:RECRUITED[-1] + 1] += hires

    def start(self, m: int) -> None:
        plan, L = self.plan, self.stock.shape[2]
        for g, l in zip(*np.nonzero(plan.intake[m])):
            self.cohorts[(int(g), int(l), m)] = np.where(np.arange(L) == l, float(plan.intake[m, g, l]), 0.0)
            self.started[(int(g), int(l), m)] = float(plan.intake[m, g, l])
            tp = plan.prog_trainee_prof[g]
            if tp >= 0:
                self.out["joiners"][:, m, tp, l, _S["training_start"]] += plan.intake[m, g, l]

    def record(self, m: int) -> None:
        plan, out = self.plan, self.out
        out["headcount"][:, m] = self.stock.sum(-1)
        if plan.returning:
            out["headcount"][:, m] += self.returned
            out["returned"][:, m] = self.returned
        if self.cells is not None:
            out["staff_by_group"][:, m] = self.cells.by_cell(self.stock)
        for (g, _, _), n in self.cohorts.items():
            out["trainees"][:, m, g] += n
            if plan.prog_trainee_prof[g] >= 0:
                out["headcount"][:, m, plan.prog_trainee_prof[g]] += n


def one_blas_thread(wanted: bool):
    """BLAS on one thread (a national scenario's moves, or moves by cell: many products of a dozen locations
    each, which BLAS's threads only slow down, and on a busy machine by tenfold); otherwise as it is."""
    from contextlib import nullcontext

    if not wanted:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


DEMAND_NODES = 5        # Gauss-Hermite points over each replicate's demand trend (see project; 7 moved the
                        # baseline's headcounts by at most 0.5 people)


def project(plan: Plan) -> dict[str, np.ndarray]:
    """Expected raw counts (floats, no replicate dimension), as the engines return them: the steps of
    each month in the order of ``sim.model.flows.MONTH``.

    Where hiring is only into vacancies and demand is uncertain, the engines draw each replicate's demand
    trend (``sim.demand.draws``) and its funded posts follow it; the cap is not linear in the trend, so the
    expectation is taken over the trend's normal distribution (Gauss-Hermite), not at its central value.
    """
    funded, weights = None, np.ones(1)
    if plan.hire_only_into_vacancies and (plan.growth_sd > 0 or plan.productivity_sd > 0):
        sd = math.hypot(plan.growth_sd, plan.productivity_sd)      # of (need growth - productivity growth)
        x, w = np.polynomial.hermite_e.hermegauss(DEMAND_NODES)
        trend = np.exp(sd * x[:, None] * (np.arange(plan.months) / 12.0)[None])    # [nodes, M]
        demand = plan.demand_fte[None] * trend[:, :, None, None]
        funded = funded_posts(plan.funded0, demand, plan.demand0, plan.cost_per_fte, plan.budget)
        weights = w / w.sum()
    state = MeanField(plan, funded)
    steps = [getattr(state, name) for name in STEPS]
    with one_blas_thread(state.dest_blocks is not None or state.cells is not None):
        for m in range(plan.months):
            for step in steps:
                step(m)
    return {k: np.tensordot(weights, v, axes=1) for k, v in state.out.items()}
