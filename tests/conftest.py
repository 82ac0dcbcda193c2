"""Shared fixtures: the repository root and the reference example scenario."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"


@pytest.fixture(scope="session")
def example_path() -> Path:
    """configs/examples/spec_example.yaml: the reference example scenario of the format (docs/scenarios.md)."""
    return EXAMPLE


@pytest.fixture
def example_data() -> dict:
    """A fresh (mutable) dict of the reference scenario, as yaml.safe_load reads it."""
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
