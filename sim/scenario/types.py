"""Field types shared by the scenario models: dates, rates and year-by-year tables.

A plan changes over time, so every flow or rate a planner may vary is a *series*: a constant, or a
year table ``{2026: 850, 2028: 1000}`` whose values hold from April of their year (the first also
from the start). The validators here give one plain message per problem, naming what is allowed.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..vocabulary import YEAR_MONTH


class Model(BaseModel):
    """Base of every config model: frozen, strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _year_month(v: Any) -> str:
    if not isinstance(v, str) or not YEAR_MONTH.fullmatch(v):
        raise PydanticCustomError("year_month", "expected a month as YYYY-MM, e.g. 2027-09; got {v}", {"v": repr(v)})
    return v


YearMonth = Annotated[
    str,
    PlainValidator(_year_month),
    WithJsonSchema({"type": "string", "pattern": f"^{YEAR_MONTH.pattern}$", "description": "a month, YYYY-MM"}),
]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _bounded(lo: float | None, hi: float | None, what: str):
    def check(v: Any) -> float:
        if not _is_number(v):
            raise PydanticCustomError("number", "expected {what}; got {v}", {"what": what, "v": repr(v)})
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise PydanticCustomError("range", "expected {what}; got {v}", {"what": what, "v": repr(v)})
        return float(v)

    return check


def _range_text(lo: float | None, hi: float | None, unit: str) -> str:
    if lo is not None and hi is not None:
        return f"a number from {lo:g} to {hi:g} ({unit})"
    if lo is not None:
        return f"a number ≥ {lo:g} ({unit})"
    return f"a number ({unit})"


def Number(lo: float | None = None, hi: float | None = None, unit: str = "", description: str = ""):
    """A finite number within [lo, hi]; booleans and strings are refused, never coerced."""
    what = _range_text(lo, hi, unit)
    schema: dict[str, Any] = {"type": "number", "description": description or what}
    if lo is not None:
        schema["minimum"] = lo
    if hi is not None:
        schema["maximum"] = hi
    return Annotated[float, PlainValidator(_bounded(lo, hi, what)), WithJsonSchema(schema)]


def Series(lo: float | None = None, hi: float | None = None, unit: str = "", description: str = ""):
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
                if not isinstance(k, int) or isinstance(k, bool) or not 1900 <= k <= 2200:
                    raise PydanticCustomError(
                        "series", "year-table keys must be years such as 2026; got {k}", {"k": repr(k)})
                try:
                    out[k] = one(x)
                except PydanticCustomError:
                    raise PydanticCustomError(
                        "series", "value for {k} must be {what}; got {x}", {"k": k, "what": what, "x": repr(x)})
            return dict(sorted(out.items()))
        if _is_number(v):
            return one(v)
        raise PydanticCustomError(
            "series", "expected {what}, or a year table like {2026: a, 2028: b}; got {v}",
            {"what": what, "v": repr(v)})

    item: dict[str, Any] = {"type": "number"}
    if lo is not None:
        item["minimum"] = lo
    if hi is not None:
        item["maximum"] = hi
    schema = {
        "description": (description + " " if description else "") + f"{what}; constant or a year table "
        "{year: value}, each value holding from April of its year",
        "anyOf": [item, {"type": "object", "patternProperties": {r"^\d{4}$": item}, "additionalProperties": False,
                         "minProperties": 1}],
    }
    return Annotated[float | dict[int, float], PlainValidator(check), PlainSerializer(lambda v: v, return_type=Any),
                     WithJsonSchema(schema)]


RateSeries = Series(0, 1, "share per year")
FlowSeries = Series(0, None, "people per year")
