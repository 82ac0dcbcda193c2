"""Mobility between ICSs and regions: the scenario's ``mobility`` section as plan arrays.

Staff move to another ICS of their region or to another region at annual probabilities (per profession,
else the default), each turned into a monthly hazard; the two add to one hazard of such a move, which
competes with moves within the ICS and transfers (the engines split one summed hazard by shares). Where a
move goes: a place among the eligible ones (other ICSs of the region, or other regions) by residents or by
the profession's staff at the start, then a provider there by the profession's provider shares; a
location with nowhere eligible has no hazard of that kind. Completers who do not take a local post look
for one elsewhere with the ``same_region`` and ``other_region`` shares (a place by residents among the
eligible ones, then a provider by the produced profession's shares), the rest leave; a share with
nowhere eligible leaves too. Without the section every array is zero, so nothing changes.
"""
from __future__ import annotations

import numpy as np

from .locations import Locations, place_sum


def _names_index(names: list[str]) -> np.ndarray:
    unique = {n: i for i, n in enumerate(dict.fromkeys(names))}
    return np.array([unique[n] for n in names], np.int64)


def eligible(geo: Locations) -> tuple[np.ndarray, np.ndarray]:
    """[L, L2] bool each: l2 lies in another ICS of l's region; l2 lies in another region."""
    ics = _names_index(geo.place_ics)[geo.place]
    region = _names_index(geo.place_region)[geo.place]
    same_region = region[:, None] == region[None, :]
    return same_region & (ics[:, None] != ics[None, :]), ~same_region


def _destinations(weight: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """[L, L2] each row's ``weight`` [L2] over the ``allowed`` [L, L2] destinations, adding up to 1 (0 where
    none is allowed or weighted)."""
    w = weight[None, :] * allowed
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def cumulative(weights: np.ndarray) -> np.ndarray:
    """Cumulative weights along the last axis, exactly the row's total from its last weighted entry on (so a
    draw below the total never picks an entry of zero weight)."""
    out = np.cumsum(weights, axis=-1)
    rows = out.reshape(-1, out.shape[-1])
    for r, w in zip(rows, weights.reshape(-1, weights.shape[-1])):
        some = np.flatnonzero(w > 0)
        if some.size:
            r[some[-1]:] = r[-1]
    return out


def rates(scenario, profession: str) -> tuple[float, float]:
    """(other_ics, other_region) annual probabilities of a profession: its own where given, else the default's."""
    staff = scenario.mobility.staff
    own = staff.by_profession.get(profession)
    out = []
    for key in ("other_ics", "other_region"):
        out.append(getattr(own, key) if own is not None and key in own.model_fields_set else
                   getattr(staff.default, key))
    return out[0], out[1]


def mobility_arrays(scenario, geo: Locations, within: np.ndarray, init_hc: np.ndarray, produces: np.ndarray,
                    months: int, monthly_hazard) -> dict[str, np.ndarray]:
    """The plan's ``migrate_hazard`` [M, P, L], ``migrate_cdf`` [P, L, L2] and ``graduate_cdf`` [G, L, L2]."""
    P, L = within.shape
    G = len(produces)
    out = {"mobile": scenario.mobility is not None, "migrate_hazard": np.zeros((months, P, L)),
           "migrate_cdf": np.zeros((P, L, L)), "graduate_cdf": np.zeros((G, L, L))}
    if scenario.mobility is None:
        return out
    other_ics, other_region = eligible(geo)
    K = len(geo.places)
    residents = geo.population[geo.place]                                     # [L] residents of the place
    by_staff = scenario.mobility.staff.destination == "staff"
    for p, name in enumerate(scenario.professions):
        place_w = place_sum(init_hc[p].astype(float), geo.place, K)[geo.place] if by_staff else residents
        w = place_w * within[p]
        to_ics, to_region = _destinations(w, other_ics), _destinations(w, other_region)
        h_ics, h_region = (float(monthly_hazard(np.array(r))) for r in rates(scenario, name))
        h_ics_l = h_ics * (to_ics.sum(axis=1) > 0)                             # [L] nowhere eligible: no hazard
        h_region_l = h_region * (to_region.sum(axis=1) > 0)
        total = h_ics_l + h_region_l
        out["migrate_hazard"][:, p, :] = total[None, :]
        mix = h_ics_l[:, None] * to_ics + h_region_l[:, None] * to_region
        out["migrate_cdf"][p] = cumulative(np.divide(mix, total[:, None], out=np.zeros_like(mix),
                                                     where=total[:, None] > 0))
    shares = scenario.mobility.graduates
    for g, p in enumerate(produces):
        w = residents * within[p]
        mix = shares.same_region * _destinations(w, other_ics) + shares.other_region * _destinations(w, other_region)
        out["graduate_cdf"][g] = cumulative(mix)
    return out
