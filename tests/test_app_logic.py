"""The web app's logic without a browser: lever forms generated from the registry's schemas, the page's
choices as an experiment, its paired comparison, tables and downloads (sim/app/logic, forms, tables)."""
from __future__ import annotations

import io
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim
from sim.app import forms, logic, tables
from sim.cli import webapp as command
from sim.cli import app as cli
from sim.experiments import comparison, open_experiment
from sim.levers import registry

DEFAULT_DATA = yaml.safe_load(logic.DEFAULT_SCENARIO.read_text(encoding="utf-8"))
NURSE_RETENTION = {"lever": "retention", "id": "retention", "profession": "registered_nurse",
                   "leave_rate_multiplier": 0.8, "cost_per_head_per_year": 150}


@pytest.fixture(scope="module")
def default_scenario():
    return sim.load_scenario(logic.DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def app_run(tmp_path_factory, default_scenario):
    """What the app runs for one lever: baseline and with_levers, 30 paired replicates, 3 years."""
    root = tmp_path_factory.mktemp("results")
    spec = logic.experiment_spec(logic.DEFAULT_SCENARIO, default_scenario, levers=[NURSE_RETENTION], plans=[],
                                 replicates=30, seed=7, years=3, every="quarter")
    exp, folder = logic.prepare(spec, root)
    table = logic.run(exp, folder)
    return root, folder, table


def starting_values(cls, scenario, example=None) -> tuple[list, dict]:
    """A form's fields and the values it starts with (as the page draws them)."""
    fields = forms.lever_fields(cls, example)
    values = {}
    for f in fields:
        v = f.default
        if f.kind in ("profession", "programme") and v is None and not f.optional:
            v = next(iter(scenario.professions if f.kind == "profession" else scenario.programmes))
        if f.kind == "month" and v is None and not f.optional:
            v = logic.months(scenario)[-1]
        values[f.key] = v
    return fields, values


def validate(levers: list[dict]):
    return sim.load_scenario({**DEFAULT_DATA, "levers": levers})


# --- lever forms -------------------------------------------------------------------------------------
def test_every_registered_lever_has_a_form_with_where_and_when():
    for name, cls in registry().items():
        keys = [f.key for f in forms.lever_fields(cls)]
        assert keys[-len(forms.COMMON):] == list(forms.COMMON), name   # who, where and when come last
        assert "lever" not in keys and "id" not in keys
        own = set(cls.model_fields) - set(sim.levers.Lever.model_fields)
        assert {cls.model_fields[k].alias or k for k in own} <= set(keys), name


def test_form_kinds_follow_the_schema():
    kinds = {f.key: f for f in forms.lever_fields(registry()["retention"])}
    assert kinds["profession"].kind == "profession" and not kinds["profession"].optional
    m = kinds["leave_rate_multiplier"]
    assert (m.kind, m.minimum, m.maximum, m.required) == ("number", 0, 10, True)
    assert kinds["ages"].kind == "text"                        # [youngest, oldest]: written as YAML
    assert kinds["from"].kind == "month" and kinds["from"].optional
    assert kinds["where"].kind == "places" and kinds["level"].options == registry()["retention"].levels
    commitment = {f.key: f for f in forms.lever_fields(registry()["supply_expansion_commitment"])}
    assert commitment["by"].kind == "month" and not commitment["by"].optional
    adaptive = {f.key: f for f in forms.lever_fields(registry()["adaptive_plan"])}
    assert adaptive["raise_levers"].kind == "lever_ids"
    assert adaptive["budget_per_year"].kind == "number" and adaptive["budget_per_year"].optional
    assert {f.key: f for f in forms.lever_fields(registry()["apprenticeship_route"])}["mode"].options == ("add", "set")


def test_starting_values_come_from_shipped_plans(default_scenario):
    examples = forms.examples(logic.example_files())
    fields, values = starting_values(registry()["training_places"], default_scenario, examples["training_places"])
    # the lever's first configuration in the shipped files, in order: configs/levers/ltwp.yaml's nursing places
    assert values["change"] == 0.336 and values["programme"] == "nursing_degree"


def test_starting_forms_validate_as_scenario_levers(default_scenario):
    """Every lever switched on with its form's starting values is a valid lever of the default ICS,
    except where the scenario lacks what it needs: then the loader's own message says so."""
    examples = forms.examples(logic.example_files())
    expected_problems = {"placement_capacity": "has no placement_capacity to raise",
                         "adaptive_plan": "raise_levers: required field is missing"}
    for i, (name, cls) in enumerate(forms.levers_by_area()):
        fields, values = starting_values(cls, default_scenario, examples.get(name))
        config = forms.lever_config(name, fields, values, 0)
        if name in expected_problems:
            with pytest.raises(sim.ScenarioError) as e:
                validate([config])
            assert expected_problems[name] in "\n".join(e.value.lines())
        else:
            lever = validate([config]).levers[0]
            assert lever.lever == name and lever.id == name


def test_lever_config_leaves_out_empty_and_default_values(default_scenario):
    cls = registry()["retention"]
    fields, values = starting_values(cls, default_scenario)
    values.update({"leave_rate_multiplier": 0.9, "cost_per_head_per_year": 0.0, "ages": "[55, 70]",
                   "where": ["Riverside"], "level": "place"})
    config = forms.lever_config("retention", fields, values, 0)
    assert config == {"lever": "retention", "id": "retention", "profession": "registered_nurse",
                      "leave_rate_multiplier": 0.9, "ages": [55, 70], "where": ["Riverside"], "level": "place"}
    lever = validate([config]).levers[0]
    assert list(lever.ages) == [55, 70] and lever.cost_per_head_per_year == 0


def test_unreadable_yaml_in_a_text_field_names_the_field(default_scenario):
    cls = registry()["retention"]
    fields, values = starting_values(cls, default_scenario)
    values["ages"] = "[55, 70"
    with pytest.raises(sim.ScenarioError) as e:
        forms.lever_config("retention", fields, values, 3)
    assert e.value.lines()[0].startswith("experiment: levers.3.ages: ")


EXAMPLES = forms.examples(logic.example_files())
NUMBER_FIELDS = [(name, f) for name, cls in sorted(registry().items()) for f in forms.lever_fields(cls)
                 if f.kind == "number" and f.required and f.minimum is not None and f.maximum is not None
                 and name in ("retention", "wellbeing", "training_places", "attrition_reduction", "new_roles",
                              "rotational_roles", "productivity", "widening_participation")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_form_bounds_are_the_loaders_bounds(data, default_scenario):
    """Whatever a number field accepts (its schema bounds) the scenario loader accepts; a value outside
    them is refused with a message naming the field: the form and the loader cannot disagree."""
    name, f = data.draw(st.sampled_from(NUMBER_FIELDS))
    cls = registry()[name]
    fields, values = starting_values(cls, default_scenario, EXAMPLES.get(name))
    for g in fields:                                    # other required numbers at a valid value
        if g.kind == "number" and g.required and values[g.key] is None:
            values[g.key] = g.minimum
    inside = data.draw(st.floats(f.minimum, f.maximum, allow_nan=False))
    values[f.key] = inside
    assert validate([forms.lever_config(name, fields, values, 0)]).levers[0].lever == name
    outside = data.draw(st.one_of(st.floats(f.maximum + 1e-6, f.maximum + 1e6),
                                  st.floats(f.minimum - 1e6, f.minimum - 1e-6)))
    values[f.key] = outside
    with pytest.raises(sim.ScenarioError) as e:
        validate([forms.lever_config(name, fields, values, 0)])
    assert any(line.startswith(f"scenario: levers.0.{f.key}: expected a number") for line in e.value.lines())


# --- scenarios and experiments -----------------------------------------------------------------------
def test_shipped_scenarios_and_plans_load():
    shipped = logic.shipped_scenarios()
    assert next(iter(shipped.values())) == logic.DEFAULT_SCENARIO
    assert "configs/region.yaml" in shipped and "configs/analytic/decay.yaml" in shipped
    for path in shipped.values():
        assert logic.read_scenario(path).years >= 1
    assert set(logic.shipped_plans()) >= {"train", "retain", "reform", "all"}


def test_an_uploaded_scenario_is_kept_and_checked_as_wfsim_validate_does(tmp_path):
    bad = DEFAULT_DATA | {"years": 0, "stat": 1}
    path = logic.save_upload("my scenario!.yml", yaml.safe_dump(bad).encode(), tmp_path)
    assert path.parent.parent == tmp_path / "app" / "uploads" and path.name == "my_scenario_.yml"
    with pytest.raises(sim.ScenarioError) as e:
        logic.read_scenario(path)
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 2
    assert e.value.lines() == out.output.strip().splitlines()
    assert any("years" in line for line in e.value.lines()) and any("stat" in line for line in e.value.lines())


def test_experiment_of_the_page(default_scenario, tmp_path):
    spec = logic.experiment_spec(logic.DEFAULT_SCENARIO, default_scenario, levers=[NURSE_RETENTION],
                                 plans=[logic.shipped_plans()["train"]], replicates=95, seed=3, years=4,
                                 every="year")
    assert list(spec["variants"]) == [logic.BASELINE, logic.WITH_LEVERS]
    assert spec["block"] == 10 and logic.block_size(1000) == 100
    exp, folder = logic.prepare(spec, tmp_path)
    assert [r.label for r in exp.runs] == ["baseline", "with_levers"]
    ids = [lv.id for lv in exp.runs[1].scenario.levers]
    assert ids[0] == "retention" and "nursing_places" in ids          # the lever, then the plan's
    assert exp.runs[0].scenario.levers == () or list(exp.runs[0].scenario.levers) == []
    again, same = logic.prepare(spec, tmp_path)
    other, elsewhere = logic.prepare({**spec, "replicates": 96}, tmp_path)
    assert same == folder and elsewhere != folder and folder.parent == tmp_path / "app"
    only_baseline = logic.experiment_spec(logic.DEFAULT_SCENARIO, default_scenario, levers=[], plans=[],
                                          replicates=5, seed=0, years=1, every="year")
    assert list(only_baseline["variants"]) == [logic.BASELINE]


def test_bad_lever_choices_give_the_experiment_commands_messages(default_scenario, tmp_path):
    wrong = {**NURSE_RETENTION, "level": "place", "where": ["Illustrative ICS"]}
    spec = logic.experiment_spec(logic.DEFAULT_SCENARIO, default_scenario, levers=[wrong], plans=[],
                                 replicates=5, seed=0, years=1, every="year")
    with pytest.raises(sim.ScenarioError) as e:
        logic.prepare(spec, tmp_path)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = CliRunner().invoke(cli, ["experiment", str(path), "--out", str(tmp_path / "cli")])
    assert out.exit_code == 2
    # the same lines, but for the source: the CLI names the file, the page (which has none) "experiment"
    assert [line.replace(str(path), "experiment", 1) for line in out.output.strip().splitlines()] == e.value.lines()
    assert e.value.lines()[0].startswith("experiment: with_levers: levers.0.where: 'Illustrative ICS' is not a "
                                         "place of this geography")


def test_ids_stay_unique_beside_the_scenarios_own_levers():
    own = [NURSE_RETENTION, {**NURSE_RETENTION, "id": "retention_2"}]
    scenario = sim.load_scenario({**DEFAULT_DATA, "levers": own})
    assert [lv["id"] for lv in logic.unique_ids([NURSE_RETENTION, NURSE_RETENTION], scenario)] == \
        ["retention_3", "retention_4"]


def test_months_and_geography(default_scenario):
    months = logic.months(default_scenario)
    assert months[0] == "2026-04" and months[-1] == "2036-03" and len(months) == 120
    geo = logic.geography(default_scenario)
    assert geo["region"] == ["Midlands"] and geo["ics"] == ["Illustrative ICS"] and len(geo["place"]) == 4


# --- results -------------------------------------------------------------------------------------------
def test_the_app_run_is_an_experiment_whose_comparison_is_paired(app_run):
    root, folder, table = app_run
    assert (folder / "comparison.csv").is_file() and logic.list_experiments(root) == [folder]
    ds = open_experiment(folder)
    assert list(ds.scenario.values) == ["baseline", "with_levers"] and ds.sizes["replicate"] == 30
    # common random numbers: staff groups the lever does not touch are identical replicate by replicate
    gap = ds.gap_fte.sum("place").load()
    diff = gap.sel(scenario="baseline") - gap.sel(scenario="with_levers")
    assert (diff.sel(profession="gp") == 0).all() and (diff.sel(profession="consultant") == 0).all()
    assert float(diff.sel(profession="registered_nurse").isel(time=-1).median()) > 0
    stored = pd.read_csv(folder / "comparison.csv")
    pd.testing.assert_frame_equal(stored, pd.read_csv(io.StringIO(comparison(ds).to_csv(index=False,
                                                                                          float_format="%.6g"))))


def test_headline_numbers_are_the_experiment_comparison(app_run):
    root, folder, _ = app_run
    ds = tables.open_results(folder)
    months = tables.compare_months(ds)
    assert months == ["2027-03", "2028-03", "2029-03"]
    places = [str(p) for p in ds.place.values]
    table = tables.paired(ds, ["registered_nurse"], places, "2028-03")
    ref = comparison(ds, ["registered_nurse"], ["2028-03"])
    h = tables.headline(table, "with_levers", "registered_nurse")
    row = ref[(ref.scenario == "with_levers") & (ref.profession == "registered_nurse")].iloc[0]
    assert (h["reduction"], h["p_smaller"], h["extra_spend"]) == (row.reduction_p50, row.p_smaller_gap,
                                                                   row.extra_cost_p50)
    # by hand: the median over replicates of the paired difference at the end of March 2028 (index 7)
    g = ds.gap_fte.sel(profession="registered_nurse").sum("place").isel(time=7).load()
    assert h["reduction"] == pytest.approx(float(np.median(g.sel(scenario="baseline") - g.sel(scenario="with_levers"))))
    assert h["extra_spend"] > 0                                  # £150 per nurse a year
    assert tables.touched_professions(ds, "with_levers") == ["registered_nurse"]


def test_a_place_narrows_the_gap_but_not_the_spend(app_run):
    root, folder, _ = app_run
    ds = tables.open_results(folder)
    areas = tables.areas(ds)
    assert list(areas)[0] == "Midlands (whole area)" and areas["place: Riverside"] == ["Riverside"]
    table = tables.paired(ds, ["registered_nurse"], ["Riverside"], "2029-03")
    row = table[(table.scenario == "baseline") & (table.profession == "registered_nurse")].iloc[0]
    g = ds.gap_fte.sel(profession="registered_nurse", place="Riverside", scenario="baseline").isel(time=-1)
    assert row.gap_p50 == pytest.approx(float(np.percentile(g.values, 50)))
    assert table.cost_per_fte_closed.isna().all()              # spend is the whole area's: no £ per FTE


def test_fan_frame_is_percentiles_over_replicates(app_run):
    _, folder, _ = app_run
    ds = tables.open_results(folder)
    frame = tables.fan_frame(ds, ["baseline", "with_levers"], ["registered_nurse", "gp"], ["Riverside", "Eastvale"])
    assert len(frame) == 2 * 2 * 2 * ds.sizes["time"]
    sup = frame[(frame.run == "with_levers") & (frame.series == "supply") & (frame.profession == "Registered nurses")]
    direct = ds.effective_fte.sel(scenario="with_levers", profession="registered_nurse",
                                  place=["Riverside", "Eastvale"]).sum("place").load()
    np.testing.assert_allclose(sup.p50.values, direct.median("replicate").values, rtol=1e-6)
    assert (sup.p5 <= sup.p25).all() and (sup.p25 <= sup.p50).all() and (sup.p75 <= sup.p95).all()
    assert str(sup.end.iloc[0])[:10] == "2026-06-30"              # quarters, stocks at their last day


def test_goals_and_spend(app_run):
    _, folder, table = app_run
    ds = tables.open_results(folder)
    goals = tables.goals(table)
    assert list(goals.index) == ["baseline", "with_levers"] and ((goals >= 0) & (goals <= 1) | goals.isna()).all().all()
    spend = tables.spend_frame(ds)
    assert set(spend["plan year"]) == {"2026/27", "2027/28", "2028/29"}
    lever = spend[(spend.item == "lever: retention")].set_index("run")
    assert (lever.loc["baseline", "p50"] == 0).all() and (lever.loc["with_levers", "p50"] > 0).all()
    # by hand: plan year 2027/28 is quarters 4 to 7; the total is the median over replicates of all spend
    direct = ds.cost.sel(scenario="with_levers").isel(time=slice(4, 8)).sum(["time", "kind"]).load() / 1e6
    row = spend[(spend.item == "total") & (spend.run == "with_levers") & (spend["plan year"] == "2027/28")].iloc[0]
    assert row.p50 == pytest.approx(float(direct.median())) and row.p5 <= row.p50 <= row.p95
    levers = ds.lever_cost.sel(scenario="with_levers", lever="retention").isel(time=slice(4, 8)).sum("time").load()
    levers = levers / 1e6
    assert lever.loc["with_levers"].set_index("plan year").p50["2027/28"] == pytest.approx(float(levers.median()))


def test_downloads(app_run, tmp_path):
    _, folder, table = app_run
    ds = open_experiment(folder).load()
    nc = tmp_path / "x.nc"
    nc.write_bytes(tables.netcdf_bytes(folder))
    back = xr.load_dataset(nc, engine="h5netcdf")
    xr.testing.assert_identical(back, ds)                  # every value, coordinate and attribute
    tidy = tables.percentiles(ds)
    assert len(tidy) == len(tables.TIDY) * 2 * ds.sizes["time"] * ds.sizes["profession"] * ds.sizes["place"]
    one = tidy[(tidy.variable == "headcount") & (tidy.run == "baseline") & (tidy.profession == "gp")
               & (tidy.place == "Riverside")]
    np.testing.assert_allclose(one.p50.values, ds.headcount.sel(scenario="baseline", profession="gp",
                                                                place="Riverside").median("replicate").values)
    assert set(tidy.ics) == {"Illustrative ICS"}
    book = pd.read_excel(io.BytesIO(tables.excel_bytes({"comparison": table, "goals": tables.goals(table)})),
                         sheet_name=None)
    assert list(book) == ["comparison", "goals"] and len(book["comparison"]) == len(table)


def test_report_download_is_the_experiment_report(tmp_path):
    """On a one-place, one-group analytic config (the report draws every group's figures)."""
    path = Path(__file__).parents[1] / "configs" / "analytic" / "decay.yaml"
    spec = logic.experiment_spec(path, sim.load_scenario(path), plans=[], replicates=5, seed=1, years=2,
                                 every="year", levers=[{"lever": "retention", "id": "retention", "profession": "staff",
                                                        "leave_rate_multiplier": 0.5}])
    exp, folder = logic.prepare(spec, tmp_path)
    logic.run(exp, folder)
    html = tables.report_bytes(folder).decode()
    assert html.startswith("<!doctype html>") and "STRESS" in html and "with_levers" in html
    assert (folder / "report.html").read_text(encoding="utf-8") == html


# --- the command -----------------------------------------------------------------------------------------
def test_app_command_refuses_a_port_in_use():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        s.listen()
        port = s.getsockname()[1]
        out = CliRunner().invoke(cli, ["app", "--port", str(port), "--no-browser"])
    assert out.exit_code == 2
    assert out.output.strip() == f"--port: {port} is in use on localhost; choose another, e.g. --port {port + 1}"
    assert CliRunner().invoke(cli, ["app", "--port", "70000"]).exit_code == 2


def test_streamlit_is_started_headless_without_usage_statistics():
    cmd = command.streamlit_command(8599, "localhost")
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert Path(cmd[cmd.index("run") + 1]) == Path(logic.__file__).with_name("main.py")
