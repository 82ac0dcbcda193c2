"""Staff characteristics and pay bands as plan arrays: who joins in which group and band, and the hazards
that depend on them.

A member of staff is in one *cell* of their profession: a band of its career ladder and a group (their
combination of declared characteristics; groups of several characteristics combine as their product,
independently). Cells are numbered ``sub = band × n_groups + group``. A scenario without
``characteristics`` or ``bands`` has one band (``all``) and one group (``all``): one cell, and every array
here is trivial (multipliers of exactly 1, no promotion), so the engines draw nothing more for it.
"""
from __future__ import annotations

import itertools

import numpy as np

from .flows import SOURCES

NO_LADDER = "all"          # the band of staff of a profession without a career ladder (and the one band
ALL_GROUPS = "all"         # of a scenario without any), and the one group of a scenario without characteristics


def combined_groups(scenario) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(labels of the combined groups, e.g. ``white/female``, [(characteristic, its groups)])."""
    chars = [(name, list(c.groups)) for name, c in (scenario.characteristics or {}).items()]
    if not chars:
        return [ALL_GROUPS], []
    return ["/".join(combo) for combo in itertools.product(*[g for _, g in chars])], chars


def band_names(scenario) -> list[str]:
    """The union of the professions' bands in order of first appearance; ``all`` for professions without a
    ladder (last), or alone where no profession has one."""
    names: list[str] = []
    for p in scenario.professions.values():
        for b in (p.bands.names if p.bands is not None else ()):
            if b not in names:
                names.append(b)
    if not names or any(p.bands is None for p in scenario.professions.values()):
        names.append(NO_LADDER)
    return names


def _vector(table: dict[str, float], names: list[str], missing: float = 0.0) -> np.ndarray:
    return np.array([float(table.get(n, missing)) for n in names])


def _product(vectors: list[np.ndarray]) -> np.ndarray:
    """Flattened outer product, in the order of ``itertools.product`` (the combined groups' order)."""
    out = np.ones(1)
    for v in vectors:
        out = np.outer(out, v).ravel()
    return out


def _group_shares(c, prof: str, src: str, place: str | None = None) -> dict[str, float]:
    """A characteristic's shares among joiners of ``prof`` from ``src`` (falling back to ``default``, then to
    the staff shares), a profession's own figures first, then the place's (``joiners_by_place``)."""
    o = c.by_profession.get(prof)
    own = [c.joiners_by_place[place]] if place is not None and place in c.joiners_by_place else []
    for table in [(o.joiners if o is not None else None) or {}] + own + [c.joiners]:
        if src in table:
            return table[src]
        if "default" in table:
            return table["default"]
    return o.staff if o is not None and o.staff is not None else c.staff


def _own(c, prof: str, key: str) -> dict[str, float]:
    o = c.by_profession.get(prof)
    own = getattr(o, key) if o is not None else None
    return own if own is not None else getattr(c, key)


def cell_arrays(scenario, places: list[str], at: np.ndarray, months: int, ser, monthly_hazard,
                cost: np.ndarray) -> dict:
    """The plan's fields for cells (see ``sim.model.plan.Plan``); ``cost`` [M, P, L] £ per FTE per year after
    pay awards, the default pay of every band; ``ser`` turns a series into a monthly array."""
    profs = list(scenario.professions)
    P, L, M, S = len(profs), len(at), months, len(SOURCES)
    groups, chars = combined_groups(scenario)
    bands = band_names(scenario)
    Gr, B = len(groups), len(bands)
    has_ladder = np.zeros((P, B), bool)
    next_band = np.full((P, B), -1, np.int64)
    band_start = np.zeros((P, B))
    band_entry = np.zeros((P, S, B))
    band_leave = np.ones((P, B))
    band_promote = np.zeros((M, P, B))
    pay = np.repeat(cost[:, :, :1], B, axis=2)                        # [M, P, B] default: the profession's cost
    group_staff = np.ones((P, Gr))
    group_entry = np.ones((P, S, Gr))
    group_leave = np.ones((P, Gr))
    group_promote = np.ones((P, Gr))
    pay_factor = np.divide(cost[:, :, 0], cost[:1, :, 0], out=np.ones((M, P)), where=cost[:1, :, 0] > 0)
    for i, (name, p) in enumerate(scenario.professions.items()):
        b = p.bands
        if b is None:
            k = bands.index(NO_LADDER)
            has_ladder[i, k] = True
            band_start[i, k] = 1.0
            band_entry[i, :, k] = 1.0
        else:
            idx = [bands.index(x) for x in b.names]
            has_ladder[i, idx] = True
            for j, (lo, hi) in enumerate(zip(idx, idx[1:])):
                next_band[i, lo] = hi
            band_start[i, idx] = _vector(b.staff, b.names)
            for s, src in enumerate(SOURCES):
                table = b.entry.get(src, b.entry.get("default", {b.names[0]: 1.0}))
                band_entry[i, s, idx] = _vector(table, b.names)
            band_leave[i, idx] = _vector(b.leave, b.names, 1.0)
            for x, rate in b.promotion.items():
                band_promote[:, i, bands.index(x)] = monthly_hazard(ser(rate))
            for x, value in b.pay.items():
                pay[:, i, bands.index(x)] = ser(value) * pay_factor[:, i]
        if chars:
            cs = [c for c in scenario.characteristics.values()]
            group_staff[i] = _product([_vector(_own(c, name, "staff"), c.groups) for c in cs])
            for s, src in enumerate(SOURCES):
                group_entry[i, s] = _product([_vector(_group_shares(c, name, src), c.groups) for c in cs])
            group_leave[i] = _product([_vector(_own(c, name, "leave"), c.groups, 1.0) for c in cs])
            group_promote[i] = _product([_vector(_own(c, name, "promotion"), c.groups, 1.0) for c in cs])
    band_promote[:, next_band < 0] = 0.0                              # the top of a ladder: nowhere to go
    entry_group = np.repeat(group_entry[None, :, None], M, axis=0)   # [M, P, 1, S, Gr]: the same in every place
    if chars and any(c.joiners_by_place for c in scenario.characteristics.values()):
        cs = list(scenario.characteristics.values())                  # a place's own shares: [M, P, L, S, Gr]
        by_location = np.ones((P, L, S, Gr))
        for i, name in enumerate(profs):
            for l in range(L):
                for s, src in enumerate(SOURCES):
                    by_location[i, l, s] = _product([_vector(_group_shares(c, name, src, places[at[l]]), c.groups)
                                                     for c in cs])
        entry_group = np.repeat(by_location[None], M, axis=0)
    K = len(places)
    population_groups = np.full((K, Gr), np.nan)
    if chars:
        cs = list(scenario.characteristics.values())
        for k, place in enumerate(places):
            tables = [c.population_by_place.get(place, c.population) for c in cs]
            if all(t is not None for t in tables):
                population_groups[k] = _product([_vector(t, c.groups) for t, c in zip(tables, cs)])
    sub = lambda band, group: (band[..., :, None] * group[..., None, :]).reshape(band.shape[:-1] + (B * Gr,))  # noqa: E731
    start = sub(band_start, group_staff)                                              # [P, SUB]
    return {
        "bands": bands, "groups": groups, "profession_bands": has_ladder, "next_band": next_band,
        "start_sub": np.repeat(start[:, None, :], L, axis=1),
        "entry_group": entry_group,
        "entry_band": band_entry,
        "leave_mult_sub": np.repeat(sub(band_leave, group_leave)[None], M, axis=0),
        "promotion_hazard": sub(band_promote, np.broadcast_to(group_promote[None], (M, P, Gr))),
        "pay_band": pay, "population_groups": population_groups,
    }
