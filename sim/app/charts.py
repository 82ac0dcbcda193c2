"""Interactive charts of the app (Vega-Altair, which Streamlit draws with hover values and zoom).
Each function takes a tidy table from ``sim.app.tables`` and returns an Altair chart."""
from __future__ import annotations

import altair as alt
import pandas as pd

BLUES, REDS = ("#9ecae1", "#08519c"), ("#fcae91", "#a50f15")     # supply, demand: baseline lighter


def _lines(runs: list[str]) -> tuple[list[str], list[str]]:
    """Legend entries and colours: supply in blues, demand in reds, the baseline in the lighter shade."""
    domain, colours = [], []
    for series, shades in (("supply", BLUES), ("demand", REDS)):
        for i, run in enumerate(runs):
            domain.append(f"{series}, {run}")
            colours.append(shades[min(i, 1)] if len(runs) > 1 else shades[1])
    return domain, colours


def fan_chart(frame: pd.DataFrame, runs: list[str], columns: int = 2, zero: bool = True) -> alt.FacetChart:
    """Supply against demand over time for each staff group: median lines (hover for the values) with
    bands holding the middle 50% and 90% of replicates; y from zero (unless ``zero`` is False) so that
    the gap's size reads true."""
    data = frame.assign(line=frame.series + ", " + frame.run)
    domain, colours = _lines(runs)
    colour = alt.Color("line:N", scale=alt.Scale(domain=domain, range=colours),
                       legend=alt.Legend(title=None, orient="top", columns=len(domain), symbolType="stroke",
                                         symbolOpacity=1, symbolStrokeWidth=3))
    x = alt.X("end:T", title="end of period", axis=alt.Axis(format="%Y", tickCount="year"))
    base = alt.Chart().encode(x=x, color=colour)
    band90 = base.mark_area(opacity=0.12).encode(y=alt.Y("p5:Q", title="FTE", scale=alt.Scale(zero=zero)),
                                                 y2="p95:Q")
    band50 = base.mark_area(opacity=0.25).encode(y="p25:Q", y2="p75:Q")
    tooltip = [alt.Tooltip("line:N", title="series"), alt.Tooltip("end:T", title="end of period", format="%b %Y"),
               alt.Tooltip("p50:Q", title="median FTE", format=",.0f"),
               alt.Tooltip("p5:Q", title="5th percentile", format=",.0f"),
               alt.Tooltip("p95:Q", title="95th percentile", format=",.0f")]
    median = base.mark_line().encode(y="p50:Q", strokeDash=alt.StrokeDash("run:N", sort=runs, legend=None))
    # hovering anywhere picks the nearest period end and shows its values
    hover = alt.selection_point(name="hover", on="pointerover", nearest=True, fields=["end"], empty=False,
                                clear="pointerout")
    points = base.mark_point(size=45, filled=True).encode(
        y="p50:Q", opacity=alt.condition(hover, alt.value(1), alt.value(0)), tooltip=tooltip).add_params(hover)
    return (alt.layer(band90, band50, median, points, data=data)
            .properties(width=520, height=300)
            .facet(facet=alt.Facet("profession:N", title=None), columns=columns)
            .resolve_scale(y="independent"))


def reduction_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Gap reduction against the baseline (paired): median bar, 5th to 95th percentile whisker, one bar
    per run and staff group (rows of ``tables.readable`` without the baselines)."""
    data = table.rename(columns={"gap reduction FTE": "median", "reduction 5th": "p5", "reduction 95th": "p95"})
    y = alt.Y("staff group:N", title=None)
    tooltip = ["run:N", "staff group:N", alt.Tooltip("median:Q", format=",.0f", title="median reduction FTE"),
               alt.Tooltip("p5:Q", format=",.0f", title="5th percentile"),
               alt.Tooltip("p95:Q", format=",.0f", title="95th percentile"),
               alt.Tooltip("P(smaller gap):Q", format=".0%")]
    bars = alt.Chart(data).mark_bar(opacity=0.8).encode(
        x=alt.X("median:Q", title="gap reduction, FTE (median, 5th to 95th percentile of paired differences)"),
        y=y, yOffset="run:N", color=alt.Color("run:N", legend=alt.Legend(orient="top", title=None)), tooltip=tooltip)
    whiskers = alt.Chart(data).mark_rule(color="black").encode(x="p5:Q", x2="p95:Q", y=y, yOffset="run:N")
    return alt.layer(bars, whiskers).properties(height=alt.Step(18))


def spend_chart(frame: pd.DataFrame) -> alt.Chart:
    """Median spend by plan year and kind, £ million, a column of bars per run."""
    data = frame[~frame["item"].str.startswith("lever: ") & (frame["item"] != "total")]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("plan year:N", title="plan year", axis=alt.Axis(labelAngle=0)), xOffset="run:N",
        y=alt.Y("sum(p50):Q", title="£ million (median)", stack=True),
        color=alt.Color("item:N", title="kind", legend=alt.Legend(orient="top"), scale=alt.Scale(scheme="tableau10")),
        opacity=alt.Opacity("run:N", legend=alt.Legend(orient="top", title="run"), scale=alt.Scale(range=[0.55, 1])),
        tooltip=["run:N", "plan year:N", "item:N", alt.Tooltip("p50:Q", format=",.1f", title="£m median"),
                 alt.Tooltip("p5:Q", format=",.1f", title="5th percentile"),
                 alt.Tooltip("p95:Q", format=",.1f", title="95th percentile")],
    ).properties(height=260)
