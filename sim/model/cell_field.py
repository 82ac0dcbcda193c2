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


class Cells:
    """The shapes and tables of a plan's cells."""

    def __init__(self, plan: Plan):
        self.B, self.Gr = len(plan.bands), len(plan.groups)
        self.C = self.B * self.Gr

    def split(self, a: np.ndarray) -> np.ndarray:
        """[..., cell × AGES] → [..., B, Gr, AGES]."""
        return a.reshape(a.shape[:-1] + (self.B, self.Gr, AGES))

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
        return stock.reshape(P, L, self.C * AGES)

    def older(self, stock: np.ndarray) -> np.ndarray:
        """Everyone a month older, within their cell."""
        lead = stock.shape[:-1]
        a = stock.reshape(lead + (self.C, AGES))
        a = np.concatenate([np.zeros(lead + (self.C, 1)), a[..., :-1]], axis=-1)
        return a.reshape(lead + (self.C * AGES,))

    def leave_probability(self, plan: Plan, m: int, age_mult: np.ndarray) -> np.ndarray:
        """[P, L, cell × AGES] probability of leaving in month m: hazard × age multiplier × cell multiplier."""
        P, L = age_mult.shape[:2]
        h = plan.leave_hazard[m][:, :, None, None] * age_mult[:, :, None, :] * plan.leave_mult_sub[m][:, None, :, None]
        return (1.0 - np.exp(-h)).reshape(P, L, self.C * AGES)

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
        arrived = (by_cell[..., None] * joiner_pmf[None, :, None, None, :]).reshape(N, P, L, self.C * AGES)
        return arrived, np.einsum("npls,plsg->nplg", hires, group)

    def move(self, field, m: int) -> tuple[np.ndarray, np.ndarray]:
        """The move step by cell (``MeanField.move``): rotation, migration, sector moves, transfers, then promotion, by their
        shares of the summed hazard; a transfer keeps the group and takes the destination's ``transfer_in``
        band, a promotion the next band. Returns (stock, variance of the staff count)."""
        plan, out = field.plan, field.out
        N, P, L = field.stock.shape[:3]
        B, Gr, C = self.B, self.Gr, self.C
        rot, moves, mig = plan.rotation_hazard[m], plan.transfer_hazard[m], plan.migrate_hazard[m]
        sec = plan.sector_hazard[m]                                                 # [P, L]
        promo = plan.promotion_hazard[m]                                            # [P, C]
        total = (rot + mig + sec + moves.sum(-1))[:, :, None] + promo[:, None, :]   # [P, L, C]
        q = 1.0 - np.exp(-total)
        stock = field.stock.reshape(N, P, L, C, AGES)
        leaving = stock * q[None, :, :, :, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = lambda h: np.where(total > 0, h / np.where(total > 0, total, 1.0), 0.0)  # noqa: E731
            s_rot = share(np.broadcast_to(rot[:, :, None], total.shape))
            s_mig = share(np.broadcast_to(mig[:, :, None], total.shape))
            s_sec = share(np.broadcast_to(sec[:, :, None], total.shape))
            s_up = share(np.broadcast_to(promo[:, None, :], total.shape))
            s_to = np.where(total[..., None] > 0, moves[:, :, None, :] / np.where(total > 0, total, 1.0)[..., None],
                            0.0)                                                    # [P, L, C, Q]
        rotated = leaving * s_rot[None, ..., None]
        migrated = leaving * s_mig[None, ..., None]
        sectored = leaving * s_sec[None, ..., None]
        promoted = leaving * s_up[None, ..., None]
        moved = np.einsum("nplca,plcq->nqlca", leaving, s_to)                       # transfers, by destination
        kept = stock - leaving
        arrivals = np.einsum("nplca,plk->npkca", rotated, field.dest) + np.einsum("nplca,plk->npkca", migrated,
                                                                                   field.migrate)
        if sec.any():                                                               # to another sector
            arrivals = arrivals + np.einsum("nplca,plk->npkca", sectored, field.sector)
        regrouped = moved.reshape(N, P, L, B, Gr, AGES).sum(axis=3)                 # same group ...
        banded = regrouped[:, :, :, None] * plan.entry_band[:, _S["transfer_in"]][None, :, None, :, None, None]
        up = np.zeros((N, P, L, B, Gr, AGES))                                       # ... promotion: the next band
        rising = promoted.reshape(N, P, L, B, Gr, AGES)
        for p in range(P):
            for b in range(B):
                if plan.next_band[p, b] >= 0:
                    up[:, p, :, plan.next_band[p, b]] += rising[:, p, :, b]
        new = kept + arrivals + (banded + up).reshape(N, P, L, C, AGES)
        var = field.var
        if field.capped:        # promotions stay in the count: only the other moves thin it
            before = stock.sum(axis=(-1, -2))
            gone = q * (1.0 - s_up)                                                 # [P, L, C]
            var = capped.thinned_variance(var, before, before - (leaving - promoted).sum(axis=(-1, -2)),
                                          (stock * ((1.0 - gone) * gone)[None, ..., None]).sum(axis=(-1, -2)))
        total_out = lambda a: a.sum(axis=(-1, -2))                                  # noqa: E731
        out["leavers"][:, m, :, :, _R["rotation_out"]] = total_out(rotated)
        out["joiners"][:, m, :, :, _S["rotation_in"]] = np.einsum("npl,plk->npk", total_out(rotated), field.dest)
        if mig.any():
            out["leavers"][:, m, :, :, _R["moved_out"]] = total_out(migrated)
            out["joiners"][:, m, :, :, _S["moved_in"]] = np.einsum("npl,plk->npk", total_out(migrated), field.migrate)
        if sec.any():
            flow = total_out(sectored)[..., None] * field.sector                    # [N, P, L, L2]
            out["joiners"][:, m, :, :, _S["sector_in"]] = flow.sum(axis=2)
            out["leavers"][:, m, :, :, _R["sector_out"]] = total_out(sectored)
            out["sector_moves"][:, m] = np.einsum("npkl,ki,lj->npij", flow, field.sector_of, field.sector_of)
        out["leavers"][:, m, :, :, _R["transfer_out"]] = total_out(leaving) - total_out(rotated) \
            - total_out(migrated) - total_out(sectored) - total_out(promoted)
        out["joiners"][:, m, :, :, _S["transfer_in"]] = total_out(moved)
        out["leavers"][:, m, :, :, _R["promoted_out"]] = total_out(promoted)
        out["joiners"][:, m, :, :, _S["promoted_in"]] = total_out(promoted)
        out["promotions"][:, m] = rising.sum(axis=-1)
        if field.capped:                                                            # arrivals: Poisson-like
            var = var + out["joiners"][:, m, :, :, _S["rotation_in"]] + out["joiners"][:, m, :, :, _S["transfer_in"]] \
                + out["joiners"][:, m, :, :, _S["moved_in"]] + out["joiners"][:, m, :, :, _S["sector_in"]]
        return new.reshape(N, P, L, C * AGES), var
