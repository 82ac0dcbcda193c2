"""Field types shared by the scenario models: dates, numbers and year-by-year tables.

A plan changes over time, so every flow or rate a planner may vary is a *series*: a constant, or a
year table ``{2026: 850, 2028: 1000}`` whose values hold from April of their year (the first also
from the start). Every number has a lower and an upper bound (``sim.limits``): the validators give one
plain message per problem, naming what is allowed, and every model's JSON schema states each number's
range in the field's description (:func:`describe_ranges`), so ``wfsim schema`` and ``wfsim levers``
show it.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..limits import FIRST_YEAR, LAST_YEAR, PEOPLE
from ..vocabulary import YEAR_MONTH, parse_month
from .errors import shown


def number_words(x: float) -> str:
    """A bound as descriptions write it: whole numbers with thousands separators (10,000,000), else %g."""
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}"
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def _numeric_parts(schema: dict):
    """The number and integer subschemas of one property's schema (not inside nested models)."""
    if "$ref" in schema:
        return
    if schema.get("type") in ("number", "integer"):
        yield schema
    for member in schema.get("anyOf", []):
        yield from _numeric_parts(member)
    for key in ("additionalProperties", "items"):
        if isinstance(schema.get(key), dict):
            yield from _numeric_parts(schema[key])
    for member in schema.get("patternProperties", {}).values():
        yield from _numeric_parts(member)


def describe_ranges(schema: dict, *_) -> None:
    """Add each number's range to its property's description where the description does not state it
    (a field's own description replaces the one its type carries). Used as every model's
    ``json_schema_extra``."""
    for prop in schema.get("properties", {}).values():
        ranges = []
        for part in _numeric_parts(prop):
            lo = part.get("minimum", part.get("exclusiveMinimum"))
            hi = part.get("maximum", part.get("exclusiveMaximum"))
            if lo is None or hi is None:
                continue
            text = f"from {number_words(lo)} to {number_words(hi)}"
            if text not in ranges:
                ranges.append(text)
        described = prop.get("description", "")
        missing = [r for r in ranges if r not in described]
        if missing:
            prop["description"] = (described.rstrip(". ") + "; " if described else "") + \
                "range " + " or ".join(missing)


class Model(BaseModel):
    """Base of every config model: frozen, strict about unknown keys, ranges in the schema's descriptions."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=describe_ranges)


def _year_month(v: Any) -> str:
    if not isinstance(v, str) or not YEAR_MONTH.fullmatch(v):
        raise PydanticCustomError("year_month", "expected a month as YYYY-MM, e.g. 2027-09; got {v}", {"v": shown(v)})
    if not FIRST_YEAR <= parse_month(v)[0] <= LAST_YEAR:
        raise PydanticCustomError("year_month", "expected a month as YYYY-MM from {lo}-01 to {hi}-12; got {v}",
                                  {"lo": FIRST_YEAR, "hi": LAST_YEAR, "v": shown(v)})
    return v


YearMonth = Annotated[
    str,
    PlainValidator(_year_month),
    WithJsonSchema({"type": "string", "pattern": f"^{YEAR_MONTH.pattern}$",
                    "description": f"a month, YYYY-MM, from {FIRST_YEAR}-01 to {LAST_YEAR}-12"}),
]


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):              # a whole number of any size is finite (math.isfinite would overflow)
        return True
    return isinstance(v, float) and math.isfinite(v)


def _bounded(lo: float, hi: float, what: str):
    def check(v: Any) -> float:
        if not _is_number(v):
            raise PydanticCustomError("number", "expected {what}; got {v}", {"what": what, "v": shown(v)})
        if not lo <= v <= hi:
            raise PydanticCustomError("range", "expected {what}; got {v}", {"what": what, "v": shown(v)})
        return float(v)

    return check


def _range_text(lo: float, hi: float, unit: str, kind: str = "a number") -> str:
    return f"{kind} from {number_words(lo)} to {number_words(hi)}" + (f" ({unit})" if unit else "")


def _bounds(schema: dict, lo: float, hi: float) -> dict:
    return {**schema, "minimum": lo, "maximum": hi}


def Number(lo: float, hi: float, unit: str = "", description: str = ""):
    """A finite number within [lo, hi]; booleans and strings are refused, never coerced."""
    what = _range_text(lo, hi, unit)
    schema = _bounds({"type": "number", "description": (description + "; " if description else "") + what}, lo, hi)
    return Annotated[float, PlainValidator(_bounded(lo, hi, what)), WithJsonSchema(schema)]


def Whole(lo: int, hi: int, unit: str = "", description: str = ""):
    """A whole number within [lo, hi]; booleans, floats and strings are refused, never coerced."""
    what = _range_text(lo, hi, unit, "a whole number")

    def check(v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise PydanticCustomError("whole", "expected {what}; got {v}", {"what": what, "v": shown(v)})
        return v

    schema = _bounds({"type": "integer", "description": (description + "; " if description else "") + what}, lo, hi)
    return Annotated[int, PlainValidator(check), WithJsonSchema(schema)]


def Series(lo: float, hi: float, unit: str = "", description: str = ""):
    """A constant or a year table {year: value}, each value within [lo, hi]."""
    what = _range_text(lo, hi, unit)
    one = _bounded(lo, hi, what)

    def check(v: Any) -> float | dict[int, float]:
        if isinstance(v, dict):
            if not v:
                raise PydanticCustomError("series", "a year table needs at least one entry, e.g. {2026: x}")
            out = {}
            for k, x in v.items():
                if isinstance(k, str) and re.fullmatch(r"[0-9]{4}", k):      # JSON keys are text
                    k = int(k)
                if not isinstance(k, int) or isinstance(k, bool) or not FIRST_YEAR <= k <= LAST_YEAR:
                    raise PydanticCustomError(
                        "series", "year-table keys must be years from {lo} to {hi}, such as 2026; got {k}",
                        {"lo": FIRST_YEAR, "hi": LAST_YEAR, "k": shown(k)})
                try:
                    out[k] = one(x)
                except PydanticCustomError:
                    raise PydanticCustomError(
                        "series", "value for {k} must be {what}; got {x}", {"k": k, "what": what, "x": shown(x)})
            return dict(sorted(out.items()))
        if _is_number(v):
            return one(v)
        raise PydanticCustomError(
            "series", "expected {what}, or a year table like {2026: a, 2028: b}; got {v}",
            {"what": what, "v": shown(v)})

    item: dict[str, Any] = _bounds({"type": "number"}, lo, hi)
    schema = {
        "description": (description + " " if description else "") + f"{what}; constant or a year table "
        "{year: value}, each value holding from April of its year",
        "anyOf": [item, {"type": "object", "patternProperties": {r"^\d{4}$": item}, "additionalProperties": False,
                         "minProperties": 1}],
    }
    return Annotated[float | dict[int, float], PlainValidator(check), PlainSerializer(lambda v: v, return_type=Any),
                     WithJsonSchema(schema)]


RateSeries = Series(0, 1, "share per year")
FlowSeries = Series(0, PEOPLE, "people per year")
