"""Every shipped scenario, action plan and analytic config gives the datasets recorded in
golden_hashes.json, on every engine: refactors and speed-ups keep results bit for bit (see tests/golden.py)."""
from __future__ import annotations

import pytest

import golden

RECORD = golden.recorded()
CASES = golden.cases()


def test_every_case_is_recorded_and_every_record_is_a_case():
    assert sorted(RECORD) == sorted(key for key, *_ in CASES)


@pytest.mark.parametrize("key,engine,scenario,plans", CASES, ids=[c[0] for c in CASES])
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
