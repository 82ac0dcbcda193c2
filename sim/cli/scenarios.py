"""``wfsim validate`` (check a scenario file), ``wfsim levers`` (the lever plugins) and ``wfsim schema``
(the scenario format as JSON schema)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..console import bad_input, out_console, say
from ..scenario import ScenarioError


def validate(path: Path = typer.Argument(..., help="scenario, experiment or action-plan YAML to check"),
             action_plans: Optional[list[Path]] = typer.Option(None, "--plan",
                                                               help="action plan to add: a YAML file or a shipped "
                                                                    "plan's name (train); repeatable"),
             scenario: Optional[Path] = typer.Option(None, "--scenario", help="for an action plan: the scenario "
                                                     "to check its levers against; default: the embedded baseline"),
             ) -> None:
    """Check a scenario, experiment or action-plan file (recognised by its keys): 'valid …', or one line
    per problem naming the field (exit 2)."""
    from ..experiments.spec import is_experiment, load_experiment
    from ..runs import check_action_plan, load_scenario
    from ..scenario.action_plans import is_action_plan
    from ..scenario.reading import read_yaml
    from ..vocabulary import DEFAULT_SCENARIO

    try:
        data = read_yaml(path)
        kind = "experiment" if is_experiment(data) else "action plan" if is_action_plan(data) else "scenario"
        if action_plans and kind != "scenario":
            bad_input([f"--plan: adds levers to a scenario; {path} is an {kind} file"])
        if scenario is not None and kind != "action plan":
            bad_input([f"--scenario: checks an action plan against a scenario; {path} is a{'n' * (kind[0] in 'ae')} "
                       f"{kind} file"])
        if kind == "experiment":
            exp = load_experiment(path)
            say(f"valid experiment: {len(exp.runs)} runs × {exp.spec.replicates:,} replicates")
        elif kind == "action plan":
            check_action_plan(path, scenario or DEFAULT_SCENARIO)
            n = len(data["levers"]) if isinstance(data["levers"], list) else 0
            say(f"valid action plan: {n} lever items, checked against {scenario or 'the embedded baseline'}")
        else:
            load_scenario(path, plans=action_plans or ())
            say("valid")
    except ScenarioError as e:
        bad_input(e.lines())


def levers() -> None:
    """List the lever plugins: name, People Function area, levels and parameters."""
    from rich.table import Table

    from ..levers import Lever, registry

    t = Table(title="lever plugins")
    for col in ("lever", "area", "levels", "parameters"):
        t.add_column(col)
    common = set(Lever.model_fields)
    for name, cls in sorted(registry().items()):
        props = cls.model_json_schema(by_alias=True)["properties"]
        params = [f"{k}: {props.get(k, {}).get('description', '')}" for k in cls.model_fields if k not in common]
        t.add_row(name, str(cls.area), ", ".join(cls.levels), "\n".join(params))
    out_console.print(t)


def schema(out: Optional[Path] = typer.Option(None, "--out", help="write the schema to this file (replaced "
                                              "atomically; only a schema wfsim wrote is replaced); default: "
                                              "standard output")) -> None:
    """Print the JSON schema of the scenario format, with the levers registered now (make schema writes
    it to configs/schema.json)."""
    import sys

    from ..outputs import OutputError, check_file, write_text
    from ..runs import schema_text

    if out is None:
        sys.stdout.write(schema_text())
        return
    try:
        replacing = check_file(out, "--out", _is_schema, "scenario schema (JSON)")
    except OutputError as e:
        bad_input([str(e)])
    write_text(out, schema_text())
    say(f"wrote {out}" + (" (replacing the previous schema)" if replacing else ""))


def _is_schema(path: Path) -> bool:
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and data.get("title") == "Scenario" and "$defs" in data
