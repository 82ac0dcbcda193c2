"""Backtests (sim/evidence): naive forecasts, scores, a backtest on synthetic series, the shipped England
series and their example, and bad input."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr
import yaml
from scipy import stats
from typer.testing import CliRunner

from sim.cli import app
from sim.evidence.backtest import naive_forecasts, run_backtest, score, summarise
from sim.evidence.calibrate import load_calibration

from test_calibrate import PRIORS, SCENARIO, TRUTH, synthetic

ROOT = Path(__file__).resolve().parents[1]
OBSERVED = ROOT / "configs" / "observed"
runner = CliRunner()


def test_naive_forecasts():
    ends = ["2020-03", "2021-03", "2022-03", "2023-03"]
    line = np.array([10.0, 12.0, 14.0, 16.0])                 # exactly linear: the trend is certain
    f = naive_forecasts(ends, line, ["2024-03", "2026-03"])
    assert f["linear trend"][0].median() == pytest.approx(18.0) and f["linear trend"][1].median() == pytest.approx(22.0)
    assert f["linear trend"][0].ppf(0.95) - f["linear trend"][0].ppf(0.05) < 1e-6
    assert f["last value"][0].median() == 16.0 and f["last value"][1].median() == 16.0
    assert f["last value"][1].std() == pytest.approx(f["last value"][0].std() * np.sqrt(2))   # a random walk
    noisy = np.array([10.0, 13.0, 11.0, 15.0, 14.0])
    f = naive_forecasts(ends + ["2024-03"], noisy, ["2025-03"])
    x = np.arange(5.0)
    b, a = np.polyfit(x, noisy, 1)
    s = np.sqrt(((noisy - a - b * x) ** 2).sum() / 3)
    t = f["linear trend"][0]
    assert t.median() == pytest.approx(a + 5 * b)
    assert t.std() == pytest.approx(s * np.sqrt(1 + 1 / 5 + (5 - 2) ** 2 / 10) * np.sqrt(3 / 1))   # t(3) sd
    assert f["last value"][0].std() == pytest.approx(np.std(np.diff(noisy), ddof=1))


def test_scores():
    q = {0.05: 1.0, 0.25: 2.0, 0.5: 3.0, 0.75: 4.0, 0.95: 5.0}
    s = score(4.5, q, 0.7)
    assert s["in90"] and not s["in50"] and s["ape"] == pytest.approx(1.5 / 4.5) and s["crps"] == 0.7
    # the ensemble CRPS used for the model agrees with the closed form for a normal forecast
    draws = stats.norm(10, 2).ppf((np.arange(4000) + 0.5) / 4000)
    assert float(sr.crps_ensemble(11.0, draws)) == pytest.approx(float(sr.crps_normal(11.0, 10, 2)), rel=1e-3)


def test_summary_per_method_and_steps():
    scores = pd.DataFrame({"method": ["model", "last value", "linear trend"] * 2, "steps_ahead": [1, 1, 1, 2, 2, 2],
                           "crps": [1.0, 2.0, 3.0, 3.0, 4.0, 5.0], "ape": [0.1] * 6,
                           "in50": [True, False, True, False, False, True], "in90": [True] * 6})
    s = summarise(scores)
    all_ = s[s.steps_ahead == "all"].set_index("method")
    assert list(all_.index) == ["model", "last value", "linear trend"]
    assert all_.loc["model", "crps"] == 2.0 and all_.loc["linear trend", "coverage50"] == 1.0
    assert len(s) == 9


@pytest.fixture(scope="module")
def synthetic_backtest(tmp_path_factory):
    """wfsim backtest on series drawn from the model itself (known parameters, another seed)."""
    tmp = tmp_path_factory.mktemp("bt")
    obs = synthetic(tmp, TRUTH, seed=4242)
    data = {"name": "synthetic-bt", "scenario": str(SCENARIO), "observed": str(obs), "seed": 8, "parameters": PRIORS,
            "error": {"relative": 0.03}, "abc": {"particles": 100, "runs_per_particle": 2},
            "backtest": {"series": {"variable": "leavers", "profession": "staff"}, "origins": ["2030-03", "2031-03"],
                         "horizon": 2}}
    f = tmp / "bt.yaml"
    f.write_text(yaml.safe_dump(data))
    r = runner.invoke(app, ["backtest", str(f), "--out", str(tmp / "out")])
    assert r.exit_code == 0, r.output
    return r.output, tmp / "out"


def test_backtest_scores_each_origin_and_method(synthetic_backtest):
    _, out = synthetic_backtest
    s = pd.read_csv(out / "scores.csv", dtype={"origin": str, "end": str})
    assert len(s) == (2 + 1) * 3                 # the second origin has one later observation left
    assert set(s.method) == {"model", "last value", "linear trend"}
    assert s.groupby("origin").end.min().tolist() == ["2031-03", "2032-03"]
    assert s.groupby("origin").end.max().tolist() == ["2032-03", "2032-03"]
    m = s[s.method == "model"]
    assert (m.q05 <= m.q50).all() and (m.q50 <= m.q95).all()
    assert m.ape.max() < 0.1                  # the model that made the data forecasts it within a few percent
    assert (out / "backtest.png").is_file() and (out / "summary.csv").is_file()


def test_cli_prints_scores_and_verdict(synthetic_backtest):
    output, _ = synthetic_backtest
    for word in ("model", "last value", "linear trend", "CRPS", "MAPE", "50% band held"):
        assert word in output
    assert re.search(r"The model (beats|does not beat) the last value forecast", output)


def test_each_fit_uses_only_rows_up_to_its_origin(monkeypatch, tmp_path):
    """The forecast never sees what it forecasts: each origin's fit is given only the rows up to it."""
    import sim.evidence.backtest as bt
    seen = []

    def fake(cal, used, progress=None):
        seen.append([r.end for r, u in zip(cal.rows, used) if u])
        raise StopIteration
    monkeypatch.setattr(bt, "calibrate", fake)
    obs = synthetic(tmp_path, TRUTH, seed=1)
    cal = load_calibration({"name": "b", "scenario": str(SCENARIO), "observed": str(obs), "parameters": PRIORS,
                            "backtest": {"series": {"variable": "leavers", "profession": "staff"},
                                         "origins": ["2030-03"]}})
    with pytest.raises(StopIteration):
        run_backtest(cal)
    assert seen[0] and max(seen[0]) == "2030-03" and len(seen[0]) == 8     # 4 years of leavers and headcount


# ---- the shipped England series -----------------------------------------------------------------------------

def test_shipped_observed_series_load_with_sources():
    cal = load_calibration(OBSERVED / "england_nurses_backtest.yaml")
    assert len(cal.rows) >= 20
    csv = pd.read_csv(OBSERVED / "england_nurses.csv", dtype=str, keep_default_na=False)
    assert (csv.source.str.len() > 10).all()                       # every number cites its source
    assert set(csv.variable) == {"leavers", "leaver_rate", "fte"}
    series = pd.read_csv(OBSERVED / "england_series.csv", dtype=str, keep_default_na=False)
    assert (series.source.str.len() > 5).all() and {"series", "period", "value", "flag"} <= set(series.columns)
    readme = (OBSERVED / "README.md").read_text()
    for needle in ("secondary", "break", "england_nurses.csv", "PQ 228728"):
        assert needle in readme


@pytest.mark.slow
def test_shipped_example_prints_its_scores(tmp_path):
    """The README's example: model and naive scores, and the plain verdict."""
    r = runner.invoke(app, ["backtest", str(OBSERVED / "england_nurses_backtest.yaml"), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    print(r.output)
    assert re.search(r"The model (beats|does not beat) the last value forecast", r.output)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary.method) == {"model", "last value", "linear trend"}


# ---- bad input ----------------------------------------------------------------------------------------------

def test_backtest_needs_its_block_and_enough_history(tmp_path):
    obs = synthetic(tmp_path, TRUTH, seed=1)
    base = {"name": "b", "scenario": str(SCENARIO), "observed": str(obs), "parameters": PRIORS}
    f = tmp_path / "b.yaml"
    f.write_text(yaml.safe_dump(base))
    r = runner.invoke(app, ["backtest", str(f)])
    assert r.exit_code == 2 and "backtest: required" in r.output
    for block, needle in (({"series": {"variable": "leavers", "profession": "staff"}, "origins": ["2029-03"]},
                           "backtest.origins.0"),
                          ({"series": {"variable": "joiners", "profession": "staff"}, "origins": ["2030-03"]},
                           "backtest.series"),
                          ({"series": {"variable": "leavers", "profession": "staff"}, "origins": ["2032-03"]},
                           "no observation of the series after")):
        f.write_text(yaml.safe_dump({**base, "backtest": block}))
        r = runner.invoke(app, ["backtest", str(f)])
        assert r.exit_code == 2 and needle in r.output, r.output
    f.write_text(yaml.safe_dump({**base, "backtest": {"series": {"variable": "leavers"}, "origins": ["2030-13"]}}))
    r = runner.invoke(app, ["backtest", str(f)])
    assert r.exit_code == 2 and "backtest.origins.0" in r.output
