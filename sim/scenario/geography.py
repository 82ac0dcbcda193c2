"""The scenario's geography: nation → regions → ICSs → places → providers, in any of three forms.

One ICS (``region``, ``ics``, ``places``), several ICSs of one region (``region``, ``icss``) or the
nation (``nation``, ``regions`` → ``icss`` → ``places``). A place may list its providers (the
employers: trusts, general practice, care providers…), each with a ``kind`` from a closed list;
a place without them is one implicit provider named after the place, so a scenario written before
providers existed compiles to the same arrays. Names are unique at each level, and a provider's name
is not also the name of a place, ICS or region (``where`` and goals name areas by name alone).
"""
from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import Field, field_validator, model_validator

from ..limits import POPULATION, WEIGHT
from ..vocabulary import LEVELS
from .types import Model, Number, Whole

ProviderKind = Literal["acute", "community", "mental_health", "community_mental_health", "ambulance",
                       "general_practice", "adult_social_care", "independent_sector", "voluntary_sector", "other"]
Sector = Literal["nhs_trust", "general_practice", "adult_social_care", "independent_sector", "voluntary_sector"]
PROVIDER_KINDS: tuple[str, ...] = ProviderKind.__args__
SECTORS: tuple[str, ...] = Sector.__args__
# a provider's sector when it does not say (None: the kind says nothing about it)
SECTOR_OF_KIND = {"acute": "nhs_trust", "community": "nhs_trust", "mental_health": "nhs_trust",
                  "community_mental_health": "nhs_trust", "ambulance": "nhs_trust",
                  "general_practice": "general_practice", "adult_social_care": "adult_social_care",
                  "independent_sector": "independent_sector", "voluntary_sector": "voluntary_sector", "other": None}
DEFAULT_NATION = "England"
IMPLICIT_KIND = "other"     # the kind of the one implicit provider of a place that lists none


class Provider(Model):
    """An employer at a place: a trust, a practice or network, a care provider."""

    name: str = Field(min_length=1)
    kind: ProviderKind = Field(description="what kind of employer: acute, community, mental_health, "
                               "community_mental_health, ambulance, general_practice, adult_social_care, "
                               "independent_sector, voluntary_sector or other")
    sector: Sector | None = Field(None, description="default: from the kind (NHS trust for acute, community, "
                                  "mental health and ambulance; the kind's own sector otherwise)")
    weight: Number(0, WEIGHT, "relative size") = Field(
        1.0, description="its share among the place's providers of the same kind (relative, > 0)")

    @field_validator("weight")
    @classmethod
    def _positive(cls, v):
        if v <= 0:
            raise ValueError(f"expected a number > 0 (relative size); got {v:g}")
        return v


class Place(Model):
    name: str = Field(min_length=1)
    population: Whole(1, POPULATION, "residents")
    providers: list[Provider] | None = Field(
        None, min_length=1, description="employers at the place; default: one implicit provider named after the "
        "place (kind other)")


class ICS(Model):
    name: str = Field(min_length=1)
    places: list[Place] = Field(min_length=1)


class Region(Model):
    name: str = Field(min_length=1)
    icss: list[ICS] = Field(min_length=1)


class Location(NamedTuple):
    """A provider (or a place's implicit provider) with the areas it lies in."""
    name: str
    kind: str
    sector: str | None
    weight: float
    place: str
    ics: str
    region: str


class Geography(Model):
    """Give ``region`` with ``ics`` + ``places`` (one ICS) or ``icss`` (several), or ``regions`` (the nation)."""

    nation: str | None = Field(None, min_length=1, description=f"default: {DEFAULT_NATION}")
    region: str | None = Field(None, min_length=1)
    ics: str | None = Field(None, min_length=1)
    places: list[Place] | None = Field(None, min_length=1)
    icss: list[ICS] | None = Field(None, min_length=1)
    regions: list[Region] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_form(self):
        single = self.ics is not None or self.places is not None
        if self.regions is not None:
            if self.region is not None or single or self.icss is not None:
                raise ValueError("a national geography gives nation and regions: [{name, icss}] only; drop "
                                 "region, ics, places and icss")
        else:
            if self.region is None:
                raise ValueError("give region with ics + places (one ICS) or icss (several ICSs), or regions: "
                                 "[{name, icss}] (the nation)")
            if single and self.icss is not None:
                raise ValueError("give either ics + places (one ICS) or icss (several ICSs), not both")
            if self.icss is None and (self.ics is None or self.places is None):
                raise ValueError("give ics and places (one ICS), or icss: [{name, places}] (several ICSs)")
        names = self.names()
        for level, what in (("region", "region"), ("ics", "ICS"), ("place", "place")):
            repeated = _repeated(names[level])
            if repeated:
                raise ValueError(f"{what} names must be unique across the geography; repeated: {', '.join(repeated)}")
        repeated = _repeated([x.name for p in self.all_places() for x in p.providers or ()])
        if repeated:
            raise ValueError(f"provider names must be unique across the geography; repeated: {', '.join(repeated)}")
        areas = set(names["place"]) | set(names["ics"]) | set(names["region"])
        clash = sorted({x.name for p in self.all_places() for x in p.providers or () if x.name in areas})
        if clash:
            raise ValueError(f"a provider may not share its name with a place, ICS or region (where and goals name "
                             f"areas by name); used twice: {', '.join(clash)}")
        return self

    # --- the tree, whatever the form -----------------------------------------------------------------
    @property
    def nation_name(self) -> str:
        return self.nation or DEFAULT_NATION

    def tree(self) -> list[Region]:
        """The regions with their ICSs (one region for the one-region forms)."""
        if self.regions is not None:
            return list(self.regions)
        systems = list(self.icss) if self.icss is not None else [ICS(name=self.ics, places=self.places)]
        return [Region(name=self.region, icss=systems)]

    @property
    def systems(self) -> list[ICS]:
        return [i for r in self.tree() for i in r.icss]

    def all_places(self) -> list[Place]:
        return [p for i in self.systems for p in i.places]

    def place_table(self) -> list[tuple[str, str, int]]:
        """(place, ics, population) for every place, in order."""
        return [(p.name, i.name, p.population) for i in self.systems for p in i.places]

    def place_regions(self) -> list[str]:
        """The region of every place, in order."""
        return [r.name for r in self.tree() for i in r.icss for _ in i.places]

    def locations(self) -> list[Location]:
        """Every provider in order (places in order, each place's providers in order); a place listing none
        is one implicit provider named after it, of kind ``other``."""
        out = []
        for r in self.tree():
            for i in r.icss:
                for p in i.places:
                    for x in p.providers or [Provider(name=p.name, kind=IMPLICIT_KIND)]:
                        out.append(Location(x.name, x.kind, x.sector or SECTOR_OF_KIND[x.kind], x.weight, p.name,
                                            i.name, r.name))
        return out

    def names(self) -> dict[str, list[str]]:
        """Area names by level (``sim.vocabulary.LEVELS``), each in order of appearance."""
        locs = self.locations()
        out = {"provider": [x.name for x in locs], "place": [p.name for p in self.all_places()],
               "ics": [i.name for i in self.systems], "region": [r.name for r in self.tree()],
               "nation": [self.nation_name]}
        return {level: out[level] for level in LEVELS}

    def level_of(self, name: str) -> str | None:
        """The highest level with an area called ``name`` (a place's implicit provider has its name: the
        place is meant), or None."""
        for level in reversed(LEVELS):
            if name in self.names()[level]:
                return level
        return None

    def kinds_at(self) -> dict[str, set[str]]:
        """Place → the kinds of provider there."""
        out: dict[str, set[str]] = {}
        for x in self.locations():
            out.setdefault(x.place, set()).add(x.kind)
        return out

    def employing(self, employers: dict[str, float] | None) -> dict[str, bool]:
        """Place → whether a provider there employs a profession with these ``employers`` shares (any kind
        with a share above 0; every place when the profession names none)."""
        kinds = {k for k, share in (employers or {}).items() if share > 0}
        return {place: employers is None or bool(here & kinds) for place, here in self.kinds_at().items()}


def _repeated(names: list[str]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})
