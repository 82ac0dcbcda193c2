"""Owners of levers and budgets: the bodies of the geography (the national body, a region, an ICS, a place, a
provider) and the locations (providers) each one covers, its footprint.

Every lever has an owner (its ``owner:``, else the whole geography's top level) and acts only inside the
owner's footprint; budgets are held per owner and passed down the levels. What an owner covers comes from
one function, :func:`footprints`, and what an area named in ``where`` covers from :func:`area_locations`.
"""
from __future__ import annotations

NATIONAL = "national"
OWNER_LEVELS = ("national", "region", "ics", "place", "provider")      # top to bottom


def footprints(geography) -> dict[str, dict[str, tuple[str, ...]]]:
    """level → {owner name → the locations (providers) it covers, in the geography's order}. ``national``
    (the national body) covers every location of the scenario, whatever its geography. A place's implicit
    provider (named after the place) is the place itself: only providers a scenario lists own at provider
    level."""
    out: dict[str, dict[str, list[str]]] = {level: {} for level in OWNER_LEVELS}
    for x in geography.locations():
        out["national"].setdefault(NATIONAL, []).append(x.name)
        out["region"].setdefault(x.region, []).append(x.name)
        out["ics"].setdefault(x.ics, []).append(x.name)
        out["place"].setdefault(x.place, []).append(x.name)
        if x.name != x.place:
            out["provider"][x.name] = [x.name]
    return {level: {k: tuple(v) for k, v in owners.items()} for level, owners in out.items()}


def top_owner(geography) -> str:
    """The default owner of a lever: the whole geography's top level (the national body for a national
    geography, else its one region)."""
    return NATIONAL if geography.regions is not None else geography.region


def owner_level(name: str, geography) -> str | None:
    """The level of the owner called ``name`` (the highest level with that name), None if there is none."""
    for level, owners in footprints(geography).items():
        if name in owners:
            return level
    return None


def owner_places(name: str, geography) -> tuple[str, ...]:
    """The locations (providers) owner ``name`` covers (its footprint)."""
    return footprints(geography)[owner_level(name, geography)][name]


def area_locations(name: str, geography) -> tuple[str, ...]:
    """The locations inside an area a lever's ``where`` names (a provider, place, ICS, region or the nation),
    or inside an owner; empty for a name the geography lacks."""
    if name == geography.nation_name:
        return tuple(x.name for x in geography.locations())
    level = owner_level(name, geography)
    if level is not None:
        return owner_places(name, geography)
    return (name,) if name in geography.names()["provider"] else ()


def owner_names(geography) -> list[str]:
    """Every owner name a scenario may use, top level first (what error messages list as allowed)."""
    return list(dict.fromkeys(n for owners in footprints(geography).values() for n in owners))


def inside(name: str, owner: str, geography) -> bool:
    """Whether every location of area or owner ``name`` lies inside ``owner``'s footprint."""
    return set(area_locations(name, geography)) <= set(owner_places(owner, geography))


def lever_owner(lever, geography) -> str:
    """The owner of a lever: its ``owner``, else the geography's top level."""
    return lever.owner or top_owner(geography)


def uses_owners(scenario) -> bool:
    """Whether results report spend by owner: some lever names an owner, or the scenario has budgets."""
    return scenario.budgets is not None or any(getattr(x, "owner", None) for x in scenario.levers)


def owner_table(scenario) -> list[tuple[str, str]]:
    """(owner, level) of every owner the results report, top level first, in the geography's order: the
    owners of the levers, of budgets, and of budgets passed down to them. Empty when the scenario uses no
    owners (its results then have no spend by owner)."""
    if not uses_owners(scenario):
        return []
    geo = scenario.geography
    named = {lever_owner(x, geo) for x in scenario.levers}
    if scenario.budgets is not None:
        named |= set(scenario.budgets.owners) | set(scenario.budgets.allocate)
        for source in scenario.budgets.allocate:
            named |= set(recipients(scenario, source))
    fp = footprints(geo)
    return [(n, level) for level, owners in fp.items() for n in owners
            if n in named and owner_level(n, geo) == level]


def recipients(scenario, source: str) -> list[str]:
    """The owners a budget allocation from ``source`` reaches: every owner at its ``to`` level inside
    ``source``'s footprint (or, for a table, those the table names)."""
    rule = scenario.budgets.allocate[source]
    geo = scenario.geography
    if owner_level(source, geo) is None:
        return []
    below = footprints(geo).get(rule.to, {})
    names = [n for n in below if owner_level(n, geo) == rule.to and inside(n, source, geo)]
    if rule.by == "table":
        names = [n for n in names if n in rule.table]
    return names
