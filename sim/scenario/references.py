"""Checks that need the whole scenario: names that must exist, dates inside the horizon."""
from __future__ import annotations

from ..vocabulary import APRIL, absolute_month, last_month, month_index
from .characteristics import characteristic_problems
from .errors import shown
from .owners import OWNER_LEVELS, footprints, inside, owner_level, owner_names


def _series_years(value) -> list[int]:
    return list(value) if isinstance(value, dict) else []


def reference_problems(s) -> list[tuple[str, str]]:
    """(field path, problem) for every cross-reference problem in a structurally valid scenario."""
    out: list[tuple[str, str]] = []
    geo = s.geography
    places = [p for p, _, _ in geo.place_table()]
    last_year = _end_year(s)
    professions = set(s.professions)

    def years_ok(path: str, value) -> None:
        for y in _series_years(value):
            if y > last_year:
                out.append((path, f"year {y} is beyond the horizon (the plan ends in {last_year + 1}-03; "
                                  f"years up to {last_year} are allowed)"))

    for name, p in s.professions.items():
        base = f"professions.{name}"
        if isinstance(p.headcount, dict):
            for k in p.headcount:
                if k not in places:
                    out.append((f"{base}.headcount.{k}", f"unknown place {shown(k)}; allowed: {', '.join(places)}"))
            missing = [x for x in places if x not in p.headcount]
            if missing:
                out.append((f"{base}.headcount", f"a headcount mapping needs every place; missing: {', '.join(missing)}"))
        for k, v in p.transfers.items():
            if k not in professions or k == name:
                out.append((f"{base}.transfers.{k}", f"unknown destination profession {shown(k)}; allowed: "
                                                    f"{', '.join(x for x in professions if x != name)}"))
            years_ok(f"{base}.transfers.{k}", v)
        for f in ("leave_rate", "rotation_rate", "sickness_absence", "cost_per_fte"):
            years_ok(f"{base}.{f}", getattr(p, f))
        for f in ("international", "return_to_practice", "domestic", "capacity_per_month"):
            years_ok(f"{base}.recruitment.{f}", getattr(p.recruitment, f))
        years_ok(f"{base}.demand.growth", p.demand.growth)
        out += _employer_problems(geo, base, p)
        out += _sector_problems(geo, base, p)
        if p.retire_and_return is not None:
            years_ok(f"{base}.retire_and_return.leave", p.retire_and_return.leave)
        for frm, move in (p.sector_moves or {}).items():
            years_ok(f"{base}.sector_moves.{frm}.rate", move.rate)

    if s.mobility is not None:
        for k in s.mobility.staff.by_profession:
            if k not in professions:
                out.append((f"mobility.staff.by_profession.{k}",
                            f"unknown profession {k!r}; allowed: {', '.join(professions)}"))

    for name, g in s.programmes.items():
        base = f"programmes.{name}"
        if g.produces not in professions:
            out.append((f"{base}.produces",
                        f"unknown profession {shown(g.produces)}; allowed: {', '.join(professions)}"))
        if g.trainee_profession is not None and g.trainee_profession not in professions:
            out.append((f"{base}.trainee_profession",
                        f"unknown profession {shown(g.trainee_profession)}; allowed: {', '.join(professions)}"))
        if g.places is not None:
            for k in g.places:
                if k not in places:
                    out.append((f"{base}.places.{k}", f"unknown place {shown(k)}; allowed: {', '.join(places)}"))
            if sum(g.places.values()) <= 0:
                out.append((f"{base}.places", "shares must not all be zero"))
        if g.places is not None:
            out += _unemployed(geo, s, g, g.places, f"{base}.places")
        for f in ("intake", "local_employment", "cost_per_trainee_year"):
            years_ok(f"{base}.{f}", getattr(g, f))
        if g.rotation is not None and not g.in_service:
            out.append((f"{base}.rotation", "a rotation schedule is only for in-service programmes (trainees "
                                            "employed as staff, in_service: true); remove it or set in_service"))
        if g.rotation is not None and g.rotation.places is not None:
            for k in g.rotation.places:
                if k not in places:
                    out.append((f"{base}.rotation.places.{k}",
                                f"unknown place {shown(k)}; allowed: {', '.join(places)}"))
            if sum(g.rotation.places.values()) <= 0:
                out.append((f"{base}.rotation.places", "shares must not all be zero"))
            out += _unemployed(geo, s, g, g.rotation.places, f"{base}.rotation.places")

    out += _demand_problems(s, places, professions, years_ok)
    out += _budget_problems(s, years_ok)
    out += characteristic_problems(s, places)
    for name, p in s.professions.items():
        for band, v in (p.bands.promotion.items() if p.bands is not None else ()):
            years_ok(f"professions.{name}.bands.promotion.{band}", v)
        for band, v in (p.bands.pay.items() if p.bands is not None else ()):
            years_ok(f"professions.{name}.bands.pay.{band}", v)
    months = s.years * 12
    for i, goal in enumerate(s.goals):
        base = f"goals.{i}"
        if goal.profession is not None and goal.profession not in professions:
            out.append((f"{base}.profession", f"unknown profession {shown(goal.profession)}; allowed: "
                                              f"{', '.join(professions)}"))
        areas = {n for names in geo.names().values() for n in names}
        if goal.where is not None and goal.where not in areas:
            out.append((f"{base}.where", f"{shown(goal.where)} is not a provider, place, ICS or region of this "
                                         f"geography, nor the nation; allowed: {', '.join(sorted(areas))}"))
        if goal.group is not None:
            groups = [g for c in (s.characteristics or {}).values() for g in c.groups]
            if goal.group not in groups:
                out.append((f"{base}.group", f"unknown group {shown(goal.group)}; allowed: "
                                             f"{', '.join(groups) or '(the scenario declares no characteristics)'}"))
        if goal.band is not None:
            ladders = [b for p in s.professions.values() if p.bands is not None for b in p.bands.names]
            if goal.band not in ladders:
                out.append((f"{base}.band", f"unknown band {shown(goal.band)}; allowed: "
                                            f"{', '.join(dict.fromkeys(ladders)) or '(no profession has bands)'}"))
        if goal.metric == "annual_cost" and (goal.profession or goal.where):
            out.append((f"{base}.metric", "annual_cost is judged for the whole scenario; drop profession and where"))
        if not 0 <= month_index(s.start, goal.by) < months:
            out.append((f"{base}.by", f"{goal.by} is outside the horizon {s.start} to {last_month(s.start, months)}"))
    ids = [x.id for x in s.levers if x.id]
    for i, lever in enumerate(s.levers):
        base = f"levers.{i}"
        if lever.id and ids.count(lever.id) > 1:
            out.append((f"{base}.id", f"lever id {shown(lever.id)} is used by {ids.count(lever.id)} levers; ids label "
                                      "results, so each must be unique"))
        for field, msg in lever.references(s):
            out.append((f"{base}.{field}", msg))
        for field, when in (("from", lever.from_), ("until", lever.until)):
            if when is not None and not 0 <= month_index(s.start, when) < months:
                out.append((f"{base}.{field}", f"{when} is outside the horizon {s.start} to {last_month(s.start, months)}"))
        if lever.from_ and lever.until and month_index(lever.from_, lever.until) < 0:
            out.append((f"{base}.until", f"until ({lever.until}) is before from ({lever.from_})"))
    return out


def _employer_problems(geo, base: str, p) -> list[tuple[str, str]]:
    """Each employer kind exists somewhere; no headcount is given to a place where nobody employs it."""
    out = []
    kinds = set().union(*geo.kinds_at().values())
    for kind in p.employers or {}:
        if kind not in kinds:
            out.append((f"{base}.employers.{kind}", f"no provider of kind {shown(kind)} in the geography; kinds present: "
                                                    f"{', '.join(sorted(kinds))}"))
    if isinstance(p.headcount, dict):
        employing = geo.employing(p.employers)
        for place, n in p.headcount.items():
            if n > 0 and not employing.get(place, True):
                out.append((f"{base}.headcount.{place}", f"no provider at {shown(place)} employs this profession (its "
                                                         f"employers: {', '.join(p.employers)}); give 0 or add one"))
    return out


def _sector_problems(geo, base: str, p) -> list[tuple[str, str]]:
    """Each sector moved from has a provider employing the profession; each sector moved to (share > 0) has
    one in reach (the same place, else its ICS) of every provider of the sector moved from."""
    out = []
    kinds = {k for k, share in (p.employers or {}).items() if share > 0}
    employing = [x for x in geo.locations() if x.sector is not None and (p.employers is None or x.kind in kinds)]
    for frm, move in (p.sector_moves or {}).items():
        path = f"{base}.sector_moves.{frm}"
        here = [x for x in employing if x.sector == frm]
        if not here:
            out.append((path, f"no provider of sector {shown(frm)} employs this profession; sectors employing it: "
                              f"{', '.join(sorted({x.sector for x in employing})) or 'none'}"))
            continue
        for to, share in move.to.items():
            if share <= 0:
                continue
            for x in here:
                if not any(z.sector == to and (z.place == x.place or z.ics == x.ics) for z in employing):
                    out.append((f"{path}.to.{to}", f"no provider of sector {shown(to)} employing this profession in "
                                                   f"reach of {shown(x.name)} (its place {shown(x.place)} or ICS "
                                                   f"{shown(x.ics)}); add one (and its kind to employers) or drop "
                                                   f"the share"))
                    break
    return out


def _unemployed(geo, s, g, shares: dict, path: str) -> list[tuple[str, str]]:
    """Places given a share of a programme's trainees where no provider employs its profession."""
    name = g.trainee_profession if g.in_service else g.produces
    prof = s.professions.get(name)
    if prof is None:
        return []
    employing = geo.employing(prof.employers)
    return [(f"{path}.{place}", f"no provider at {shown(place)} employs {name} (its employers: "
                                f"{', '.join(prof.employers)}); trainees there would have nowhere to be")
            for place, share in shares.items() if share > 0 and not employing.get(place, True)]


def _demand_problems(s, places, professions, years_ok) -> list[tuple[str, str]]:
    out = []
    pop = s.population
    if pop is not None:
        for k in pop.by_place:
            if k not in places:
                out.append((f"population.by_place.{k}", f"unknown place {shown(k)}; allowed: {', '.join(places)}"))
        for band, v in pop.growth.items():
            years_ok(f"population.growth.{band}", v)
    years_ok("finance.pay_growth", s.finance.pay_growth)
    if s.finance.budget_growth is not None:
        years_ok("finance.budget_growth", s.finance.budget_growth)
    d = s.demand
    if d is None:
        return out
    if d.definition in ("need", "utilisation"):
        if pop is None:
            out.append(("population",
                        f"demand definition {shown(d.definition)} needs a population section (age bands)"))
        if not d.service_lines:
            out.append(("demand.service_lines",
                        f"demand definition {shown(d.definition)} needs at least one service line"))
    for name, line in d.service_lines.items():
        base = f"demand.service_lines.{name}"
        for prof in line.staffing:
            if prof not in professions:
                out.append((f"{base}.staffing.{prof}",
                            f"unknown profession {shown(prof)}; allowed: {', '.join(professions)}"))
        if pop is not None and set(line.use_per_1000) != set(pop.age_bands):
            out.append((f"{base}.use_per_1000", f"needs exactly the population's age bands: {', '.join(pop.age_bands)}"))
        if d.definition == "utilisation" and line.activity_at_start is None:
            out.append((f"{base}.activity_at_start", "the utilisation definition needs current activity per line"))
        years_ok(f"{base}.plan", line.plan)
    for prof, v in d.productivity.items():
        if prof not in professions:
            out.append((f"demand.productivity.{prof}",
                        f"unknown profession {shown(prof)}; allowed: {', '.join(professions)}"))
        years_ok(f"demand.productivity.{prof}", v)
    return out


def _budget_problems(s, years_ok) -> list[tuple[str, str]]:
    """Budgets name owners of this geography, and pass down only to lower levels inside the giver."""
    b = s.budgets
    if b is None:
        return []
    geo = s.geography
    allowed = ", ".join(owner_names(geo))
    out = []
    for owner, value in b.owners.items():
        if owner_level(owner, geo) is None:
            out.append((f"budgets.{owner}", f"unknown owner {shown(owner)}; allowed: {allowed}"))
        years_ok(f"budgets.{owner}", value)
    received = set()
    for giver, rule in b.allocate.items():
        base = f"budgets.allocate.{giver}"
        level = owner_level(giver, geo)
        if level is None:
            out.append((base, f"unknown owner {shown(giver)}; allowed: {allowed}"))
            continue
        if OWNER_LEVELS.index(rule.to) <= OWNER_LEVELS.index(level):
            below = [x for x in OWNER_LEVELS[OWNER_LEVELS.index(level) + 1:] if x in footprints(geo)]
            out.append((f"{base}.to", f"{shown(giver)} is at level {level}: a budget passes down to a lower level "
                                      f"({', '.join(below) or 'none'}); got {shown(rule.to)}"))
            continue
        mine = [n for n in footprints(geo)[rule.to] if owner_level(n, geo) == rule.to and inside(n, giver, geo)]
        for name in (rule.table or {}):
            if name not in mine:
                out.append((f"{base}.table.{name}", f"not an owner at level {rule.to} inside {shown(giver)}; allowed: "
                                                          f"{', '.join(mine)}"))
        received |= set(mine)
    for giver in b.allocate:
        if owner_level(giver, geo) is not None and giver not in b.owners and giver not in received:
            out.append((f"budgets.allocate.{giver}", f"{shown(giver)} has no budget to pass down: give budgets.{giver} "
                                                     "or allocate to it from a level above"))
    return out


def _end_year(s) -> int:
    """Last year key that can take effect: April of it must fall inside the horizon."""
    last = absolute_month(s.start) + s.years * 12 - 1
    y = last // 12
    return y if last % 12 >= APRIL - 1 else y - 1
