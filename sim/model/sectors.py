"""Sectors and retire-and-return: a profession's ``sector_moves`` and ``retire_and_return`` as plan arrays.

A member of staff at a provider of a sector the profession moves from moves to another sector at the
annual probability given, turned into a monthly hazard that competes with the other moves (one summed
hazard, split by shares: rotation, migration, sector moves, transfers). Where a move goes: a sector by
the ``to`` shares, then a provider of that sector employing the profession in the same place (by its
share of the profession's staff there), else in another place of the ICS (by residents × that share);
validation makes sure there is one. Retire-and-return: the share of retirees who rejoin at once, their
FTE and their own monthly leaving hazard. Without the sections every array is zero, so nothing changes.
"""
from __future__ import annotations

import numpy as np

from ..scenario.geography import SECTORS
from .locations import Locations
from .mobility import cumulative


def sector_index(geo: Locations) -> np.ndarray:
    """[L] each location's sector as an index into ``SECTORS`` (-1: the kind says none)."""
    return np.array([SECTORS.index(s) if s is not None else -1 for s in geo.sectors], np.int64)


def destinations(geo: Locations, within: np.ndarray, to: dict[str, float]) -> np.ndarray:
    """[L, L2] where a move from each location goes: by sector share, then a provider of that sector employing
    the profession (``within`` [L] > 0) in the same place by its share there, else in the ICS by residents ×
    share. A row is all zero where no sector moved to is in reach (validation refuses that)."""
    L = len(geo.names)
    sec = np.array([s if s is not None else "" for s in geo.sectors])
    ics = np.array(geo.place_ics)[geo.place]
    residents = geo.population[geo.place]
    out = np.zeros((L, L))
    for l in range(L):
        for sector, share in to.items():
            if share <= 0:
                continue
            ok = (sec == sector) & (within > 0)
            w = within * (ok & (geo.place == geo.place[l]))
            if w.sum() <= 0:
                w = residents * within * (ok & (ics == ics[l]))
            if w.sum() > 0:
                out[l] += share * w / w.sum()
    return out


def within_sector(move_cdf: np.ndarray, index: np.ndarray, scenario) -> np.ndarray:
    """[P, L, L2] the cumulative weights of staff moves to another place of the ICS (``move_cdf``), kept in the
    mover's sector for a profession with ``sector_moves`` (a change of sector is then only a sector move);
    other professions' rows are returned as they are. A row with nowhere of its sector to go is all zero."""
    out = move_cdf.copy()
    same = index[:, None] == index[None, :]
    for p, prof in enumerate(scenario.professions.values()):
        if prof.sector_moves:
            w = np.diff(np.concatenate([np.zeros(move_cdf.shape[1:2] + (1,)), move_cdf[p]], axis=-1), axis=-1) * same
            total = w.sum(axis=-1, keepdims=True)
            out[p] = cumulative(np.divide(w, total, out=np.zeros_like(w), where=total > 0))
    return out


def sector_arrays(scenario, geo: Locations, within: np.ndarray, ser, monthly_hazard) -> dict[str, np.ndarray]:
    """The plan's ``sectoral``, ``location_sector_index`` [L], ``sector_hazard`` [M, P, L], ``sector_cdf``
    [P, L, L2], and ``returning``, ``return_share``, ``return_hazard``, ``return_fte`` [M, P, L]."""
    P, L = within.shape
    M = scenario.years * 12
    index = sector_index(geo)
    out = {"sectoral": False, "location_sector_index": index, "sector_hazard": np.zeros((M, P, L)),
           "sector_cdf": np.zeros((P, L, L)), "returning": False, "return_share": np.zeros((M, P, L)),
           "return_hazard": np.zeros((M, P, L)), "return_fte": np.zeros((M, P, L))}
    for p, prof in enumerate(scenario.professions.values()):
        rows = np.zeros((L, L))
        for frm, move in (prof.sector_moves or {}).items():
            out["sectoral"] = True
            here = (np.array([s == frm for s in geo.sectors])) & (within[p] > 0)
            dest = destinations(geo, within[p], move.to)
            reach = here & (dest.sum(axis=1) > 0)
            out["sector_hazard"][:, p, :] += monthly_hazard(ser(move.rate))[:, None] * reach[None, :]
            rows[reach] = dest[reach]
        out["sector_cdf"][p] = cumulative(rows)
        rr = prof.retire_and_return
        if rr is not None:
            out["returning"] = True
            out["return_share"][:, p, :] = rr.share
            out["return_hazard"][:, p, :] = monthly_hazard(ser(rr.leave))[:, None]
            out["return_fte"][:, p, :] = rr.fte_per_head
    return out
