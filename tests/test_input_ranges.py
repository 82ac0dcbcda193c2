"""Every number of every input has a documented sane range, checked at validation (issue 17, class 1).

Values that validated but broke later: a headcount of 10^20 (OverflowError inside the run), a population
of 10^30 (absurd demand), a seed beyond 64 bits (the run finished, then writing failed and left an empty
file), a start in year 0000 or 2300 (a wrong time axis: nanosecond datetimes overflow), ``.nan`` as a goal
target. Now each number's range is in its description (so configs/schema.json and ``wfsim levers`` show
it), and a value beyond it ends with exit 2 naming the field.
"""
from __future__ import annotations

import copy
import math
import typing
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.results.io import read_results
from sim.experiments.spec import ExperimentSpec
from sim.levers import registry
from sim.runs import scenario_model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
BASE = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
runner = CliRunner()
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])


def words(x: float) -> str:
    """A bound as the descriptions write it: whole numbers with thousands separators, else %g."""
    if isinstance(x, int):
        return f"{x:,}"
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


# --------------------------------------------------------------------------------------------------
# every numeric field of every model: a range in the schema and in the description

def _models() -> list[type[BaseModel]]:
    """Every model of the scenario format (levers included) and of experiment files."""
    seen: list[type[BaseModel]] = []

    def visit(tp) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.append(tp)
            for f in tp.model_fields.values():
                visit(f.annotation)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    visit(scenario_model())
    for cls in registry().values():
        visit(cls)
    visit(ExperimentSpec)
    return seen


MODELS = _models()


def _numeric(schema: dict, defs: dict, path=()):
    """(path inside the property, numeric subschema) for each number or integer in a property's schema."""
    if "$ref" in schema:
        return                                   # a nested model: visited as a model of its own
    if schema.get("type") in ("number", "integer"):
        yield path, schema
    for i, member in enumerate(schema.get("anyOf", [])):
        yield from _numeric(member, defs, path + (("anyOf", i),))
    for key in ("additionalProperties", "items"):
        if isinstance(schema.get(key), dict):
            yield from _numeric(schema[key], defs, path + ((key, None),))
    for pattern, member in schema.get("patternProperties", {}).items():
        yield from _numeric(member, defs, path + (("patternProperties", pattern),))


def _fields():
    out = []
    for cls in MODELS:
        schema = cls.model_json_schema(by_alias=True)
        for name, field in cls.model_fields.items():
            prop = schema["properties"].get(field.alias or name, {})
            for where, sub in _numeric(prop, schema.get("$defs", {})):
                out.append((cls, name, field, prop, where, sub))
    return out


FIELDS = _fields()


def _id(case) -> str:
    cls, name, *_rest, where, _sub = case
    return f"{cls.__name__}.{name}" + "".join(f"/{k}" for k, _ in where)


def test_every_model_is_found():
    names = {c.__name__ for c in MODELS}
    assert {"Profession", "Programme", "Place", "Goal", "TrainingPlaces", "AdaptivePlan", "ExperimentSpec"} <= names
    assert len(FIELDS) > 80


@pytest.mark.parametrize("case", FIELDS, ids=_id)
def test_every_number_has_a_documented_range(case):
    cls, name, field, prop, where, sub = case
    lo = sub.get("minimum", sub.get("exclusiveMinimum"))
    hi = sub.get("maximum", sub.get("exclusiveMaximum"))
    assert lo is not None and hi is not None, f"{cls.__name__}.{name}: no lower or upper bound: {sub}"
    description = prop.get("description", "")
    assert words(lo) in description and words(hi) in description, \
        f"{cls.__name__}.{name}: description does not state the range {words(lo)} to {words(hi)}: {description!r}"


def _carrier(where, value, key: str = "x"):
    """The field's value with ``value`` at the numeric position ``where`` (a dict or list around it)."""
    for kind, pattern in reversed(where):
        if kind == "additionalProperties":
            value = {key: value}
        elif kind == "patternProperties":
            value = {"2030" if pattern == r"^\d{4}$" else key: value}
        elif kind == "items":
            value = [value]
    return value


KEYS = ("x", "30", "acute", "nhs_trust")   # a name, a whole number such as an age, a kind of provider, a sector


def _adapter(field) -> TypeAdapter:
    return TypeAdapter(typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation)


def _beyond(sub: dict) -> list:
    lo = sub.get("minimum", sub.get("exclusiveMinimum"))
    hi = sub.get("maximum", sub.get("exclusiveMaximum"))
    whole = sub.get("type") == "integer"
    out = [hi + 1 if whole else math.nextafter(float(hi), math.inf), 10 ** 20, 10 ** 308, 10 ** 400,
           lo - 1 if whole else math.nextafter(float(lo), -math.inf), -10 ** 20]
    if not whole:
        out += [math.nan, math.inf, -math.inf]
    if "exclusiveMinimum" in sub:
        out.append(lo)
    if "exclusiveMaximum" in sub:
        out.append(hi)
    return out


@pytest.mark.parametrize("case", [c for c in FIELDS if ("items", None) not in c[4]], ids=_id)
def test_numbers_at_the_bounds_pass_and_beyond_them_fail(case):
    cls, name, field, prop, where, sub = case
    adapter = _adapter(field)
    lo = sub.get("minimum", sub.get("exclusiveMinimum"))
    key = next((k for k in KEYS if _valid(adapter, _carrier(where, lo if "minimum" in sub else lo + 1, k))), None)
    assert key is not None, "no key shape accepts a value at the bound"
    for bound in ("minimum", "maximum"):
        if bound in sub:
            adapter.validate_python(_carrier(where, sub[bound], key))          # at the bound: accepted
    for value in _beyond(sub):
        with pytest.raises(ValidationError) as info:
            adapter.validate_python(_carrier(where, value, key))
        assert len(str(info.value)) < 2000


def _valid(adapter, value) -> bool:
    try:
        adapter.validate_python(value)
        return True
    except ValidationError:
        return False


# --------------------------------------------------------------------------------------------------
# the values of the issue, through the command line (exit 2 naming the field, never 1)

def _write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _base(**top) -> dict:
    d = copy.deepcopy(BASE)
    d.update(top)
    return d


@pytest.mark.parametrize("path, value", [
    (("professions", "registered_nurse", "headcount"), 10 ** 20),
    (("professions", "registered_nurse", "headcount"), 10 ** 308),
    (("professions", "registered_nurse", "headcount"), {"North": 10 ** 20, "South": 1, "City": 1}),
    (("geography", "places", 0, "population"), 10 ** 30),
    (("seed",), 2 ** 64 + 1),
    (("seed",), 2 ** 63),
    (("start",), "0000-01"),
    (("start",), "2300-01"),
    (("start",), "1899-12"),
    (("professions", "registered_nurse", "recruitment", "international"), 1e30),
    (("programmes", "nursing_degree", "intake"), {2026: 10 ** 20}),
    (("levers", 1, "cost_per_head_per_year"), 1e300),
])
def test_values_that_validated_but_broke_later_now_exit_2(tmp_path, path, value):
    d = _base(levers=copy.deepcopy(BASE["levers"]))
    node = d
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    r = runner.invoke(app, ["validate", str(_write(tmp_path, d))])
    want = ".".join(map(str, path))
    assert r.exit_code == 2, r.output
    assert f": {want}" in r.stderr, r.stderr
    assert "expected" in r.stderr or "must" in r.stderr


def test_nan_goal_target_is_refused(tmp_path):
    d = _base(goals=[{"name": "gap", "metric": "gap_share", "by": "2030-03", "max": math.nan}])
    r = runner.invoke(app, ["validate", str(_write(tmp_path, d))])
    assert r.exit_code == 2 and ": goals.0.max" in r.stderr, r.output
    d["goals"][0]["max"] = 0.05
    assert runner.invoke(app, ["validate", str(_write(tmp_path, d))]).exit_code == 0


def test_goal_targets_have_ranges_by_metric(tmp_path):
    d = _base(goals=[{"name": "v", "metric": "vacancy_rate", "by": "2030-03", "max": 1.5},
                     {"name": "h", "metric": "headcount", "by": "2030-03", "min": -3}])
    r = runner.invoke(app, ["validate", str(_write(tmp_path, d))])
    assert r.exit_code == 2 and ": goals.0.max" in r.stderr and ": goals.1.min" in r.stderr, r.output


def test_largest_seed_runs_and_writes(tmp_path):
    d = _base(seed=2 ** 63 - 1)
    out = tmp_path / "x.nc"
    r = runner.invoke(app, ["run", str(_write(tmp_path, d)), "-n", "2", "--years", "1", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert read_results(out).attrs["seed"] == 2 ** 63 - 1
    r = runner.invoke(app, ["run", str(_write(tmp_path, d)), "-n", "2", "--years", "1", "-q", "--out", str(out),
                            "--seed", str(2 ** 63)])
    assert r.exit_code == 2 and "--seed" in r.output


@pytest.mark.parametrize("start", ["1900-01", "2200-12"])
def test_earliest_and_latest_start_give_the_right_time_axis(start, tmp_path):
    d = _base(start=start, years=50, levers=[])
    out = tmp_path / "x.nc"
    r = runner.invoke(app, ["run", str(_write(tmp_path, d)), "-n", "1", "-q", "--every", "year", "--out", str(out)])
    assert r.exit_code == 0, r.output
    ds = read_results(out)
    months = ds.time.values.astype("datetime64[M]")
    first = np.datetime64(start, "M")
    assert months[0] == first and (np.diff(months).astype(int) == 12).all() and months[-1] == first + 49 * 12


def test_largest_headcount_and_population_run(tmp_path):
    """At the maxima the run works and demand stays proportional to population."""
    d = _base(levers=[])
    d["professions"]["registered_nurse"]["headcount"] = 10_000_000
    for p in d["geography"]["places"]:
        p["population"] = 100_000_000
    ds = sim.expected(sim.load_scenario(d), years=1)
    hc = ds.headcount.sum(["profession", "place"]).values
    assert np.isfinite(hc).all() and 9e6 < hc[0] < 1.1e7
    demand = float(ds.demand_fte.isel(time=0).sum())
    assert demand == pytest.approx(3e8 / 1000 * 6.9, rel=0.05)


# --------------------------------------------------------------------------------------------------
# property: any number at or beyond any bound, anywhere in the file: exit 0 or 2, never 1

def _leaves(node, path=()):
    if isinstance(node, bool):
        return
    if isinstance(node, (int, float)):
        yield path
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, path + (i,))


LEAVES = list(_leaves(BASE))
EDGES = [0, -1, 1, 0.5, 1 / 12, 12, 50, 51, 100, 101, 1e6, 10 ** 6 + 1, 10 ** 7, 10 ** 7 + 1, 10 ** 8, 10 ** 8 + 1,
         1e12, math.nextafter(1e12, math.inf), 2 ** 63 - 1, 2 ** 63, 2 ** 64, 10 ** 20, 10 ** 308, -10 ** 20, 1e-300,
         1.7976931348623157e308, math.nan, math.inf, -math.inf]


@PROPERTY
@given(path=st.sampled_from(LEAVES), value=st.sampled_from(EDGES))
@example(path=("professions", "registered_nurse", "headcount"), value=10 ** 7)
@example(path=("seed",), value=2 ** 63 - 1)
def test_property_numbers_at_and_beyond_bounds_never_break_a_run(tmp_path, path, value):
    d = copy.deepcopy(BASE)
    node = d
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    file = _write(tmp_path, d)
    r = runner.invoke(app, ["validate", str(file)])
    assert r.exit_code in (0, 2), r.output
    assert "Traceback" not in r.output and len(r.output) < 4000
    if r.exit_code == 2:                     # the field, or one that depends on it (years: lever dates), named
        for line in r.stderr.strip().splitlines():
            assert line.startswith(f"{file}: ") and ": " in line[len(str(file)) + 2:], line
        return
    ds = sim.expected(sim.load_scenario(file), years=1)          # accepted: the run works
    assert np.isfinite(ds.headcount.values).all() and (ds.headcount.values >= 0).all()
