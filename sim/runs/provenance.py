"""What a results dataset records about how it was made: the resolved scenario, its hash, seed, engine
and wfsim version (the dataset's attributes)."""
from __future__ import annotations

import json

from ..scenario import scenario_dict, scenario_sha256
from ..vocabulary import package_version


def wfsim_version() -> str:
    """The installed wfsim's version (distribution ``wfsim-ics``), recorded with every result."""
    return package_version()


def demand_definition(scenario) -> str:
    """The scenario's definition of demand in words (attribute ``demand_definition``)."""
    if scenario.demand is not None:
        d = scenario.demand
        lines = f" with service lines {', '.join(d.service_lines)}" if d.service_lines else ""
        return f"{d.definition}{lines}"
    return "per profession: " + ", ".join(
        f"{k}: need per head" if p.demand.fte_per_1000_population is not None else f"{k}: funded establishment"
        for k, p in scenario.professions.items())


def provenance(scenario, *, engine: str, seed: int | None) -> dict:
    return {
        "scenario_name": scenario.name, "scenario_sha256": scenario_sha256(scenario),
        "scenario": json.dumps(scenario_dict(scenario), sort_keys=True), "seed": -1 if seed is None else seed,
        "engine": engine, "wfsim_version": wfsim_version(),
        "demand_definition": demand_definition(scenario),
    }
