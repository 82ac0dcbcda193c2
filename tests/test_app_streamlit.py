"""The app's page script driven in-process by Streamlit's AppTest (no browser): widgets to experiment,
the numbers shown against the experiment layer's own comparison, and bad input shown as the CLI says it."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import sim.app  # noqa: E402
from sim.app import logic  # noqa: E402
from sim.cli import app as cli  # noqa: E402
from sim.experiments import comparison, open_experiment  # noqa: E402

MAIN = str(Path(sim.app.__file__).with_name("main.py"))


@pytest.fixture
def page(tmp_path, monkeypatch):
    """The app with its results folder in a fresh working folder; short runs."""
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(MAIN, default_timeout=300)
    at.run()
    assert not at.exception
    at.number_input(key="replicates").set_value(20)
    at.number_input(key="years").set_value(3)
    at.selectbox(key="every").set_value("year")
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def switch_on_retention(at: AppTest, multiplier: float) -> None:
    at.toggle(key="lever.retention.on").set_value(True)
    at.number_input(key="lever.retention.leave_rate_multiplier").set_value(multiplier)


def test_first_page_lists_scenarios_and_every_lever(page):
    assert page.selectbox(key="scenario").options[0].startswith("default: illustrative ICS")
    toggles = {t.key for t in page.toggle}
    from sim.levers import registry

    assert toggles == {f"lever.{name}.on" for name in registry()}
    assert not page.metric                                  # nothing run yet
    assert page.tabs[1].label == "Browse experiments"


def test_a_lever_run_shows_the_paired_comparison_of_its_experiment(page, tmp_path):
    switch_on_retention(page, 0.8)
    page.button(key="run").click().run()
    assert not page.exception and not page.error
    folder = Path(page.session_state["folder"])
    assert folder.parent == Path("results") / "app" and (tmp_path / folder / "comparison.csv").is_file()
    ds = open_experiment(tmp_path / folder)
    assert list(ds.scenario.values) == ["baseline", "with_levers"] and ds.sizes["replicate"] == 20
    ref = comparison(ds, ["registered_nurse"], ["2029-03"])
    row = ref[(ref.scenario == "with_levers") & (ref.profession == "registered_nurse")].iloc[0]
    assert metric(page, "Registered nurses: gap reduction FTE") == f"{row.reduction_p50:,.0f}"
    assert metric(page, "Registered nurses: P(smaller gap)") == f"{100 * row.p_smaller_gap:.0f}%"
    assert metric(page, "Registered nurses: extra spend") == f"£{row.extra_cost_p50:,.1f}m"
    assert row.reduction_p50 > 0 and row.extra_cost_p50 > 0
    # a stronger lever closes more of the gap, at more cost
    page.number_input(key="lever.retention.leave_rate_multiplier").set_value(0.5)
    page.button(key="run").click().run()
    stronger = Path(page.session_state["folder"])
    assert stronger != folder
    ref2 = comparison(open_experiment(tmp_path / stronger), ["registered_nurse"], ["2029-03"])
    row2 = ref2[(ref2.scenario == "with_levers") & (ref2.profession == "registered_nurse")].iloc[0]
    assert row2.reduction_p50 > row.reduction_p50
    assert metric(page, "Registered nurses: gap reduction FTE") == f"{row2.reduction_p50:,.0f}"


def test_views_follow_staff_group_area_and_month_in_both_tabs(page, tmp_path):
    switch_on_retention(page, 0.8)
    page.button(key="run").click().run()
    page.multiselect(key="run.professions").set_value(["gp"])
    page.selectbox(key="run.area").set_value("place: Riverside")
    page.selectbox(key="run.month").set_value("2028-03")
    page.run()
    assert not page.exception
    assert metric(page, "General practitioners: gap reduction FTE") == "0"      # the lever is on nurses only
    assert metric(page, "General practitioners: £ per FTE closed") == "—"
    ds = open_experiment(tmp_path / page.session_state["folder"])
    gap = ds.gap_fte.sel(scenario="with_levers", profession="gp", place="Riverside").isel(time=1).load()
    assert metric(page, "General practitioners: gap FTE") == f"{float(gap.median()):,.0f}"
    # the browse tab lists the run's folder and shows the same views of it
    assert page.selectbox(key="browse.folder").value == Path(page.session_state["folder"])
    shown = [m.value for m in page.metric if m.label == "Registered nurses: gap reduction FTE"]
    assert len(shown) == 1                                  # browse tab: default view, the lever's staff group
    nurses = ds.gap_fte.sel(profession="registered_nurse").sum("place").isel(time=-1).load()
    paired = nurses.sel(scenario="baseline") - nurses.sel(scenario="with_levers")
    assert shown[0] == f"{float(paired.median()):,.0f}"
    page.text_input(key="browse.root").set_value(str(tmp_path / "nowhere")).run()
    assert any("No experiment results under" in i.value for i in page.info)


def test_bad_input_is_shown_with_the_clis_messages(page):
    switch_on_retention(page, 0.8)
    page.selectbox(key="lever.retention.level").set_value("place")
    page.multiselect(key="lever.retention.where").set_value(["Illustrative ICS"])
    page.button(key="run").click().run()
    assert not page.exception and "folder" not in page.session_state
    shown = page.error[0].value
    assert "`experiment: with_levers: levers.0.where: 'Illustrative ICS' is not a place of this geography; " \
           "allowed: Eastvale, Northfield, Riverside, Westmoor`" in shown


def test_a_scenario_that_does_not_load_is_explained(page, tmp_path, monkeypatch):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nyears: 0\n")
    monkeypatch.setattr(logic, "shipped_scenarios", lambda: {"broken": broken})
    page.run()
    out = CliRunner().invoke(cli, ["validate", str(broken)])
    assert out.exit_code == 2 and len(out.output.splitlines()) >= 4
    assert page.error[0].value == "Please fix these inputs:\n\n" + "\n".join(
        f"- `{line}`" for line in out.output.strip().splitlines())
