"""The standard figures (sim/plots) and `wfsim plot`: what each figure draws equals the dataset's or
the comparison table's numbers; every figure names its scenario and creation date; bad input exits 2."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import matplotlib.dates as mdates
from matplotlib.colors import to_rgb
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.text import Text
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.plots import (PlotError, cost_vs_gap, fan_chart, lever_comparison, open_results, pipeline_chart, rollup,
                       standard_figures)
from sim.plots.rollup import rollup_values
from sim.results.io import write_netcdf

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
NURSE = "registered_nurse"
runner = CliRunner()


@pytest.fixture(scope="module")
def region() -> xr.Dataset:
    """Three ICSs, nine places, five replicates, three yearly periods."""
    return sim.run(sim.load_scenario(ROOT / "configs" / "region.yaml"), replicates=5, seed=3, years=3, every="year")


@pytest.fixture(scope="module")
def experiment() -> xr.Dataset:
    """An experiment-like dataset: the baseline ICS with and without the train plan (paired seeds)."""
    runs = [sim.run(sim.load_scenario(ROOT / "sim" / "data" / "baseline_ics.yaml", plans=plans), replicates=4, seed=5,
                    years=3, every="year") for plans in ((), (ROOT / "configs" / "levers" / "train.yaml",))]
    ds = xr.concat(runs, dim=pd.Index(["baseline", "train"], name="scenario"), coords="minimal", compat="override",
                   join="outer", combine_attrs="override")
    ds = ds.assign_coords(variant=("scenario", ["baseline", "train"]), future=("scenario", ["central", "central"]))
    ds.attrs.update(experiment_name="plots_test", question="what if?", baseline="baseline")
    return ds


@pytest.fixture
def table() -> pd.DataFrame:
    rows = []
    runs = [("baseline", "baseline", "central", 0, 0), ("train", "train", "central", 120, 30),
            ("retain", "retain", "central", 200, 12), ("train@high", "train", "high", 90, 31),
            ("baseline@high", "baseline", "high", 0, 0)]
    for scenario, variant, future, red, cost in runs:
        for profession, year, scale in ((NURSE, "2029-03", 1.0), (NURSE, "2031-03", 2.0), ("gp", "2029-03", 0.1)):
            r, c = red * scale, cost * scale
            rows.append(dict(scenario=scenario, variant=variant, future=future, profession=profession, year=year,
                             gap_p5=900.0, gap_p50=1000.0, gap_p95=1200.0, reduction_p5=0.5 * r, reduction_p50=r,
                             reduction_p95=1.5 * r, extra_cost_p5=0.9 * c, extra_cost_p50=c, extra_cost_p95=1.2 * c,
                             cost_per_fte_closed=c * 1e6 / r if r else np.nan))
    return pd.DataFrame(rows)


def texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def panel(fig: Figure, title: str):
    return next(ax for ax in fig.axes if ax.get_title() == title or ax.get_title(loc="left") == title)


def band_bounds(coll, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edge of a fill_between band at the given x (datetime64)."""
    v = np.concatenate([p.vertices for p in coll.get_paths()])
    xs = mdates.date2num(x)
    lo = np.array([v[np.isclose(v[:, 0], xi), 1].min() for xi in xs])
    hi = np.array([v[np.isclose(v[:, 0], xi), 1].max() for xi in xs])
    return lo, hi


# --------------------------------------------------------------------------------------------------
# fan chart


def test_fan_chart_draws_replicate_medians_inside_their_bands(region):
    fig = fan_chart(region)
    ax = panel(fig, "Registered nurses")
    assert len([a for a in fig.axes if a.get_visible()]) == region.sizes["profession"]
    for var, word in (("effective_fte", "supply"), ("demand_fte", "demand")):
        line = next(ln for ln in ax.get_lines() if ln.get_label().startswith(word))
        expected = region[var].sel(profession=NURSE).sum("place").median("replicate").values
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-6)
        x = line.get_xdata()
        bands = [c for c in ax.collections if np.allclose(c.get_facecolor()[0][:3], to_rgb(line.get_color()))]
        assert len(bands) == 2  # the 90% and the 50% band
        widths = []
        for band in bands:
            lo, hi = band_bounds(band, x)
            assert np.all(lo <= expected + 1e-6) and np.all(expected <= hi + 1e-6)
            widths.append(hi - lo)
        assert np.all(widths[0] >= widths[1] - 1e-6)  # the 90% band holds the 50% band's width
    foot = texts(fig)
    assert region.attrs["scenario_name"] in foot and region.attrs["created"][:10] in foot
    assert "FTE" in ax.get_ylabel()


def test_fan_chart_without_replicates_is_lines_only(region):
    one = region.isel(replicate=0, drop=True)
    fig = fan_chart(one, profession=NURSE)
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert not ax.collections
    supply = next(ln for ln in ax.get_lines() if ln.get_label().startswith("supply"))
    expected = one.effective_fte.sel(profession=NURSE).sum("place").values
    np.testing.assert_allclose(supply.get_ydata(), expected, rtol=1e-6)


def test_fan_chart_picks_an_experiments_scenario(experiment):
    fig = fan_chart(experiment, profession=NURSE, scenario="train")
    supply = next(ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("supply"))
    train = experiment.sel(scenario="train").effective_fte.sel(profession=NURSE).sum("place").median("replicate")
    np.testing.assert_allclose(supply.get_ydata(), train.values, rtol=1e-6)
    assert "train" in texts(fig) and "plots_test" in texts(fig)
    default = fan_chart(experiment, profession=NURSE)  # the baseline
    assert "scenario baseline" in texts(default)


@pytest.mark.parametrize("kwargs, needle", [({"scenario": "nope"}, "baseline, train"),
                                            ({"profession": "wizard"}, "wizard")])
def test_fan_chart_names_unknown_choices(experiment, kwargs, needle):
    with pytest.raises(PlotError, match=needle):
        fan_chart(experiment, **kwargs)


# --------------------------------------------------------------------------------------------------
# pipeline


def stacks(ax) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the positive and of the negative bar heights at each x position."""
    bars = [(round(b.get_x() + b.get_width() / 2, 6), b.get_height()) for b in ax.patches if b.get_width() > 0]
    xs = sorted({x for x, _ in bars})
    up = np.array([sum(h for bx, h in bars if bx == x and h > 0) for x in xs])
    down = np.array([sum(h for bx, h in bars if bx == x and h < 0) for x in xs])
    return up, down


def test_pipeline_stacks_equal_the_mean_totals(experiment):
    fig = pipeline_chart(experiment, NURSE, scenario="train")
    ax = fig.axes[0]
    one = experiment.sel(scenario="train", profession=NURSE)
    joiners = one.joiners.sum(["place", "source"]).mean("replicate").values
    leavers = one.leavers.sum(["place", "reason"]).mean("replicate").values
    up, down = stacks(ax)
    np.testing.assert_allclose(up, joiners, rtol=1e-9)
    np.testing.assert_allclose(down, -leavers, rtol=1e-9)
    net = next(ln for ln in ax.get_lines() if ln.get_label() == "net change")
    np.testing.assert_allclose(net.get_ydata(), joiners - leavers, rtol=1e-9)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026/27", "2027/28", "2028/29"]
    assert "mean" in ax.get_ylabel() and "per year" in ax.get_ylabel()
    assert "scenario train" in texts(fig)


def test_pipeline_sums_quarters_into_plan_years():
    ds = sim.run(sim.load_scenario(ROOT / "sim" / "data" / "baseline_ics.yaml"), replicates=3, seed=2, years=2,
                 every="quarter")
    up, down = stacks(pipeline_chart(ds, "gp").axes[0])
    per_year = ds.joiners.sel(profession="gp").sum(["place", "source"]).mean("replicate").values.reshape(2, 4).sum(1)
    np.testing.assert_allclose(up, per_year, rtol=1e-9)
    assert len(down) == 2


# --------------------------------------------------------------------------------------------------
# comparison table figures


def test_lever_comparison_bars_are_sorted_table_values(table):
    fig = lever_comparison(table, NURSE, "2031-03")
    ax = fig.axes[0]
    bars = sorted(ax.patches, key=lambda b: b.get_y())  # y axis inverted: the first bar is on top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["retain", "train", "train@high"]  # baselines left out, largest reduction first
    widths = [b.get_width() for b in bars]
    assert widths == sorted(widths, reverse=True)
    want = table[(table.profession == NURSE) & (table.year == "2031-03")].set_index("scenario").reduction_p50
    np.testing.assert_allclose(widths, want[labels].values)
    assert ax.yaxis_inverted()
    assert "FTE" in ax.get_xlabel()
    assert lever_comparison(table, NURSE, 2029).axes[0].patches[0].get_width() == 200  # an int year: its March


def test_cost_vs_gap_points_and_labels(table, experiment):
    fig = cost_vs_gap(table, "gp", "2029-03", ds=experiment)
    ax = fig.axes[0]
    points = np.concatenate([c.lines[0].get_xydata() for c in ax.containers])
    rows = table[(table.profession == "gp") & (table.year == "2029-03") & (table.variant != "baseline")]
    np.testing.assert_allclose(points, rows[["reduction_p50", "extra_cost_p50"]].values)
    assert {t.get_text() for t in ax.texts} == set(rows.scenario)
    assert "£ million" in ax.get_ylabel() and "FTE" in ax.get_xlabel()
    assert experiment.attrs["created"][:10] in texts(fig) and "baseline" in texts(fig)


def test_comparison_rows_follow_the_tables_baseline_column(table):
    """The experiment runner's table names each row's comparator; the baseline variant may have any name."""
    renamed = table.replace({"baseline": "status_quo", "baseline@high": "status_quo@high"})
    renamed["baseline"] = np.where(renamed.future == "high", "status_quo@high", "status_quo")
    fig = lever_comparison(renamed, NURSE, "2029-03")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["retain", "train", "train@high"]


@pytest.mark.parametrize("profession, year, needle", [(NURSE, "2040-03", "2029-03"), ("wizard", "2029-03", "gp")])
def test_comparison_figures_name_unknown_choices(table, profession, year, needle):
    with pytest.raises(PlotError, match=needle):
        cost_vs_gap(table, profession, year)


# --------------------------------------------------------------------------------------------------
# roll-up


def test_rollup_ics_and_region_totals_are_sums_of_places(region):
    values = rollup_values(region, "gap_fte")
    place = values["place"]
    for ics in np.unique(region.ics.values):
        members = place.sel(place=region.place.values[region.ics.values == ics])
        np.testing.assert_allclose(values["ics"].sel(ics=ics), members.sum("place"), rtol=1e-5)
    np.testing.assert_allclose(values["region"].squeeze("region"), place.sum("place"), rtol=1e-5)
    expected = region.gap_fte.isel(time=-1).sum("profession")
    np.testing.assert_allclose(place.transpose(*expected.dims), expected, rtol=1e-5)

    fig = rollup(region, "gap_fte")
    ax = panel(fig, "by integrated care system")
    names = [t.get_text() for t in ax.get_yticklabels()]
    widths = [b.get_width() for b in sorted(ax.patches, key=lambda b: b.get_y())]
    np.testing.assert_allclose(widths, values["ics"].median("replicate").sel(ics=names).values, rtol=1e-5)
    assert "FTE" in fig.axes[-1].get_xlabel() and "March 2029" in texts(fig)


def test_rollup_without_replicates_adds_up_exactly(region):
    fig = rollup(region.isel(replicate=0, drop=True), "headcount", profession=NURSE)
    by = {title: ax for title in ("by place", "by integrated care system", "by region") for ax in [panel(fig, title)]}
    place = {t.get_text(): b.get_width() for t, b in zip(by["by place"].get_yticklabels(), by["by place"].patches)}
    ics = {t.get_text(): b.get_width() for t, b in zip(by["by integrated care system"].get_yticklabels(),
                                                       by["by integrated care system"].patches)}
    for name in ics:
        assert ics[name] == pytest.approx(sum(v for p, v in place.items() if region.ics.sel(place=p) == name))
    assert by["by region"].patches[0].get_width() == pytest.approx(sum(place.values()))


def test_rollup_rejects_variables_without_places(region):
    with pytest.raises(PlotError, match="place"):
        rollup(region, "cost")


# --------------------------------------------------------------------------------------------------
# the standard set and the CLI


def test_standard_figures_of_an_experiment(experiment, table, tmp_path):
    paths = standard_figures(experiment, tmp_path / "figs", table=table)
    names = {p.name for p in paths}
    assert {"fan_baseline.png", "fan_train.png", "pipeline_registered_nurse.png", "rollup_gap_fte.png",
            "lever_comparison_registered_nurse_2031-03.png", "cost_vs_gap_gp_2029-03.png"} <= names
    assert len(paths) == 2 + experiment.sizes["profession"] + 1 + 2 * 3
    assert all(p.read_bytes()[:8] == PNG for p in paths)


@pytest.fixture(scope="module")
def store(experiment, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "plots_test.zarr"
    with warnings.catch_warnings():  # zarr 3: fixed-width strings and consolidated metadata are not yet in its spec
        warnings.simplefilter("ignore")
        experiment.to_zarr(path, mode="w")
    return path


def test_cli_plots_a_run(region, tmp_path):
    nc = write_netcdf(region, tmp_path / "region.nc")
    r = runner.invoke(app, ["plot", str(nc), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    written = [Path(line.removeprefix("wrote ")) for line in r.stdout.splitlines() if line.startswith("wrote ")]
    assert {p.name for p in written} >= {"fan_midlands-region.png", "rollup_gap_fte.png", "pipeline_gp.png"}
    assert all(p.parent == tmp_path / "out" and p.read_bytes()[:8] == PNG for p in written)


def test_cli_plots_an_experiment_store_with_its_comparison_table(store, table, tmp_path):
    table.to_csv(store / "comparison.csv", index=False)
    try:
        r = runner.invoke(app, ["plot", str(store), "--out", str(tmp_path), "--scenario", "train",
                                "--profession", NURSE])
    finally:
        (store / "comparison.csv").unlink()
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cost_vs_gap_registered_nurse_2029-03.png", "cost_vs_gap_registered_nurse_2031-03.png",
                     "fan_train.png", "lever_comparison_registered_nurse_2029-03.png",
                     "lever_comparison_registered_nurse_2031-03.png", "pipeline_registered_nurse.png",
                     "rollup_gap_fte.png"]


def test_cli_plots_an_experiment_folder_into_the_default_folder(store, table, tmp_path, monkeypatch):
    """`wfsim experiment` writes <folder>/results.zarr and <folder>/comparison.csv."""
    folder = tmp_path / "plots_test"
    shutil.copytree(store, folder / "results.zarr")
    table.to_csv(folder / "comparison.csv", index=False)
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["plot", str(folder), "--profession", "gp"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "results" / "figures" / "plots_test"
    assert {p.name for p in out.iterdir()} == {"fan_baseline.png", "fan_train.png", "pipeline_gp.png",
                                               "rollup_gap_fte.png", "lever_comparison_gp_2029-03.png",
                                               "cost_vs_gap_gp_2029-03.png"}


def test_open_results_reads_a_store_lazily_and_finds_no_table(store):
    ds, table = open_results(store)
    assert table is None and list(ds.scenario.values) == ["baseline", "train"]


@pytest.mark.parametrize("args, needle", [
    (["missing.nc"], "no such file"),
    (["{store}", "--scenario", "nope"], "'nope' is not in the experiment"),
    (["{store}", "--profession", "wizard"], "wizard"),
    (["{junk}"], "not a wfsim results dataset"),
    (["{text}"], "not a netCDF results file"),
])
def test_cli_bad_input_exits_2_with_one_line(store, tmp_path, args, needle):
    junk = tmp_path / "junk.nc"
    xr.Dataset({"x": ("a", [1.0, 2.0])}).to_netcdf(junk, engine="h5netcdf")
    text = tmp_path / "text.nc"
    text.write_text("hello")
    args = [a.format(store=store, junk=junk, text=text) for a in args]
    r = runner.invoke(app, ["plot", *args, "--out", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
