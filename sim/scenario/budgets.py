"""The format of ``budgets:``: £ per plan year for each owner, and how budgets pass down the levels.

    budgets:
      national: {2027: 50000000, 2028: 60000000}     # £ per plan year (April to March)
      Metro ICS: 2000000                              # a constant: every plan year
      allocate:                                       # optional: pass a budget down the levels
        national: {to: ics, by: population}          # by population, need or an explicit table

Owner names are checked against the geography with the rest of the scenario's references
(``references.py``); here only the shape and the numbers.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, PlainValidator, TypeAdapter, ValidationError, WithJsonSchema, \
    model_validator

from ..limits import POUNDS
from .errors import shown
from .types import Model, Number, Series

ALLOCATE = "allocate"          # the one key of ``budgets`` that is not an owner
SHARE_TOLERANCE = 1e-6

BudgetSeries = Series(0, POUNDS, "£ per plan year")
_series = TypeAdapter(BudgetSeries)


class Allocation(Model):
    """How an owner's budget passes down to the owners of a lower level inside its footprint, each plan year."""

    to: Literal["region", "ics", "place", "provider"] = Field(
        description="the level that receives: every owner of that level inside the giver's footprint (provider: "
        "the providers a scenario lists, each with its place's residents shared by weight)")
    by: Literal["population", "need", "table"] = Field(
        "population", description="population: by residents at the start; need: by required FTE at the start "
        "(all professions, before levers); table: by the shares in ``table``")
    table: dict[str, Number(0, 1, "share of the budget passed down")] | None = Field(
        None, description="with by: table, {owner: share}, shares summing to 1 (owners left out get none)")
    share: Number(0, 1, "share of the giver's budget passed down") = Field(
        1.0, description="share of the giver's budget (its own plus what it received) passed down; the rest "
        "pays for the giver's own levers (1: all of it passed down)")

    @model_validator(mode="after")
    def _table(self):
        if self.by == "table" and self.table is None:
            raise ValueError("by: table needs table: {owner: share}")
        if self.by != "table" and self.table is not None:
            raise ValueError(f"table is only for by: table (got by: {self.by})")
        if self.table is not None and abs(sum(self.table.values()) - 1) > SHARE_TOLERANCE:
            raise ValueError(f"table: shares must add up to 1; they add up to {sum(self.table.values()):.6g}")
        return self


class Budgets(Model):
    """Budgets of the owners of levers (see ``sim.scenario.owners``)."""

    owners: dict[str, Any] = {}                 # owner → a constant or {year: £}, validated as BudgetSeries
    allocate: dict[str, Allocation] = {}

    def as_written(self) -> dict:
        """The mapping as written in a scenario file (owners' budgets and ``allocate`` side by side)."""
        out: dict[str, Any] = dict(self.owners)
        if self.allocate:
            out[ALLOCATE] = {k: a.model_dump(mode="json", exclude_none=True) for k, a in self.allocate.items()}
        return out


def _problems(err: ValidationError, base: str) -> list[tuple[str, str]]:
    out = []
    for e in err.errors(include_url=False):
        loc = ".".join(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key; an allocation has to, by, table and share"
        elif e["type"] == "missing":
            msg = "required field is missing"
        if not loc and msg.startswith("table: "):
            loc, msg = "table", msg.removeprefix("table: ")
        out.append((f"{base}.{loc}" if loc else base, msg))
    return out


def _budgets(v: Any) -> Budgets:
    """Check the whole mapping, reporting every problem with its path inside ``budgets`` (``OWNER``,
    ``allocate.GIVER.to``, …; the loader puts ``budgets.`` in front)."""
    if isinstance(v, Budgets):
        return v
    if not isinstance(v, dict):
        raise ValueError(f"\texpected a mapping {{owner: £ per plan year, allocate: …}}; got {shown(v)}")
    problems: list[tuple[str, str]] = []
    owners, allocate = {}, {}
    for key, value in v.items():
        if not isinstance(key, str) or not key:
            problems.append((f"{key}", "an owner's name (national, or a region, ICS, place or provider)"))
        elif key == ALLOCATE:
            if not isinstance(value, dict):
                problems.append(("allocate", "expected {owner: {to: LEVEL, by: population|need|table}}"))
                continue
            for giver, rule in value.items():
                try:
                    allocate[giver] = Allocation.model_validate(rule)
                except ValidationError as e:
                    problems += _problems(e, f"allocate.{giver}")
        else:
            try:
                owners[key] = _series.validate_python(value)
            except ValidationError as e:
                problems += [(f"{key}", msg) for _, msg in _problems(e, "")]
    if problems:
        raise ValueError("\n".join(f"{p}\t{m}" for p, m in problems))
    return Budgets(owners=owners, allocate=allocate)


BudgetTable = Annotated[Budgets, PlainValidator(_budgets), PlainSerializer(lambda b: b.as_written(),
                                                                             return_type=Any),
                        WithJsonSchema({
                            "type": "object",
                            "description": "£ per plan year (April to March) for each owner of levers (national, "
                            "or a region, ICS, place or provider): a constant for every plan year, or a year table "
                            "{year: £} whose values hold from April of their year until the next entry (no "
                            "limit before the first); plus 'allocate': {giver: {to, by, table, share}} passing "
                            "budgets down the levels",
                            "properties": {ALLOCATE: {"type": "object",
                                                      "additionalProperties": Allocation.model_json_schema()}},
                            "additionalProperties": _series.json_schema()})]


def budget_in(value, year: int) -> float | None:
    """An owner's own budget for plan year ``year`` (April ``year`` to March): a constant every year; from
    a year table, the entry of that year or the last before it; None (no limit) before the first entry."""
    if not isinstance(value, dict):
        return float(value)
    years = [y for y in value if y <= year]
    return float(value[max(years)]) if years else None
