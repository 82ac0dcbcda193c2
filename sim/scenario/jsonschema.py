"""Print the JSON schema of the scenario format (``make schema`` writes it to configs/schema.json)."""
import json

from .loading import scenario_model


def schema_text() -> str:
    return json.dumps(scenario_model().model_json_schema(by_alias=True), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
