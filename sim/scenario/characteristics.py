"""Who the staff are: declared characteristics (groups of staff) and pay bands (a profession's career ladder).

Both sections are optional; a scenario with neither has one group and one band, and its results are those
of a scenario from before they existed. Structure is checked here, cross-references (a group, band, source
or place that does not exist) by :func:`characteristic_problems`, so every problem of a file is reported.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from ..limits import POUNDS
from .errors import shown
from .types import Model, Number, RateSeries, Series

Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", description="lower_snake_case identifier")]

SHARE_TOLERANCE = 1e-6
MAX_GROUPS = 24                 # groups of all characteristics combined (their product)
# joiner sources a group's or band's entry shares may be given for ("default" first: the fallback)
GROUP_SOURCES = ("default", "training_start", "international", "return_to_practice", "domestic")
BAND_SOURCES = ("default", "newly_qualified", "international", "return_to_practice", "domestic", "transfer_in")

Share = Number(0, 1, "share")
Multiplier = Number(0, 10, "hazard multiplier")


def _each_once(names: list[str], what: str) -> list[str]:
    repeated = sorted({g for g in names if names.count(g) > 1})
    if repeated:
        raise ValueError(f"each {what} at most once; repeated: {', '.join(repeated)}")
    return names


def _adds_up(shares: dict[str, float], what: str) -> None:
    total = sum(shares.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        raise ValueError(f"{what}: shares must add up to 1; they add up to {total:.6g}")


class GroupOverrides(Model):
    """A profession's own figures for a characteristic (each left out takes the characteristic's)."""

    staff: dict[str, Share] | None = None
    joiners: dict[str, dict[str, Share]] | None = None
    leave: dict[str, Multiplier] | None = None
    promotion: dict[str, Multiplier] | None = None


class Characteristic(Model):
    """A characteristic (ethnicity, sex, disability…): its groups, their shares among staff at the start and
    among joiners by source, among working-age residents (the representation benchmark), and multipliers
    on the leaving and promotion hazards by group (a group left out: 1)."""

    groups: list[Label] = Field(min_length=1, max_length=MAX_GROUPS,
                              description="the groups, e.g. [white, asian, black, mixed, other]")
    staff: dict[str, Share] = Field(description="share of each group among staff in post at the start")
    joiners: dict[str, dict[str, Share]] = Field(
        {}, description="shares among joiners by source: `default`, then any of training_start, international, "
        "return_to_practice, domestic overriding it; default: the staff shares. Newly qualified staff keep the "
        "group they started training with (training_start, else default); staff moving keep theirs")
    population: dict[str, Share] | None = Field(
        None, description="share of each group among working-age residents (the representation benchmark)")
    joiners_by_place: dict[str, dict[str, dict[str, Share]]] = Field(
        {}, description="a place's own shares among joiners by source, {place: {source or default: {group: "
        "share}}}, overriding joiners there (a profession's own by_profession joiners still come first)")
    population_by_place: dict[str, dict[str, Share]] = Field(
        {}, description="a place's own working-age resident shares, {place: {group: share}}, overriding "
        "population")
    leave: dict[str, Multiplier] = Field({}, description="multiplier on the leaving hazard by group")
    promotion: dict[str, Multiplier] = Field({}, description="multiplier on the promotion hazard by group")
    by_profession: dict[str, GroupOverrides] = Field(
        {}, description="a profession's own staff, joiners, leave or promotion figures, {profession: {...}}")

    @field_validator("groups")
    @classmethod
    def _unique(cls, v):
        return _each_once(v, "group")

    @model_validator(mode="after")
    def _shares(self):
        tables = [("staff", self.staff)] + [(f"joiners.{k}", v) for k, v in self.joiners.items()]
        if self.population is not None:
            tables.append(("population", self.population))
        tables += [(f"population_by_place.{k}", v) for k, v in self.population_by_place.items()]
        tables += [(f"joiners_by_place.{k}.{src}", v) for k, t in self.joiners_by_place.items() for src, v in t.items()]
        for name, o in self.by_profession.items():
            if o.staff is not None:
                tables.append((f"by_profession.{name}.staff", o.staff))
            tables += [(f"by_profession.{name}.joiners.{k}", v) for k, v in (o.joiners or {}).items()]
        for what, shares in tables:
            _adds_up(shares, what)
        return self


class Bands(Model):
    """A profession's career ladder (Agenda for Change bands, medical grades), lowest band first: staff by
    band at the start, joiners' entry band by source, the annual probability of promotion to the next band,
    leaving multipliers and pay by band."""

    names: list[Label] = Field(min_length=1, max_length=16, description="the bands, lowest first, e.g. [band_5, band_6]")
    staff: dict[str, Share] = Field(description="share of staff in each band at the start")
    entry: dict[str, dict[str, Share]] = Field(
        {}, description="joiners' band by source: `default`, then any of newly_qualified, international, "
        "return_to_practice, domestic, transfer_in overriding it; default: everyone joins the lowest band")
    promotion: dict[str, RateSeries] = Field(
        {}, description="annual probability of moving up one band, by band (not the top one); constant or year "
        "table")
    leave: dict[str, Multiplier] = Field({}, description="multiplier on the leaving hazard by band (left out: 1)")
    pay: dict[str, Series(0, POUNDS, "£ per FTE per year")] = Field(
        {}, description="£ per FTE per year by band, for costs by band; default: the profession's cost_per_fte")

    @field_validator("names")
    @classmethod
    def _unique(cls, v):
        return _each_once(v, "band")

    @model_validator(mode="after")
    def _shares(self):
        _adds_up(self.staff, "staff")
        for k, v in self.entry.items():
            _adds_up(v, f"entry.{k}")
        return self


def _unknown(path: str, keys, allowed, what: str) -> list[tuple[str, str]]:
    return [(f"{path}.{k}", f"unknown {what} {shown(k)}; allowed: {', '.join(allowed)}") for k in keys
            if k not in allowed]


def characteristic_problems(s, places: list[str]) -> list[tuple[str, str]]:
    """(field path, problem) for groups, bands, sources, places and professions that do not exist."""
    out: list[tuple[str, str]] = []
    professions = list(s.professions)
    combined = 1
    for name, c in (s.characteristics or {}).items():
        base = f"characteristics.{name}"
        combined *= len(c.groups)
        groups = c.groups
        for key, table in [("staff", c.staff), ("population", c.population or {}), ("leave", c.leave),
                           ("promotion", c.promotion)]:
            out += _unknown(f"{base}.{key}", table, groups, "group")
        for key in ("staff",) + (("population",) if c.population is not None else ()):
            missing = [g for g in groups if g not in getattr(c, key)]
            if missing:
                out.append((f"{base}.{key}", f"needs a share for every group; missing: {', '.join(missing)}"))
        out += _unknown(f"{base}.joiners", c.joiners, GROUP_SOURCES, "source")
        for src, table in c.joiners.items():
            out += _unknown(f"{base}.joiners.{src}", table, groups, "group")
        out += _unknown(f"{base}.joiners_by_place", c.joiners_by_place, places, "place")
        for k, by_source in c.joiners_by_place.items():
            out += _unknown(f"{base}.joiners_by_place.{k}", by_source, GROUP_SOURCES, "source")
            for src, table in by_source.items():
                out += _unknown(f"{base}.joiners_by_place.{k}.{src}", table, groups, "group")
        out += _unknown(f"{base}.population_by_place", c.population_by_place, places, "place")
        for k, table in c.population_by_place.items():
            out += _unknown(f"{base}.population_by_place.{k}", table, groups, "group")
        out += _unknown(f"{base}.by_profession", c.by_profession, professions, "profession")
        for prof, o in c.by_profession.items():
            for key in ("staff", "leave", "promotion"):
                out += _unknown(f"{base}.by_profession.{prof}.{key}", getattr(o, key) or {}, groups, "group")
            out += _unknown(f"{base}.by_profession.{prof}.joiners", o.joiners or {}, GROUP_SOURCES, "source")
            for src, table in (o.joiners or {}).items():
                out += _unknown(f"{base}.by_profession.{prof}.joiners.{src}", table, groups, "group")
    if combined > MAX_GROUPS:
        out.append(("characteristics", f"the characteristics' groups combine to {combined} groups (their product); "
                                       f"at most {MAX_GROUPS} are allowed"))
    for name, p in s.professions.items():
        b = p.bands
        if b is None:
            continue
        base = f"professions.{name}.bands"
        out += _unknown(f"{base}.staff", b.staff, b.names, "band")
        out += _unknown(f"{base}.entry", b.entry, BAND_SOURCES, "source")
        for src, table in b.entry.items():
            out += _unknown(f"{base}.entry.{src}", table, b.names, "band")
        out += _unknown(f"{base}.promotion", b.promotion, b.names[:-1], "band (the top band has no promotion)")
        out += _unknown(f"{base}.leave", b.leave, b.names, "band")
        out += _unknown(f"{base}.pay", b.pay, b.names, "band")
    return out
