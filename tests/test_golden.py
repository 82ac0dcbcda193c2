"""Every shipped scenario, action plan and analytic config gives the datasets recorded in
golden_hashes.json, on every engine: refactors and speed-ups keep results bit for bit (see tests/golden.py)."""
from __future__ import annotations

import pytest

import golden

RECORD = golden.recorded()
CASES = golden.cases()
LINKED = golden.ROOT / "configs" / "baseline_ics.yaml"          # a link to the default scenario
# Cases whose work another case in the default run repeats: run by `make test-all` (and tests/golden.py), not
# by `make test`. configs/baseline_ics.yaml is the default scenario's file (the test below checks it, and that
# its records are the default's); the agents engine, the slowest, on the train, retain and reform plans,
# whose levers all.yaml holds together (tests/test_levers_plans.py checks so): all.yaml's agents case runs them.
SLOW = {f"{LINKED.relative_to(golden.ROOT)}:{engine}" for engine in golden.ENGINES} | {
    f"{golden.DEFAULT.relative_to(golden.ROOT)}+configs/levers/{name}.yaml:agents" for name in ("train", "retain",
                                                                                                  "reform")}


def test_every_case_is_recorded_and_every_record_is_a_case():
    assert sorted(RECORD) == sorted(key for key, *_ in CASES)
    assert SLOW <= set(RECORD)


def test_the_linked_scenario_is_the_default_with_the_same_records():
    assert LINKED.resolve() == golden.DEFAULT.resolve()
    for engine in golden.ENGINES:
        assert RECORD[f"{LINKED.relative_to(golden.ROOT)}:{engine}"] == \
            RECORD[f"{golden.DEFAULT.relative_to(golden.ROOT)}:{engine}"]


@pytest.mark.parametrize("key,engine,scenario,plans", [
    pytest.param(*case, id=case[0], marks=[pytest.mark.slow] if case[0] in SLOW else []) for case in CASES])
def test_dataset_is_bit_identical_to_the_record(key, engine, scenario, plans):
    got = golden.digest(golden.run_case(engine, scenario, plans))
    assert got == RECORD[key], (f"{key}: results changed. If the change is deliberate, say so in the commit "
                                "and record it: .venv/bin/python tests/golden.py --update")


def test_digest_sees_a_one_bit_change():
    import numpy as np
    import xarray as xr

    ds = xr.Dataset({"x": ("t", np.array([1.0, 2.0]))})
    other = ds.copy(deep=True)
    other["x"].values[1] = np.nextafter(2.0, 3.0)
    assert golden.digest(ds) != golden.digest(other)
    assert golden.digest(ds) == golden.digest(ds.copy(deep=True))
