"""Locations: the geography's providers as the plan's unit, and how each profession spreads over them.

The plan tensors' last axis is the location (a provider; a place without providers is one implicit
provider). Everything a scenario gives by place (residents, a headcount total, a programme's intake) is
shared over the place's providers here: by each profession's provider shares (its ``employers`` kind
shares, renormalised over the kinds present in the place, × the provider's weight within its kind), or
for residents by provider weight alone. A place with one provider gives it everything, exactly (× 1.0),
so a scenario without providers compiles to the arrays it always did.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario.geography import Geography


@dataclass(frozen=True)
class Locations:
    names: list[str]            # [L] providers (or the place's own name)
    kinds: list[str]            # [L]
    sectors: list[str | None]   # [L]
    weights: np.ndarray         # [L] provider weight as given
    place: np.ndarray           # [L] int: index of the location's place
    places: list[str]           # [K]
    place_ics: list[str]        # [K]
    place_region: list[str]     # [K]
    population: np.ndarray      # [K] residents of each place (float)
    nation: str

    @property
    def weight_share(self) -> np.ndarray:
        """[L] each provider's share of its place by weight (1.0 for a place's only provider)."""
        return self.weights / place_sum(self.weights, self.place, len(self.places))[self.place]


def locations(geography: Geography) -> Locations:
    rows = geography.locations()
    table = geography.place_table()
    places = [p for p, _, _ in table]
    index = {p: k for k, p in enumerate(places)}
    return Locations(
        names=[x.name for x in rows], kinds=[x.kind for x in rows], sectors=[x.sector for x in rows],
        weights=np.array([x.weight for x in rows], float), place=np.array([index[x.place] for x in rows], np.int64),
        places=places, place_ics=[i for _, i, _ in table], place_region=geography.place_regions(),
        population=np.array([n for _, _, n in table], float), nation=geography.nation_name)


def place_sum(values: np.ndarray, place: np.ndarray, K: int) -> np.ndarray:
    """[..., K] the sum over each place's locations of ``values`` [..., L] (a place's only location: itself,
    to the bit)."""
    out = np.zeros(values.shape[:-1] + (K,))
    np.add.at(out, (..., place), values)
    return out


def provider_shares(loc: Locations, employers: dict[str, float] | None) -> np.ndarray:
    """[L] a profession's share of each location within its place: kind share (renormalised over the kinds
    present in the place) × the provider's weight among the place's providers of its kind; by weight
    alone without ``employers``. Each place's shares add up to 1, or are all 0 where none of its kinds
    employ the profession."""
    L, K = len(loc.names), len(loc.places)
    if employers is None:
        return loc.weight_share
    kinds = np.array(loc.kinds)
    out = np.zeros(L)
    for k in range(K):
        here = np.flatnonzero(loc.place == k)
        present = sorted(set(kinds[here]))
        total = sum(employers.get(kind, 0.0) for kind in present)
        if total <= 0:
            continue
        for kind in present:
            same = here[kinds[here] == kind]
            out[same] = employers.get(kind, 0.0) / total * loc.weights[same] / loc.weights[same].sum()
    return out


def spread(per_place: np.ndarray, shares: np.ndarray, place: np.ndarray, split) -> np.ndarray:
    """[L] whole numbers: each place's count ``per_place`` [K] split over its locations by ``shares`` [L]
    (``split``: largest remainder, as compile shares whole people)."""
    out = np.zeros(len(shares), np.int64)
    for k, n in enumerate(per_place):
        here = np.flatnonzero(place == k)
        out[here] = split(n, shares[here])
    return out


def move_destinations(pop: np.ndarray, shares: np.ndarray, place: np.ndarray, ics: np.ndarray) -> np.ndarray:
    """[P, L, L2] cumulative weights of where a member of staff of profession p moving from location l goes:
    another place of l's ICS by population, then a provider there by the profession's shares (one draw on
    the product). A row is all zero where there is nowhere to go. ``pop`` [K], ``shares`` [P, L], ``place``
    [L] and ``ics`` [K] (an index per place)."""
    same_ics = ics[place][:, None] == ics[place][None, :]
    elsewhere = place[:, None] != place[None, :]
    w = pop[place][None, None, :] * shares[:, None, :] * (same_ics & elsewhere)[None]
    total = w.sum(axis=-1)
    out = np.zeros(w.shape)
    some = total > 0
    out[some] = np.cumsum(w[some], axis=-1) / total[some][:, None]
    return out
