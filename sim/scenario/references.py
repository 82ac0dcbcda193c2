"""Checks that need the whole scenario: names that must exist, dates inside the horizon."""
from __future__ import annotations

from .types import month_index


def _series_years(value) -> list[int]:
    return list(value) if isinstance(value, dict) else []


def reference_problems(s) -> list[tuple[str, str]]:
    """(field path, problem) for every cross-reference problem in a structurally valid scenario."""
    out: list[tuple[str, str]] = []
    places = [p for p, _, _ in s.geography.place_table()]
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
                    out.append((f"{base}.headcount.{k}", f"unknown place {k!r}; allowed: {', '.join(places)}"))
            missing = [x for x in places if x not in p.headcount]
            if missing:
                out.append((f"{base}.headcount", f"a headcount mapping needs every place; missing: {', '.join(missing)}"))
        for k, v in p.transfers.items():
            if k not in professions or k == name:
                out.append((f"{base}.transfers.{k}", f"unknown destination profession {k!r}; allowed: "
                                                    f"{', '.join(x for x in professions if x != name)}"))
            years_ok(f"{base}.transfers.{k}", v)
        for f in ("leave_rate", "rotation_rate", "sickness_absence", "cost_per_fte"):
            years_ok(f"{base}.{f}", getattr(p, f))
        for f in ("international", "return_to_practice", "domestic"):
            years_ok(f"{base}.recruitment.{f}", getattr(p.recruitment, f))
        years_ok(f"{base}.demand.growth", p.demand.growth)

    for name, g in s.programmes.items():
        base = f"programmes.{name}"
        if g.produces not in professions:
            out.append((f"{base}.produces", f"unknown profession {g.produces!r}; allowed: {', '.join(professions)}"))
        if g.trainee_profession is not None and g.trainee_profession not in professions:
            out.append((f"{base}.trainee_profession",
                        f"unknown profession {g.trainee_profession!r}; allowed: {', '.join(professions)}"))
        if g.places is not None:
            for k in g.places:
                if k not in places:
                    out.append((f"{base}.places.{k}", f"unknown place {k!r}; allowed: {', '.join(places)}"))
            if sum(g.places.values()) <= 0:
                out.append((f"{base}.places", "shares must not all be zero"))
        for f in ("intake", "local_employment", "cost_per_trainee_year"):
            years_ok(f"{base}.{f}", getattr(g, f))

    months = s.years * 12
    for i, lever in enumerate(s.levers):
        base = f"levers.{i}"
        for field, msg in lever.references(s):
            out.append((f"{base}.{field}", msg))
        for field, when in (("from", lever.from_), ("until", lever.until)):
            if when is not None and not 0 <= month_index(s.start, when) < months:
                out.append((f"{base}.{field}", f"{when} is outside the horizon {s.start} to {_last_month(s)}"))
        if lever.from_ and lever.until and month_index(lever.from_, lever.until) < 0:
            out.append((f"{base}.until", f"until ({lever.until}) is before from ({lever.from_})"))
    return out


def _end_year(s) -> int:
    """Last year key that can take effect: April of it must fall inside the horizon."""
    y0, m0 = map(int, s.start.split("-"))
    last = y0 * 12 + (m0 - 1) + s.years * 12 - 1     # absolute index of the last month
    y = last // 12
    return y if last % 12 >= 3 else y - 1


def _last_month(s) -> str:
    y0, m0 = map(int, s.start.split("-"))
    last = y0 * 12 + (m0 - 1) + s.years * 12 - 1
    return f"{last // 12:04d}-{last % 12 + 1:02d}"
