"""Owners of levers and budgets: the bodies of the geography (the national body, a region, an ICS, a place)
and the places each one covers, its footprint.

Every lever has an owner (its ``owner:``, else the whole geography's top level) and acts only inside the
owner's footprint; budgets are held per owner and passed down the levels. What an owner covers comes from
one function, :func:`footprints`, so that new levels (providers, a national geography of several regions)
plug in there and nowhere else.
"""
from __future__ import annotations

NATIONAL = "national"
OWNER_LEVELS = ("national", "region", "ics", "place", "provider")      # top to bottom


def footprints(geography) -> dict[str, dict[str, tuple[str, ...]]]:
    """level → {owner name → the places it covers, in the geography's order}. ``national`` (the national
    body) covers every place of the scenario, whatever its geography."""
    table = geography.place_table()
    places = tuple(p for p, _, _ in table)
    ics: dict[str, list[str]] = {}
    for p, i, _ in table:
        ics.setdefault(i, []).append(p)
    return {"national": {NATIONAL: places}, "region": {geography.region: places},
            "ics": {k: tuple(v) for k, v in ics.items()}, "place": {p: (p,) for p in places}}


def top_owner(geography) -> str:
    """The default owner of a lever: the whole geography's top level (today's geographies are one region)."""
    return geography.region


def owner_level(name: str, geography) -> str | None:
    """The level of the owner called ``name`` (the highest level with that name), None if there is none."""
    for level, owners in footprints(geography).items():
        if name in owners:
            return level
    return None


def owner_places(name: str, geography) -> tuple[str, ...]:
    """The places owner ``name`` covers (its footprint)."""
    return footprints(geography)[owner_level(name, geography)][name]


def owner_names(geography) -> list[str]:
    """Every owner name a scenario may use, top level first (what error messages list as allowed)."""
    return list(dict.fromkeys(n for owners in footprints(geography).values() for n in owners))


def inside(name: str, owner: str, geography) -> bool:
    """Whether every place of area or owner ``name`` lies inside ``owner``'s footprint."""
    return set(owner_places(name, geography)) <= set(owner_places(owner, geography))


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
