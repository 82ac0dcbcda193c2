"""The shared vocabulary (sim/vocabulary.py): month arithmetic against numpy's calendar, output steps, plan years."""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from sim.vocabulary import (OUTPUT_STEP_MONTHS, YEAR_MONTH, absolute_month, calendar_months, last_month, month_dates,
                            month_index, month_text, period_last_month, periods_per_year, plan_year_label)

months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1900, 2200), st.integers(1, 12))


@given(months, months)
def test_month_arithmetic_agrees_with_numpy(a, b):
    assert YEAR_MONTH.fullmatch(a)
    assert month_text(absolute_month(a)) == a
    assert month_index(a, b) == int(np.datetime64(b, "M") - np.datetime64(a, "M"))


@given(months, st.integers(1, 600))
def test_a_run_s_months(start, n):
    dates = month_dates(start, n)
    assert len(dates) == n and str(dates[0].astype("datetime64[M]")) == start
    assert str(dates[-1].astype("datetime64[M]")) == last_month(start, n)
    np.testing.assert_array_equal(calendar_months(start, n), dates.astype("datetime64[M]").astype(int) % 12 + 1)


def test_output_steps_and_plan_years():
    assert {k: periods_per_year(k) for k in OUTPUT_STEP_MONTHS} == {"month": 12, "quarter": 4, "year": 1}
    assert str(period_last_month(np.datetime64("2026-04-01T00:00:00.000000000"), "quarter")) == "2026-06"
    assert plan_year_label(np.datetime64("2026-04")) == "2026/27"
    assert plan_year_label(np.datetime64("2099-04")) == "2099/00"
    assert plan_year_label(np.datetime64("2026-09")) == "2026-09"
