"""Lever forms generated from each lever's parameter schema (its pydantic model), so a lever plugin,
built in or third-party, gets a form in the app without app code.

Each field becomes a :class:`Field` of one ``kind`` the page knows how to draw: a number (with the
schema's bounds), a choice, a profession or programme of the scenario, the places in scope, a month,
lever ids, or free YAML text for anything else (a year table, an age range). Values go back into a
lever dict exactly as a scenario file would write it, and the scenario loader validates it, so the app
shows the CLI's messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..levers import Lever, registry
from ..levers.base import AREAS, NAMED
from ..scenario import ScenarioError

COMMON = ("owner", "level", "where", "from", "until", "ramp_months")   # who, where and when, shared by every lever
SKIPPED = ("lever", "id")                                          # the app names each lever after itself
# not taken from the shipped examples: who holds a lever belongs to the plan it came from (England's national
# plan names the national body), not to a starting value for the scenario chosen in the app
NOT_EXAMPLES = SKIPPED + ("owner",)


@dataclass(frozen=True)
class Field:
    key: str                    # as written in a scenario file (``from``, not ``from_``)
    kind: str                   # number, integer, choice, profession, programme, places, level, month, lever_ids,
    #                             text (YAML: a year table, an age range, anything else)
    help: str
    default: object = None      # the value the form starts with (an example's, else the schema's)
    schema_default: object = None
    required: bool = False
    optional: bool = False      # None (left empty) is allowed
    minimum: float | None = None
    maximum: float | None = None
    options: tuple = ()

    @property
    def label(self) -> str:
        return self.key.replace("_", " ")


def _variants(prop: dict) -> tuple[list[dict], bool]:
    """The non-null alternatives of a property and whether null is allowed."""
    alts = prop.get("anyOf", [prop])
    return [a for a in alts if a.get("type") != "null"], any(a.get("type") == "null" for a in alts)


def _help(prop: dict, alts: list[dict]) -> str:
    parts = [prop.get("description", "")] + [a["description"] for a in alts if a.get("description")]
    return "; ".join(dict.fromkeys(p for p in parts if p))


def field(cls: type[Lever], key: str, prop: dict, required: bool, example: dict) -> Field:
    """One form field from one property of a lever's JSON schema."""
    alts, nullable = _variants(prop)
    text, default = _help(prop, alts), example.get(key, prop.get("default"))
    common = dict(key=key, help=text, default=default, schema_default=prop.get("default"), required=required,
                  optional=nullable or not required)
    if key in NAMED:                                    # names a profession or programme of the scenario
        return Field(kind=NAMED[key][1], **common)
    if key == "where":
        return Field(kind="places", **common)
    if key == "level":
        return Field(kind="level", options=tuple(cls.levels), **common)
    if any(re.search(r"\{4\}\)?-", a.get("pattern", "")) for a in alts):     # a month, YYYY-MM (from, until, by)
        return Field(kind="month", **common)
    enums = [a for a in alts if "enum" in a]
    if len(alts) == 1 and enums:
        return Field(kind="choice", options=tuple(enums[0]["enum"]), **common)
    for kind in ("number", "integer"):
        numeric = [a for a in alts if a.get("type") == kind]
        if numeric:
            lo, hi = numeric[0].get("minimum"), numeric[0].get("maximum")
            if default is None and required:           # a neutral start: 0 within the bounds
                default = min(max(0, lo if lo is not None else 0), hi if hi is not None else 0)
            common["default"] = default if isinstance(default, (int, float)) else None
            if len(alts) > 1:
                common["help"] += " (a constant here; a year table can be written in a scenario file)"
            return Field(kind=kind, minimum=lo, maximum=hi, **common)
    if len(alts) == 1 and alts[0].get("type") == "array" and alts[0].get("items", {}).get("type") == "string" \
            and "lever" in key:
        return Field(kind="lever_ids", **common)
    return Field(kind="text", **common)


def lever_fields(cls: type[Lever], example: dict | None = None) -> list[Field]:
    """The form of a lever: its own parameters (what and how much) first, then where and when."""
    schema = cls.model_json_schema(by_alias=True)
    props, required = schema["properties"], set(schema.get("required", ()))
    own = [k for k in props if k not in COMMON and k not in SKIPPED]
    return [field(cls, k, props[k], k in required, example or {}) for k in own + [k for k in COMMON if k in props]]


def levers_by_area() -> list[tuple[str, type[Lever]]]:
    """Every registered lever, ordered by People Function outcome area, then name."""
    return sorted(registry().items(), key=lambda kv: (kv[1].area, kv[0]))


def summary(cls: type[Lever]) -> str:
    """The first sentence of a lever's docstring: what it does, for its heading."""
    doc = " ".join((cls.__doc__ or "").split())
    return doc.split(". ")[0].rstrip(".").replace("``", "")


def examples(files: list[Path]) -> dict[str, dict]:
    """The first configuration of each lever found in shipped action plans and experiments: sensible
    starting values for a form (e.g. +10% nursing degree places rather than +0%)."""
    found: dict[str, dict] = {}

    def visit(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("lever"), str) and node["lever"] not in found:
                found[node["lever"]] = {k: v for k, v in node.items() if k not in NOT_EXAMPLES}
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    for f in files:
        try:
            visit(yaml.safe_load(Path(f).read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError):
            continue
    return found


def lever_config(name: str, fields: list[Field], values: dict, index: int) -> dict:
    """A lever as a scenario's ``levers`` list writes it: values left empty or at the schema's default
    are left out; free-text fields are read as YAML. ``index`` places a YAML typo in the action plan."""
    out = {"lever": name, "id": name}
    for f in fields:
        v = values.get(f.key)
        if f.kind == "text" and isinstance(v, str):
            if not v.strip():
                continue
            try:
                v = yaml.safe_load(v)
            except yaml.YAMLError as e:
                mark = getattr(e, "problem", None) or "not readable as YAML"
                raise ScenarioError([(f"levers.{index}.{f.key}", f"{mark}; got {v!r}")], "experiment") from None
        if v is None or v == [] or v == "" or (not f.required and v == f.schema_default):
            continue
        out[f.key] = v
    return out
