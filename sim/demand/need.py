"""Boxes 0-1: residents by age band → activity by service line → required FTE by profession.

The scenario states its demand definition: ``need`` (residents × need rates), ``utilisation``
(current activity grown by demography) or ``establishment`` (required FTE = funded posts). Without a
``demand`` section each profession's own block applies: FTE per 1,000 residents growing per head,
or the funded establishment.
"""
from __future__ import annotations

import numpy as np


def monthly_growth_factor(annual: np.ndarray) -> np.ndarray:
    """Cumulative factor at each month for annual growth rates per month (month 0 = 1)."""
    steps = (1 + annual[1:]) ** (1 / 12)
    return np.concatenate([np.ones((1,) + annual.shape[1:]), np.cumprod(steps, axis=0)])


def project_population(scenario, series, places, pops) -> tuple[list[str], np.ndarray]:
    """(age bands, residents [M, B, L]); with no population section one band, "all", held constant."""
    M = scenario.years * 12
    pop = scenario.population
    if pop is None:
        return ["all"], np.broadcast_to(np.asarray(pops, float), (M, 1, len(places))).copy()
    bands = list(pop.age_bands)
    shares = np.array([[pop.by_place.get(pl, pop.age_bands)[b] for pl in places] for b in bands])   # [B, L]
    growth = np.stack([series(pop.growth.get(b, 0.0)) for b in bands], axis=1)                        # [M, B]
    return bands, monthly_growth_factor(growth)[:, :, None] * (shares * np.asarray(pops, float))[None]


def activity(scenario, series, bands, population) -> tuple[list[str], list[str], np.ndarray]:
    """(service lines, units, activity per month [M, S, L]) from need or utilisation rates."""
    d = scenario.demand
    if d is None or not d.service_lines:
        return [], [], np.zeros((population.shape[0], 0, population.shape[2]))
    lines = list(d.service_lines)
    out = []
    for name in lines:
        line = d.service_lines[name]
        rate = np.array([line.use_per_1000[b] for b in bands]) / 1000.0                       # per resident per year
        per_year = np.einsum("mbl,b->ml", population, rate)
        if d.definition == "utilisation":
            start_total = per_year[0].sum()
            per_year = per_year * (line.activity_at_start / start_total if start_total > 0 else 0.0)
        out.append(per_year * series(line.plan)[:, None] / 12.0)
    return lines, [d.service_lines[n].unit for n in lines], np.stack(out, axis=1)


def staffing_matrix(scenario, lines, professions) -> np.ndarray:
    """FTE per unit of activity per month, [S, P] (ratios are per 1,000 units a year)."""
    out = np.zeros((len(lines), len(professions)))
    for i, name in enumerate(lines):
        for prof, ratio in scenario.demand.service_lines[name].staffing.items():
            out[i, professions.index(prof)] = ratio / 1000.0 * 12.0
    return out


def productivity_factor(scenario, series, professions) -> np.ndarray:
    """[M, P] output per FTE relative to the start (FTE needed per unit divides by it)."""
    M = scenario.years * 12
    d = scenario.demand
    rates = np.zeros((M, len(professions)))
    if d is not None:
        for prof, v in d.productivity.items():
            rates[:, professions.index(prof)] = series(v)
    return monthly_growth_factor(rates)
