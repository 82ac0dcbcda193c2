"""The JSON schema of the scenario format (``wfsim schema``; ``make schema`` writes it to configs/schema.json)."""
import json
from typing import Mapping

from .loading import scenario_model


def schema_text(levers: Mapping[str, type]) -> str:
    """The schema for scenarios whose ``levers`` are the given lever plugins (name → class)."""
    return json.dumps(scenario_model(levers).model_json_schema(by_alias=True), indent=2, sort_keys=True) + "\n"
