"""``wfsim validate`` (check a scenario file), ``wfsim levers`` (the lever plugins) and ``wfsim schema``
(the scenario format as JSON schema)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..console import bad_input, out_console, say
from ..scenario import ScenarioError


def validate(scenario: Path = typer.Argument(..., help="scenario YAML to check"),
             action_plans: Optional[list[Path]] = typer.Option(None, "--plan",
                                                               help="action plan to add: a YAML file or a shipped "
                                                                    "plan's name (train); repeatable"),
             ) -> None:
    """Check a scenario file: 'valid', or one line per problem naming the field (exit 2)."""
    from ..runs import load_scenario

    try:
        load_scenario(scenario, plans=action_plans or ())
    except ScenarioError as e:
        bad_input(e.lines())
    say("valid")


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


def schema() -> None:
    """Print the JSON schema of the scenario format, with the levers registered now (make schema writes
    it to configs/schema.json)."""
    import sys

    from ..runs import schema_text

    sys.stdout.write(schema_text())
