"""MkDocs hook: the reference pages generated from the code when the site is built, so they cannot drift.

- ``reference/levers.md``: every lever in ``sim.levers.registry()``, from its pydantic schema (parameters,
  allowed values, units, defaults), its class attributes (area, levels) and its docstrings (what it does,
  the evidence for its size, its closed form, and its cost rule from ``cost``'s docstring);
- ``reference/results.md``: the results dataset's variables, dimensions, coordinates and attributes, from
  ``sim/results/dataset.py`` and a dataset it builds, and the joiner sources, leaver reasons and the month's
  order of events from ``sim/model/flows.py``;
- ``reference/scenario.md``: the scenario format, every model of it, from its JSON schema (``wfsim schema``);
- ``reference/cli.md``: the ``wfsim`` command, from its Typer app (Typer's own Markdown generator).

A lever without a cost rule, or a coordinate or attribute this file does not describe, stops the build
(``mkdocs build --strict``, run by ``make test``): describe it here or in the code.
"""
from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import yaml
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]


def on_files(files, config):
    for uri, page in (("reference/levers.md", levers_page), ("reference/results.md", results_page),
                      ("reference/scenario.md", scenario_page), ("reference/cli.md", cli_page)):
        files.append(File.generated(config, uri, content=page()))
    return files


def md(text: str) -> str:
    """reStructuredText literals (``x``) as Markdown code (`x`)."""
    return text.replace("``", "`")


def cell(text: str) -> str:
    return md(str(text)).replace("|", "\\|").replace("\n", " ")


def meaning(description: str) -> str:
    """A field's description without the range the 'allowed' column already gives: 'a number from 0 to 1
    (share per year)' is 'share per year'."""
    m = re.fullmatch(r"a number (?:from \S+ to \S+|≥ \S+) \((.*)\)", description or "", flags=re.S)
    return m.group(1) if m else (description or "")


# --- levers ---------------------------------------------------------------------------------------------------
SOURCES = """\
Each lever's description says where its size comes from. Short names used there:

- **HEE-ICS 2021**: Health Education England, *Integrated Care Systems: Guidance on the HEE and ICS
  Relationship* (version 1, November 2021): the integrated planning cycle (boxes 0 to 4) and the table of
  HEE's activities (Fig 2).
- **ICS-PF 2021**: NHS England and NHS Improvement, *Building strong integrated care systems everywhere:
  guidance on the ICS people function* (version 1, August 2021): the people functions and outcome areas.
- **LTWP**: NHS England, *NHS Long Term Workforce Plan* (June 2023).
- Figures with a date and source are compiled on the [Reference figures](../reference-figures.md) page.
"""


def number(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:.3g}"


def kind(prop: dict, defs: dict, link: bool = False) -> str:
    """A JSON-schema property in words: what values are allowed (``link``: models as links to their section)."""
    if "$ref" in prop:
        name = prop["$ref"].split("/")[-1]
        return f"[{name}](#{name.lower()})" if link else kind(defs[name], defs)
    if "anyOf" in prop:
        parts = [kind(p, defs, link) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(dict.fromkeys(parts))
    if "enum" in prop:
        return " | ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    t = prop.get("type")
    if t in ("number", "integer"):
        word = "number" if t == "number" else "whole number"
        lo, hi = prop.get("minimum", prop.get("exclusiveMinimum")), prop.get("maximum")
        if lo is not None and hi is not None:
            return f"{word} {number(lo)} to {number(hi)}"
        return f"{word} ≥ {number(lo)}" if lo is not None else word
    if t == "string":
        if "pattern" in prop and "[0-9]{4}" in prop["pattern"]:
            return "month `YYYY-MM`"
        return "text"
    if t == "array":
        if "discriminator" in prop.get("items", {}):           # the scenario's levers
            return "list of [levers](levers.md)" if link else "list of levers"
        items = kind(prop.get("items", {}), defs, link)
        n = prop.get("minItems")
        return f"{n} × {items}" if n is not None and n == prop.get("maxItems") else f"list of {items}"
    if t == "object":
        patterns = prop.get("patternProperties", {})
        if "^\\d{4}$" in patterns:
            return "year table `{YEAR: value}`"
        if patterns:
            return f"mapping of names to {kind(next(iter(patterns.values())), defs, link)}"
        if isinstance(prop.get("additionalProperties"), dict):
            return f"mapping of names to {kind(prop['additionalProperties'], defs, link)}"
        return "mapping"
    return t or "any"


def default(name: str, field, prop: dict) -> str:
    if field.is_required():
        return "required"
    value = prop.get("default")
    return "—" if value is None else f"`{json.dumps(value, ensure_ascii=False)}`"


def parameter_rows(cls, names) -> list[str]:
    schema = cls.model_json_schema(by_alias=True)
    props, defs = schema["properties"], schema.get("$defs", {})
    rows = []
    for name in names:
        field = cls.model_fields[name]
        key = field.alias or name
        prop = props.get(key, {})
        rows.append(f"| `{key}` | {cell(kind(prop, defs))} | {default(key, field, prop)} | "
                    f"{cell(meaning(prop.get('description', field.description or '')))} |")
    return ["| parameter | allowed | default | meaning (unit) |", "|---|---|---|---|", *rows]


def examples() -> dict[str, tuple[str, dict]]:
    """Lever name → (shipped file, its first configuration there) from the shipped plans, experiments and
    scenarios (the closed-form configs of configs/analytic/ use every lever)."""
    from sim.scenario import shipped

    found = {}

    def visit(node, where) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("lever"), str) and node["lever"] not in found:
                found[node["lever"]] = (where, node)
            for v in node.values():
                visit(v, where)
        elif isinstance(node, list):
            for v in node:
                visit(v, where)

    files = [*shipped.action_plans().values(), *shipped.experiments().values(), *shipped.scenarios().values()]
    for f in files:
        visit(yaml.safe_load(f.read_text(encoding="utf-8")), f.resolve().relative_to(ROOT).as_posix())
    return found


def levers_page() -> str:
    from sim.levers import Lever, registry
    from sim.levers.base import AREAS

    common = list(Lever.model_fields)
    out = ["# Levers", "",
           "A lever is a plugin that changes the compiled plan tensors of a scenario; every engine and the "
           "mean field read only those, so each lever works the same in all of them. A scenario's `levers:` "
           "list is its action plan (see [Levers and action plans](../how-to/action-plans.md)). This page is "
           "generated from `sim.levers.registry()` when the documentation is built: `wfsim levers` prints the "
           "same list, and `wfsim schema` the JSON schema, third-party levers included.", "",
           "## Where, when and how strongly: the fields of every lever", "",
           "Every lever also takes these fields. `from`, `until` and `ramp_months` set its *window*; its "
           "effect is weighted by the delivered share, 0 outside the window and its places, rising linearly "
           "through a ramp, and scaled by any adaptive plan that raises it or by its owner's budget control "
           "(reported as `lever_scale`). Its spend is reported as `lever_cost`, in `cost` of kind `levers` "
           "and, when the scenario names owners or has budgets, in `spend_by_owner`.", "",
           *parameter_rows(Lever, [n for n in common if n != "lever"]), "",
           "Levels a lever may be owned at (`level`, or the level of its `owner`) are listed with each lever; "
           "`where` names providers, places, ICSs or regions of the scenario's geography (or the nation), inside "
           "the owner's footprint: the lever acts on every provider inside them (see "
           "[Owners and budgets](../how-to/budgets.md)).", "",
           "## Sources", "", SOURCES]
    found = examples()
    by_area: dict[int, list] = {}
    for name, cls in sorted(registry().items()):
        by_area.setdefault(cls.area, []).append((name, cls))
    missing = []
    for area in sorted(by_area):
        title = AREAS.get(area, "other")
        out += [f"## Area {area}: {title}" if area in AREAS else "## Other levers", ""]
        for name, cls in by_area[area]:
            doc = inspect.getdoc(cls) or ""
            summary, _, rest = doc.partition("\n\n")
            own = [n for n in cls.model_fields if n not in common]
            out += [f"### `{name}`", "", md(summary.replace("\n", " ")), "",
                    f"**People Function outcome area** {area} ({title}) · **levels** "
                    f"{', '.join(cls.levels)} · **class** `{cls.__module__}.{cls.__name__}`", ""]
            if own:
                out += parameter_rows(cls, own) + [""]
            if rest:
                out += [md(rest), ""]
            if cls.cost is Lever.cost:
                rule = "None of its own" + (": it scales other levers, whose spend grows with them."
                                            if name == "adaptive_plan" else ".")
            elif cls.cost.__doc__:
                rule = md(inspect.cleandoc(cls.cost.__doc__).replace("\n", " "))
            else:
                missing.append(name)
                rule = ""
            out += [f"**Cost rule.** {rule}", ""]
            if name in found:
                where, config = found[name]
                line = yaml.safe_dump([config], default_flow_style=None, sort_keys=False, allow_unicode=True,
                                      width=1000).strip()
                out += [f"Example, from `{where}`:", "", "```yaml", "levers:", f"  {line}", "```", ""]
    if missing:
        raise ValueError(f"levers whose cost method has no docstring (its cost rule): {', '.join(missing)}")
    return "\n".join(out)


# --- results ----------------------------------------------------------------------------------------------------
COORDINATES = {
    "replicate": "Monte Carlo replicate number, 0 to N − 1 (absent from `sim.expected`'s mean-field results)",
    "time": "first day of each output period (month, quarter or year; see `time_step`)",
    "profession": "the scenario's staff groups (its `professions`)",
    "provider": "with `--level provider`: the area dimension is the geography's providers (a place that lists "
                "none is one, named after the place); `place`, `ics` and `region` are on it",
    "place": "the scenario's places: the area dimension at the default level (`--level place`); on the "
             "`provider` dimension, each provider's place",
    "ics": "the ICS of each area (on the area dimension, below ICS level; the dimension itself with `--level ics`): "
           "`ds.groupby('ics').sum()` rolls up",
    "region": "the region of each area (on the area dimension, below region level; the dimension itself with "
              "`--level region`)",
    "nation": "with `--level nation`: the area dimension, one entry (the geography's `nation`)",
    "provider_kind": "with `--level provider`: each provider's kind (on `provider`)",
    "provider_sector": "with `--level provider`: each provider's sector (on `provider`; empty where its kind "
                       "says none): `ds.groupby('provider_sector').sum()` gives results by sector",
    "from_sector": "sectors (`nhs_trust`, `general_practice`, `adult_social_care`, `independent_sector`, "
                   "`voluntary_sector`) staff move from; only when a profession has `sector_moves`",
    "to_sector": "sectors staff move to (as `from_sector`); only when a profession has `sector_moves`",
    "source": "joiner sources (below)",
    "reason": "leaver reasons (below)",
    "programme": "the scenario's training programmes",
    "kind": "kinds of spend: `staff`, `agency_bank`, `training`, `levers`",
    "service_line": "the demand side's service lines (empty when demand is per profession)",
    "service_unit": "the unit each service line's activity is counted in (on `service_line`)",
    "lever": "the action plan's levers, by `id` (default: the lever's name)",
    "age_band": "population age bands of the demand side",
    "owner": "the owners of levers and budgets (the national body, regions, ICSs, places), top level first; "
             "only when the scenario names owners or has budgets",
    "owner_level": "each owner's level (on `owner`): `national`, `region`, `ics` or `place`; "
                   "`ds.spend_by_owner.groupby('owner_level').sum()` gives spend by level",
    "band": "pay bands (the professions' career ladders, lowest first; `all` for staff of a profession without "
            "one); only with characteristics or bands (see [Staff characteristics and pay bands]"
            "(../how-to/characteristics.md))",
    "group": "groups of staff (the declared characteristics' groups combined, e.g. `white/female`; `all` without "
             "characteristics); only with characteristics or bands",
    "promotable": "on (`profession`, `band`): the band has a next one on the profession's ladder",
}
ATTRIBUTES = {
    "scenario_name": "the scenario's `name`",
    "scenario_sha256": "sha256 of the resolved scenario (levers and includes expanded)",
    "scenario": "the resolved scenario as JSON: the run can be reproduced from the results file alone",
    "seed": "the seed (−1 for the mean field, which draws nothing)",
    "engine": "`kernel`, `agents` or `expected`",
    "wfsim_version": "the version of wfsim (package `wfsim-ics`) that made the results",
    "demand_definition": "how demand is defined (need per head, funded establishment, or service lines)",
    "created": "when the dataset was made (UTC, ISO 8601)",
    "time_step": "the output step: `month`, `quarter` or `year`",
    "level": "the output level, the name of the area dimension: `provider`, `place`, `ics`, `region` or `nation`",
    "nation": "the geography's nation (`nation:`; England by default): a goal or output may name it for the whole",
    "stocks_at": "stocks are as at the end of each period; flows are totals within it",
    "owners_over_budget": "with budgets: the owners whose levers budget control scaled down in at least one "
                          "plan year, comma-separated (empty: none)",
    "budget_control": "with budgets: JSON list, one entry per owner and plan year with a budget: `budget` (own "
                      "plus passed down, £), `expected_cost` (its levers costed before the year on the expected "
                      "path), `expected_spend` (after control) and `scale` (the factor on its levers)",
}


def flow_rows(flows) -> list[str]:
    rows = ["| name | meaning | notes |", "|---|---|---|"]
    for f in flows:
        notes = []
        if getattr(f, "recruited", False):
            notes.append("an experienced hire's source (recruitment rates are given per source)")
        if getattr(f, "pair", None):
            notes.append(f"pairs with `{f.pair}`: their totals over places (or staff groups) are equal")
        rows.append(f"| `{f.name}` | {cell(f.meaning)} | {'; '.join(notes)} |")
    return rows


def results_page() -> str:
    import sim
    from sim.model.flows import JOINERS, LEAVERS, MONTH
    from sim.results.dataset import COST_KINDS, DESCRIPTIONS, STOCKS, UNITS

    ds = sim.expected(sim.load_scenario(ROOT / "configs" / "analytic" / "decay.yaml"), years=1)
    owned = sim.expected(sim.load_scenario(ROOT / "configs" / "analytic" / "budgets.yaml"), years=1)
    ds = ds.assign({k: owned[k] for k in owned.data_vars if k not in ds})   # variables only owners bring
    ds = ds.assign_coords({k: owned[k] for k in ("owner", "owner_level")})
    mobile = sim.expected(sim.load_scenario(ROOT / "configs" / "analytic" / "mobility.yaml"), years=1)
    ds = ds.assign({k: mobile[k] for k in mobile.data_vars if k not in ds})  # variables only mobility brings
    sectors = sim.expected(sim.load_scenario(ROOT / "configs" / "analytic" / "sectors.yaml"), years=1)
    ds = ds.assign({k: sectors[k] for k in sectors.data_vars if k not in ds})   # ... and sectors, returners
    banded = sim.expected(sim.load_scenario(ROOT / "configs" / "analytic" / "bands.yaml"), years=1)
    ds = ds.assign({k: banded[k] for k in banded.data_vars if k not in ds})  # variables only cells bring
    ds = ds.assign_coords({k: banded[k] for k in ("band", "group", "promotable")})
    ds.attrs.update({k: owned.attrs[k] for k in ("owners_over_budget", "budget_control")})
    coords = ["replicate", *ds.coords] + [c for c in ("provider", "provider_kind", "provider_sector", "nation")
                                             if c not in ds.coords]
    unknown = [c for c in coords if c not in COORDINATES] + [a for a in ds.attrs if a not in ATTRIBUTES]
    if unknown:
        raise ValueError(f"describe these in docs/hooks/reference.py: {', '.join(unknown)}")
    out = ["# Results dataset", "",
           "Every engine (`kernel`, `agents`) and the mean field (`sim.expected`) return one "
           "`xarray.Dataset` with the same variables, dimensions and units, so a figure, a table or a "
           "comparison written for one works for all. `wfsim run` writes it as netCDF; an experiment's zarr "
           "store has the same variables with a leading `scenario` dimension (coordinates `variant`, `future` "
           "and `scenario_sha256` on it). This page is generated from `sim/results/dataset.py` and "
           "`sim/model/flows.py` when the documentation is built.", "",
           "## Output level", "",
           "Every variable is computed by provider (a location of the plan tensors; a place that lists no "
           "providers is one), then summed to the output level: `wfsim run --level provider|place|ics|region|"
           "nation` (default `place`), `sim.run(..., level=...)`, `sim.expected(..., level=...)` or an "
           "experiment's `level:`. The dimension written `place` below is the area dimension, named after the "
           "level, with coordinates naming the areas above it up to the region. Sums are exact: vacancies and "
           "unmet demand are summed from providers (a shortfall at one is not offset by a surplus at another), "
           "float sums are taken in float64 and stored as float32. Code that reads results finds the area "
           "dimension with `sim.results.levels.area_dim(ds)`.", "",
           "Stocks are at the end of each period, flows are totals within it (with `--every quarter` or "
           "`year`, stocks keep the period's last month and flows are summed, and a flow's unit says *per "
           "quarter* or *per year*). In every replicate `headcount[t] = headcount[t-1] + joiners[t] - "
           "leavers[t]`, summed over sources and reasons, holds exactly.", "",
           "## Variables", "", "| variable | dimensions (after `replicate`) | unit | stock or flow | meaning |",
           "|---|---|---|---|---|"]
    for name, var in ds.data_vars.items():
        out.append(f"| `{name}` | {', '.join(var.dims)} | {cell(UNITS[name])} | "
                   f"{'stock' if name in STOCKS else 'flow'} | {cell(DESCRIPTIONS[name])} |")
    out += ["", "## Dimensions and coordinates", "", "| name | on | meaning |", "|---|---|---|"]
    for name in coords:
        on = ("replicate" if name == "replicate" else ", ".join(ds.coords[name].dims) if name in ds.coords
              else "(another output level)")
        out.append(f"| `{name}` | {on} | {cell(COORDINATES[name])} |")
    out += ["", f"Kinds of spend (`kind`): {', '.join(f'`{k}`' for k in COST_KINDS)}.", "",
            "## Joiner sources (`source`)", "", *flow_rows(JOINERS), "",
            "## Leaver reasons (`reason`)", "", *flow_rows(LEAVERS), "",
            "## The order of events in a month", "",
            "Every engine follows this order (tests check it on each). A staff member has at most one event a "
            "month: retirement comes before leaving, and leaving before a move; people who arrive in a month "
            "have no other event in it.", "", "| step | name | what happens |", "|---|---|---|"]
    out += [f"| {i} | `{s.name}` | {cell(s.what)} |" for i, s in enumerate(MONTH, 1)]
    out += ["", "## Attributes (provenance)", "", "| attribute | meaning |", "|---|---|"]
    out += [f"| `{a}` | {cell(ATTRIBUTES[a])} |" for a in ds.attrs]
    out += ["", "Each variable also has the attributes `units` and `description` (the columns above)."]
    return "\n".join(out) + "\n"


# --- scenario format ------------------------------------------------------------------------------------------
def schema_rows(model: dict, defs: dict) -> list[str]:
    required = set(model.get("required", []))
    rows = ["| field | allowed | default | meaning (unit) |", "|---|---|---|---|"]
    for key, prop in model.get("properties", {}).items():
        if key in required:
            value = "required"
        elif isinstance(prop.get("default"), (dict, list)) and prop.get("default") and "$ref" in json.dumps(prop):
            value = "its defaults"
        else:
            value = "—" if prop.get("default") is None else f"`{json.dumps(prop['default'], ensure_ascii=False)}`"
        rows.append(f"| `{key}` | {cell(kind(prop, defs, link=True))} | {cell(value)} | "
                    f"{cell(meaning(prop.get('description', '')))} |")
    return rows


def scenario_page() -> str:
    from sim.levers import registry
    from sim.runs import scenario_model

    schema = scenario_model().model_json_schema(by_alias=True)
    defs = schema["$defs"]
    levers = {cls.__name__ for cls in registry().values()}
    order, queue = [], [schema]
    while queue:                          # the models in the order a scenario file reaches them
        for ref in re.findall(r'"\$ref": "#/\$defs/(\w+)"', json.dumps(queue.pop(0).get("properties", {}))):
            if ref not in order and ref not in levers:
                order.append(ref)
                queue.append(defs[ref])
    out = ["# Scenario format", "",
           "A scenario is a YAML file validated into frozen objects: unknown keys are errors, and every "
           "problem is reported with its field and what is allowed (`wfsim validate`). This page is generated "
           "from the format's JSON schema when the documentation is built; `wfsim schema` prints the schema "
           "itself (the repository keeps a copy as `configs/schema.json`, for editors). See "
           "[Scenario files](../scenarios.md) for how the parts fit together, and the [levers](levers.md) "
           "for the items of `levers`.", "",
           "Any flow or rate a plan changes may be a **year table** `{2026: 850, 2028: 1000}` instead of a "
           "constant: each value holds from April of its year, the first also from the start.", "",
           "## Scenario", "", md(schema.get("description", "")), "", *schema_rows(schema, defs)]
    for name in order:
        model = defs[name]
        out += ["", f"## {name}", "", md(model.get("description", "")), "", *schema_rows(model, defs)]
    return "\n".join(out) + "\n"


# --- command line -----------------------------------------------------------------------------------------------
def cli_page() -> str:
    import typer
    import typer.main
    from typer.cli import get_docs_for_click

    from sim.cli import app

    command = typer.main.get_command(app)
    text = get_docs_for_click(obj=command, ctx=typer.Context(command), name="wfsim", title="Command line")
    text = re.sub(r"^\*\*(Usage|Arguments|Options|Commands)\*\*:", r"**\1**", text, flags=re.M)
    intro = ("Every command and option of `wfsim`, generated from its Typer app when the documentation is built "
             "(`wfsim COMMAND --help` prints the same). Exit codes: 0 success; 2 bad input, with one line per "
             "problem naming the field or option and what is allowed; 1 an unexpected internal error.\n\n")
    head, _, body = text.partition("\n\n")
    return f"{head}\n\n{intro}{body}"
