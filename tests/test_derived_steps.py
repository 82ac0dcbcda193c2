"""Stocks worked out at the output step's months only (``derived(..., every)``) give exactly the numbers of
working them out every month and keeping the period's last (``aggregate``), for every variable."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.demand.draws import demand_draws
from sim.engines import simulator
from sim.model.compile import compile_plan
from sim.results.dataset import aggregate, to_level
from sim.runs.lever_costs import outcomes

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", ["configs/region.yaml", "configs/analytic/budgets.yaml",
                                  "configs/examples/spec_example.yaml"])
@pytest.mark.parametrize("every", ["quarter", "year"])
def test_stocks_at_the_output_months_are_those_of_every_month(path, every):
    plan = compile_plan(sim.load_scenario(ROOT / path))
    reps = range(2)
    side = demand_draws(plan, reps, 3)
    raw = simulator("kernel")(plan, reps, 3, funded_posts=side["funded_posts"])
    monthly = outcomes(plan, raw, side)
    direct = outcomes(plan, raw, side, every)
    assert monthly.keys() == direct.keys()
    coarse = aggregate(monthly, every, time_axis=1)
    for k in monthly:
        assert aggregate(direct, every, time_axis=1, stocks_at=True)[k].dtype == coarse[k].dtype
        np.testing.assert_array_equal(aggregate(direct, every, time_axis=1, stocks_at=True)[k], coarse[k], err_msg=k)
    for level in ("ics", "region"):
        a = to_level(plan, monthly, level, every, time_axis=1)
        b = to_level(plan, direct, level, every, time_axis=1, stocks_at=True)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
