"""The mean field's staff by cell (band and group, ``sim.model.cells``): what ``sim.model.expected`` does
differently where a scenario has characteristics or bands.

The stock keeps its shape [N, P, L, …] with the last axis cell × age in months (cell-major), so everything
that only sums staff or moves them between places works as it is; what depends on the cell (leaving
multipliers, promotion, joiners' bands and groups, ageing within a cell) is here. A scenario without
either section never reaches this module, so its projection is what it was.
"""
from __future__ import annotations

import numpy as np

from . import capped
from .flows import RECRUITED, REASON as _R, SOURCE as _S
from .plan import AGES, Plan


def to_professions(movers: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Movers [N, P, L, C, AGES] by their shares [P, L, C, Q] of each destination profession → transfers
    [N, Q, L, C, AGES]: one matrix product per place and cell (BLAS), not an einsum over every cell and age."""
    N, P, L, C, A = movers.shape
    by = np.ascontiguousarray(movers.transpose(2, 3, 1, 0, 4)).reshape(L, C, P, N * A)
    moved = np.matmul(np.ascontiguousarray(share.transpose(1, 2, 3, 0)), by)      # [L, C, Q, N × AGES]
    return np.ascontiguousarray(moved.reshape(L, C, -1, N, A).transpose(3, 2, 0, 1, 4))


class Cells:
    """The shapes and tables of a plan's cells."""

    def __init__(self, plan: Plan, ages: int = AGES):
        self.B, self.Gr = len(plan.bands), len(plan.groups)
        self.C = self.B * self.Gr
        self.A = ages                   # the ages followed (``MeanField.ages``: those anyone can be in post at)

    def split(self, a: np.ndarray) -> np.ndarray:
        """[..., cell × AGES] → [..., B, Gr, AGES]."""
        return a.reshape(a.shape[:-1] + (self.B, self.Gr, self.A))

    def by_group(self, a: np.ndarray) -> np.ndarray:
        """[..., cell × AGES] summed to [..., Gr]."""
        return self.split(a).sum(axis=(-1, -3))

    def by_cell(self, a: np.ndarray) -> np.ndarray:
        """[..., cell × AGES] summed over ages to [..., B, Gr]."""
        return self.split(a).sum(axis=-1)

    def start(self, plan: Plan, staff_pmf: np.ndarray) -> np.ndarray:
        """[P, L, cell × AGES] staff at the end of month -1."""
        P, L = plan.init_headcount.shape
        stock = plan.init_headcount[:, :, None, None] * plan.start_sub[:, :, :, None] * staff_pmf[:, None, None, :]
        return stock.reshape(P, L, self.C * self.A)

    def retire(self, field, m: int) -> np.ndarray:
        """The retirement step by cell (``MeanField.retire``): everyone a month older within their cell, then
        retiring at their new age's hazard; updates the stock, the variance of the staff count and the leavers
        by group, and returns the retirees [N, P, L]. Reads the stock by age twice (three times hiring only into
        vacancies): it is eight times the size of a scenario's without cells."""
        N, P, L = field.stock.shape[:3]
        C, A = self.C, self.A
        was = field.stock.reshape(N, P, L, C, A)[..., :-1]                         # now at ages 1, 2, …
        h = field.ret_h.reshape(P, 1, C, A)[..., 1:]
        stock = np.empty((N, P, L, C, A))
        stock[..., 0] = 0.0
        np.multiply(was, 1.0 - h, out=stock[..., 1:])
        gone = np.einsum("nplca,pca->nplc", was, h[:, 0])                          # [N, P, L, C]
        field.stock = stock.reshape(N, P, L, C * A)
        if field.capped:
            after = field.stock.sum(-1)
            field.var = capped.thinned_variance(field.var, after + gone.sum(-1), after,
                                                np.einsum("nplx,px->npl", field.stock, field.ret_h))
        field.out["leavers_by_group"][:, m] += gone.reshape(N, P, L, self.B, self.Gr).sum(-2)
        return gone.sum(-1)

    def leave(self, field, m: int) -> np.ndarray:
        """The leaving step by cell (``MeanField.leave``) at each cell's and age's probability: updates the stock
        (in place), its variance and the leavers by group; returns the leavers [N, P, L]."""
        N, P, L = field.stock.shape[:3]
        q = self.leave_probability(field.plan, m, field.mult)                      # [P, L, cell × AGES]
        gone = np.einsum("nplca,plca->nplc", field.stock.reshape(N, P, L, self.C, self.A),
                         q.reshape(P, L, self.C, self.A))
        np.multiply(field.stock, 1.0 - q, out=field.stock)
        if field.capped:
            after = field.stock.sum(-1)
            field.var = capped.thinned_variance(field.var, after + gone.sum(-1), after,
                                                np.einsum("nplx,plx->npl", field.stock, q))
        field.out["leavers_by_group"][:, m] += gone.reshape(N, P, L, self.B, self.Gr).sum(-2)
        return gone.sum(-1)

    def leave_probability(self, plan: Plan, m: int, age_mult: np.ndarray) -> np.ndarray:
        """[P, L, cell × AGES] probability of leaving in month m: hazard × age multiplier × cell multiplier."""
        P, L = age_mult.shape[:2]
        h = plan.leave_hazard[m][:, :, None, None] * age_mult[:, :, None, :] * plan.leave_mult_sub[m][:, None, :, None]
        return (1.0 - np.exp(-h)).reshape(P, L, self.C * self.A)

    def completers(self, plan: Plan, g: int, l: int, started: int, ages: np.ndarray) -> np.ndarray:
        """[cell × AGES] a cohort's completers by cell and age: the group shares of its start (month, place) among
        starters (``training_start``), the produced profession's entry band of the newly qualified."""
        p = plan.prog_produces[g]
        group = plan.group_shares(max(started, 0))[p, l, _S["training_start"]]
        band = plan.entry_band[p, _S["newly_qualified"]]
        return ((band[:, None] * group[None, :]).reshape(-1)[:, None] * ages[None, :]).reshape(-1)

    def hires(self, plan: Plan, m: int, hires: np.ndarray, joiner_pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(arrivals [N, P, L, cell × AGES], appointments by group [N, P, L, Gr]) of experienced hires
        [N, P, L, sources] by their sources' group and band shares."""
        rec = list(RECRUITED)
        group = plan.group_shares(m)[:, :, rec]                                     # [P, L, 3, Gr]
        band = plan.entry_band[:, rec]                                              # [P, 3, B]
        mix = (band[:, None, :, :, None] * group[:, :, :, None, :]).reshape(group.shape[:3] + (self.C,))
        by_cell = np.einsum("npls,plsc->nplc", hires, mix)
        N, P, L = by_cell.shape[:3]
        arrived = (by_cell[..., None] * joiner_pmf[None, :, None, None, :]).reshape(N, P, L, self.C * self.A)
        return arrived, np.einsum("npls,plsg->nplg", hires, group)

    def move(self, field, m: int) -> tuple[np.ndarray, np.ndarray]:
        """The move step by cell (``MeanField.move``): rotation, migration, sector moves, transfers, then promotion, by their
        shares of the summed hazard; a transfer keeps the group and takes the destination's ``transfer_in``
        band, a promotion the next band. Returns (stock, variance of the staff count).

        Those staying and the moves between places are one matrix [to, from] per profession and cell, applied to
        every age at once (one stacked BLAS product); the month's flows are counted on the staff by cell (summed
        over ages first), so the step reads the stock by age about three times, not twenty-odd."""
        plan, out = field.plan, field.out
        N, P, L = field.stock.shape[:3]
        B, Gr, C, A = self.B, self.Gr, self.C, self.A
        rot, moves, mig = plan.rotation_hazard[m], plan.transfer_hazard[m], plan.migrate_hazard[m]
        sec = plan.sector_hazard[m]                                                 # [P, L]
        promo = plan.promotion_hazard[m]                                            # [P, C]
        total = (rot + mig + sec + moves.sum(-1))[:, :, None] + promo[:, None, :]   # [P, L, C]
        q = 1.0 - np.exp(-total)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = lambda h: np.where(total > 0, h / np.where(total > 0, total, 1.0), 0.0)  # noqa: E731
            s_rot = share(np.broadcast_to(rot[:, :, None], total.shape))
            s_mig = share(np.broadcast_to(mig[:, :, None], total.shape))
            s_sec = share(np.broadcast_to(sec[:, :, None], total.shape))
            s_up = share(np.broadcast_to(promo[:, None, :], total.shape))
            s_to = np.where(total[..., None] > 0, moves[:, :, None, :] / np.where(total > 0, total, 1.0)[..., None],
                            0.0)                                                    # [P, L, C, Q]
        stock = field.stock.reshape(N, P, L, C, A)
        staff = stock.sum(axis=-1)                                                  # [N, P, L, C]
        leaving = staff * q[None]
        gone = lambda s: (leaving * s[None]).sum(axis=-1)                           # noqa: E731  [N, P, L]
        # staying, rotation, migration and sector moves: [P, C, to, from]
        between = np.zeros((P, C, L, L))
        between[:, :, np.arange(L), np.arange(L)] = (1.0 - q).transpose(0, 2, 1)
        for s, where in ((s_rot, field.dest), (s_mig, field.migrate), (s_sec, field.sector)):
            if s.any():
                between += (q * s).transpose(0, 2, 1)[:, :, None, :] * where.transpose(0, 2, 1)[:, None]
        new = np.empty(stock.shape)
        np.matmul(between, stock.transpose(0, 1, 3, 2, 4), out=new.transpose(0, 1, 3, 2, 4))
        up = q * s_up                                                               # promotion: the next band
        for p, b in zip(*np.nonzero(plan.next_band >= 0)):
            now, then = slice(b * Gr, (b + 1) * Gr), slice(plan.next_band[p, b] * Gr, (plan.next_band[p, b] + 1) * Gr)
            if up[p, :, now].any():
                new[:, p, :, then] += stock[:, p, :, now] * up[None, p, :, now, None]
        rising = leaving * s_up[None]                                               # [N, P, L, C]
        transferred = np.zeros((N, P, L))
        if moves.any():                                                             # to another profession: ...
            moved = to_professions(stock * q[None, ..., None], s_to)                # [N, Q, L, C, AGES]
            regrouped = moved.reshape(N, P, L, B, Gr, A).sum(axis=3)                # ... the same group, the
            new += (regrouped[:, :, :, None] * plan.entry_band[:, _S["transfer_in"]][None, :, None, :, None, None]
                    ).reshape(N, P, L, C, A)                                        # destination's band
            transferred = np.einsum("nplc,plcq->nql", leaving, s_to)
        var = field.var
        if field.capped:        # promotions stay in the count: only the other moves thin it
            before = staff.sum(axis=-1)
            thin = q * (1.0 - s_up)                                                 # [P, L, C]
            var = capped.thinned_variance(var, before, before - (leaving - rising).sum(axis=-1),
                                          (staff * ((1.0 - thin) * thin)[None]).sum(axis=-1))
        rotated, promoted = gone(s_rot), rising.sum(axis=-1)
        out["leavers"][:, m, :, :, _R["rotation_out"]] = rotated
        out["joiners"][:, m, :, :, _S["rotation_in"]] = np.einsum("npl,plk->npk", rotated, field.dest)
        if mig.any():
            out["leavers"][:, m, :, :, _R["moved_out"]] = gone(s_mig)
            out["joiners"][:, m, :, :, _S["moved_in"]] = np.einsum("npl,plk->npk", gone(s_mig), field.migrate)
        if sec.any():
            flow = gone(s_sec)[..., None] * field.sector                            # [N, P, L, L2]
            out["joiners"][:, m, :, :, _S["sector_in"]] = flow.sum(axis=2)
            out["leavers"][:, m, :, :, _R["sector_out"]] = gone(s_sec)
            out["sector_moves"][:, m] = np.einsum("npkl,ki,lj->npij", flow, field.sector_of, field.sector_of)
        out["leavers"][:, m, :, :, _R["transfer_out"]] = gone(s_to.sum(axis=-1))
        out["joiners"][:, m, :, :, _S["transfer_in"]] = transferred
        out["leavers"][:, m, :, :, _R["promoted_out"]] = promoted
        out["joiners"][:, m, :, :, _S["promoted_in"]] = promoted
        out["promotions"][:, m] = rising.reshape(N, P, L, B, Gr)
        if field.capped:                                                            # arrivals: Poisson-like
            var = var + out["joiners"][:, m, :, :, _S["rotation_in"]] + out["joiners"][:, m, :, :, _S["transfer_in"]] \
                + out["joiners"][:, m, :, :, _S["moved_in"]] + out["joiners"][:, m, :, :, _S["sector_in"]]
        return new.reshape(N, P, L, C * A), var
