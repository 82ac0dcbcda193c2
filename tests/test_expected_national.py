"""The mean field's path for national scenarios (hundreds of locations: moves applied ICS by ICS as matrix
products, only the ages anyone can be in post at, rotations over the places a cohort is at) gives the same
projection as the whole grid, to rounding; checked by taking that path on small multi-ICS configs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.model import expected
from sim.model.compile import compile_plan
from sim.model.flows import STEPS
from sim.runs.simulation import with_horizon

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [ROOT / "configs" / "region.yaml", ROOT / "configs" / "analytic" / "national.yaml",
           ROOT / "configs" / "analytic" / "mobility.yaml"]


def plan_of(path: Path, years: int = 3):
    return compile_plan(with_horizon(sim.load_scenario(path), years))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_the_national_path_agrees_with_the_whole_grid(path, monkeypatch):
    plan = plan_of(path)
    assert plan.shape[2] <= expected.BLOCKED_FROM          # so the default is the whole grid
    whole = expected.project(plan)
    monkeypatch.setattr(expected, "BLOCKED_FROM", 0)
    national = expected.project(plan)
    assert whole.keys() == national.keys()
    for k in whole:
        np.testing.assert_allclose(national[k], whole[k], rtol=1e-9, atol=1e-9, err_msg=k)
    assert whole["headcount"].sum() > 0


@pytest.mark.parametrize("path", CONFIGS[:2], ids=lambda p: p.stem)
def test_no_one_is_ever_in_post_outside_the_live_ages(path, monkeypatch):
    plan = plan_of(path)
    whole = expected.MeanField(plan)
    monkeypatch.setattr(expected, "BLOCKED_FROM", 0)
    band = expected.MeanField(plan).ages
    assert whole.ages == slice(0, expected.AGES) and 0 < band.start < band.stop <= expected.AGES
    for m in range(plan.months):
        for name in STEPS:
            getattr(whole, name)(m)
            assert not whole.stock[..., :band.start].any() and not whole.stock[..., band.stop:].any(), (m, name)
