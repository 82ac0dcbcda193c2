"""Output levels (sim/results/levels.py): results computed by provider and summed to place, ICS, region or
nation exactly; closed forms by area on configs/analytic/national.yaml; the engines agree on it; every reader
of results finds the area dimension whatever the level."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from typer.testing import CliRunner

import sim
from helpers import three_engines
from sim.cli import app
from sim.model.compile import compile_plan
from sim.results.levels import area_dim
from sim.vocabulary import LEVELS

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "configs" / "analytic" / "national.yaml"
SEED = 41


@pytest.fixture(scope="module")
def scenario():
    return sim.load_scenario(NATIONAL)


@pytest.fixture(scope="module")
def plan(scenario):
    return compile_plan(scenario)


@pytest.fixture(scope="module")
def by_level(scenario):
    """One kernel run (same seed and replicates) at every output level, quarterly."""
    return {level: sim.run(scenario, replicates=4, seed=SEED, years=2, every="quarter", level=level)
            for level in LEVELS}


def _summed(ds: xr.Dataset, level: str) -> xr.Dataset:
    """Provider-level results summed to ``level`` in float64 (ints exactly), each variable in its own type."""
    area = area_dim(ds)
    out = {}
    for name, v in ds.data_vars.items():
        if area not in v.dims:
            continue
        wide = v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)
        total = wide.sum(area).expand_dims({level: [str(ds.attrs["nation"])]}) if level == "nation" \
            else wide.groupby(level).sum()
        out[name] = total.astype(v.dtype)
    return xr.Dataset(out)


@pytest.mark.parametrize("level", ["place", "ics", "region", "nation"])
def test_every_variable_rolls_up_exactly_from_providers(by_level, level):
    provider, rolled = by_level["provider"], by_level[level]
    assert area_dim(rolled) == level and rolled.attrs["level"] == level
    summed = _summed(provider, level)
    assert set(summed.data_vars) == {n for n, v in rolled.data_vars.items() if level in v.dims}
    for name, v in summed.data_vars.items():
        got = rolled[name].transpose(*v.dims)
        assert got.dtype == v.dtype, name
        got = got.sel({level: v[level].values}).values
        if v.dtype == np.float64:       # residents: float64 sums in another order agree to rounding only
            np.testing.assert_allclose(got, v.values, rtol=1e-13, err_msg=name)
        else:                           # counts exactly; float32 as the rounding of the float64 sum
            np.testing.assert_array_equal(got, v.values, err_msg=name)
    for name, v in rolled.data_vars.items():            # spend and levers are not by area: the same at any level
        if level not in v.dims:
            xr.testing.assert_identical(v, provider[name])


def test_coordinates_name_the_levels_above(by_level):
    provider, place, ics, region, nation = (by_level[x] for x in LEVELS)
    assert list(provider.place.values[:3]) == ["North One"] * 3 and provider.provider_kind.values[2] == "general_practice"
    assert list(place.ics.values) == ["North ICS", "North ICS", "Mid A ICS", "Mid B ICS", "South ICS", "South ICS"]
    assert list(ics.region.values) == ["North", "Midlands", "Midlands", "South"]
    assert "ics" not in region.coords and list(nation.nation.values) == ["Testland"]
    assert list(region.region.values) == ["North", "Midlands", "South"]


def test_batches_and_levels_do_not_change_a_replicate(scenario, by_level):
    one = sim.run(scenario, replicates=4, seed=SEED, years=2, every="quarter", level="ics", batch_size=1)
    xr.testing.assert_identical(one.drop_attrs(), by_level["ics"].drop_attrs())


def test_stocks_and_flows_conserve_nationally(by_level):
    """A move or a transfer is a leaver at one provider and a joiner at another: in every replicate the
    nation's headcount changes by its joiners net of its leavers."""
    nation = by_level["nation"].sel(nation="Testland")
    hc = nation.headcount.astype(np.int64)
    change = hc.diff("time")
    net = (nation.joiners.sum("source") - nation.leavers.sum("reason")).astype(np.int64).isel(time=slice(1, None))
    np.testing.assert_array_equal(change.values, net.values)
    moves = nation.leavers.sel(reason="rotation_out").sum()
    assert moves > 0 and moves == nation.joiners.sel(source="rotation_in").sum()


# --- closed forms by area (the config's header) -------------------------------------------------------------
def _closed_form(h0: np.ndarray, per_year: np.ndarray, p: float, months: int, k: float = 1.0) -> np.ndarray:
    """[M, areas] E[H(m)] = H0 (1-q)^(m+1) + (j/q)(1 - (1-q)^(m+1)), q = 1 - (1-p)^(k/12), j = J/12."""
    q = 1 - (1 - p) ** (k / 12)
    decay = (1 - q) ** (np.arange(months) + 1)[:, None]
    return h0[None] * decay + (per_year / 12 / q)[None] * (1 - decay)


def test_mean_field_gives_the_closed_form_by_provider_and_by_ics(scenario, plan):
    months = 40                      # the first nurses qualify in month 41 (intake 2026-09, three years)
    care = sim.expected(scenario, years=4, level="provider").isel(time=slice(0, months))
    c = plan.professions.index("care_worker")
    want = _closed_form(plan.init_headcount[c], plan.recruit_rate[0, c].sum(-1) * 12, 0.25, months)
    np.testing.assert_allclose(care.headcount.sel(profession="care_worker").values, want, rtol=1e-9)

    # nurses move within North ICS: the closed form holds for each ICS (hires and starting staff summed over it)
    n = plan.professions.index("nurse")
    ics = sim.expected(scenario, years=4, level="ics").isel(time=slice(0, months))
    _, index = plan.areas("ics")
    keep = np.array(plan.locations) != "South One Acute"          # its leaving hazard is halved by a lever
    h0 = np.bincount(index[keep], plan.init_headcount[n][keep], minlength=4)
    hires = np.bincount(index[keep], (plan.recruit_rate[0, n].sum(-1) * 12)[keep], minlength=4)
    at = plan.locations.index("South One Acute")
    lever = _closed_form(plan.init_headcount[n][[at]], plan.recruit_rate[0, n, [at]].sum(-1) * 12, 0.1, months,
                         k=0.5)
    want = _closed_form(h0, hires, 0.1, months)
    want[:, 3] += lever[:, 0]
    np.testing.assert_allclose(ics.headcount.sel(profession="nurse").values, want, rtol=1e-9)
    one = sim.expected(scenario, years=4, level="provider").headcount.sel(profession="nurse", provider="South One Acute")
    np.testing.assert_allclose(one.values[:months], lever[:, 0], rtol=1e-9)


def test_engines_agree_by_provider(scenario):
    """Kernel, agents engine and mean field on the national toy: the raw counts' means within 4 standard errors,
    by provider and plan year (stocks at the year's end, flows over it). Yearly, so that the cells compared are
    few and their sums near normal; vacancies, max(posts - staff, 0), are convex in the staff: the mean field
    is not their mean."""
    _, kernel, agents = three_engines(scenario, ("headcount", "joiners", "leavers", "trainees", "completions"),
                                      seed=SEED, agent_replicates=40, years=2, every="year", level="provider")
    assert kernel.joiners.sel(source="rotation_in", provider="North Two Acute").sum() > 0
    assert agents.joiners.sel(source="rotation_in", provider="North Two Acute").sum() > 0


# --- readers of results at any level ------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
def test_summary_goals_and_figures_work_at_every_level(by_level, scenario, level):
    from sim.plots import fan_chart, pipeline_chart, rollup
    from sim.results.metrics import goal_table
    from sim.results.summary import summary_frame

    ds = by_level[level]
    frame = summary_frame(ds)
    np.testing.assert_allclose(frame.supply.values, summary_frame(by_level["place"]).supply.values, rtol=1e-6)
    rows = {r["goal"]: r for r in goal_table(ds, scenario.goals)}
    national = rows["Testland keeps 2,000 nurses"]
    assert national["probability"] == goal_table(by_level["place"], scenario.goals)[1]["probability"]
    provider_goal = rows["North One Acute keeps 250 nurses"]
    if level == "provider":
        assert 0 <= provider_goal["probability"] <= 1
    else:
        assert np.isnan(provider_goal["probability"]) and provider_goal["why"] == "below the output level"
    for fig in (fan_chart(ds, profession="nurse"), pipeline_chart(ds, "nurse"), rollup(ds, "headcount")):
        assert fig.axes
    import matplotlib.pyplot as plt
    plt.close("all")


def test_rollup_figure_has_a_panel_per_level_from_the_runs(by_level):
    from sim.plots.rollup import rollup_values

    values = rollup_values(by_level["provider"], "headcount")
    assert list(values) == ["provider", "place", "ics", "region"]
    region = by_level["region"].headcount.isel(time=-1).sum("profession")
    np.testing.assert_array_equal(values["region"].transpose("replicate", "region").values,
                                  region.sel(region=values["region"].region.values).transpose("replicate", "region").values)


def test_app_areas_at_ics_level(by_level):
    from sim.app.tables import areas

    ds = by_level["ics"].expand_dims(scenario=["baseline"])
    found = areas(ds)
    assert found["Testland (whole area)"] == ["North ICS", "Mid A ICS", "Mid B ICS", "South ICS"]
    assert found["region: Midlands"] == ["Mid A ICS", "Mid B ICS"]
    assert found["ICS: South ICS"] == ["South ICS"]
    assert not any(k.startswith("place:") for k in found)


# --- the command line and experiments -----------------------------------------------------------------------
def test_wfsim_run_level(tmp_path):
    out = tmp_path / "national.nc"
    r = CliRunner().invoke(app, ["run", str(NATIONAL), "--level", "region", "-n", "2", "--years", "2", "--out",
                                 str(out)])
    assert r.exit_code == 0, r.output
    assert "below the output level" in r.output
    ds = xr.load_dataset(out, engine="h5netcdf")
    assert area_dim(ds) == "region" and ds.attrs["level"] == "region"
    bad = CliRunner().invoke(app, ["run", str(NATIONAL), "--level", "county", "--out", str(tmp_path / "x.nc")])
    assert bad.exit_code == 2 and "--level" in bad.stderr


def test_api_refuses_an_unknown_level(scenario):
    with pytest.raises(sim.ScenarioError, match="level"):
        sim.expected(scenario, level="ward")


def test_experiment_stores_results_at_its_level(tmp_path):
    from sim.experiments import comparison, load_experiment, open_experiment, run_experiment

    spec = {"name": "levels", "question": "Does keeping South One's acute nurses close the nation's gap?",
            "scenario": str(NATIONAL), "replicates": 4, "seed": 3, "years": 1, "every": "quarter", "block": 2,
            "level": "ics", "variants": {"baseline": {}, "keep": {"set": {"professions.nurse.leave_rate": 0.05}}}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    run_experiment(load_experiment(path), tmp_path / "out", workers=1)
    ds = open_experiment(tmp_path / "out").load()
    assert area_dim(ds) == "ics" and ds.sizes["ics"] == 4 and ds.attrs["level"] == "ics"
    assert ds.population.dims == ("scenario", "time", "age_band", "ics")
    table = comparison(ds)
    assert set(table.profession) >= {"nurse", "all professions"}
