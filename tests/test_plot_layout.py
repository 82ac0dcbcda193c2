"""The standard figures read well: every text inside the figure, no two labels on top of each other,
y axes from zero where a gap is read, legend colours equal to the drawn series, dates in titles."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.text import Text

from sim.plots import cost_vs_gap, fan_chart, lever_comparison, pipeline_chart, rollup
from tests.test_plots import NURSE, experiment, region, table  # noqa: F401 - fixtures

MONTH_YEAR = r"(January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"


def agg(fig):
    """The figure on an Agg canvas (as savefig draws it), drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def shown_ticks(axis) -> list[Text]:
    """The tick labels an axis draws (those of ticks within its view; matplotlib keeps others, unseen)."""
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * max(1.0, abs(hi - lo))
    return [t.label1 for t in axis.get_major_ticks()
            if lo - eps <= t.get_loc() <= hi + eps and t.label1.get_visible() and t.label1.get_text().strip()]


def drawn_texts(fig) -> list[Text]:
    """Every text the figure draws: titles, labels, legends, annotations and the tick labels in view."""
    agg(fig)
    ticks = {id(t.label1) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in axis.get_major_ticks()}
    ticks |= {id(t.label2) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in axis.get_major_ticks()}
    out = [t for t in fig.findobj(Text) if id(t) not in ticks and t.get_visible() and t.get_text().strip()
           and (t.axes is None or t.axes.get_visible())]
    return out + [t for ax in fig.axes if ax.get_visible() for axis in (ax.xaxis, ax.yaxis) for t in shown_ticks(axis)]


def assert_readable(fig) -> None:
    """Every drawn text lies inside the figure; the tick labels of an axis, and its annotations, do not overlap."""
    agg(fig)
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    for t in drawn_texts(fig):
        bb = t.get_window_extent(renderer)
        assert bb.x0 >= box.x0 - 1 and bb.y0 >= box.y0 - 1 and bb.x1 <= box.x1 + 1 and bb.y1 <= box.y1 + 1, \
            f"text {t.get_text()!r} clipped: {bb} outside {box}"
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for labels in (shown_ticks(ax.xaxis), shown_ticks(ax.yaxis), [t for t in ax.texts if t.get_text().strip()]):
            boxes = [t.get_window_extent(renderer) for t in labels]
            for (a, ta), (b, tb) in itertools.combinations(zip(boxes, labels), 2):
                assert not a.overlaps(b), f"{ta.get_text()!r} overlaps {tb.get_text()!r}"


def test_fan_chart_reads_well(region):
    fig = fan_chart(region)
    assert_readable(fig)
    for ax in fig.axes:
        if ax.get_visible() and ax.lines:
            assert ax.get_ylim()[0] == 0                      # the gap is read between the lines: from zero
    title = fig.legends[0].get_title().get_text()
    assert __import__("re").search(f"{MONTH_YEAR} to {MONTH_YEAR}", title), title
    legend = fig.legends[0]
    ax = next(a for a in fig.axes if a.lines)
    drawn = {line.get_label(): to_rgba(line.get_color()) for line in ax.lines}
    for handle, text in zip(legend.legend_handles, legend.get_texts()):
        name = text.get_text().rsplit(",", 1)[0]
        if name in drawn:                                     # a series: the legend's line has its colour
            assert to_rgba(handle.get_color()) == drawn[name]
    band_colours = {to_rgba(c.get_facecolor()[0])[:3] for c in ax.collections}
    assert band_colours == {to_rgba(line.get_color())[:3] for line in ax.lines}   # bands drawn in series colours
    texts = [t.get_text() for t in legend.get_texts()]
    assert any("middle 90%" in t for t in texts)


def test_fan_chart_legend_bands_carry_both_series_colours(region):
    fig = agg(fan_chart(region))
    legend = fig.legends[0]
    patches = [p for p in legend.findobj() if type(p).__name__ == "Rectangle" and p.get_visible()
               and p.get_width() > 0 and p.get_facecolor()[3] < 1]
    colours = {tuple(np.round(p.get_facecolor()[:3], 3)) for p in patches}
    want = {tuple(np.round(to_rgba(c)[:3], 3)) for c in ("tab:blue", "tab:red")}
    assert want <= colours, colours


@pytest.mark.parametrize("draw", [
    lambda ds, t: pipeline_chart(ds, NURSE, scenario="train"),
    lambda ds, t: rollup(ds, "gap_fte", scenario="train"),
    lambda ds, t: lever_comparison(t, NURSE, "2029-03"),
    lambda ds, t: cost_vs_gap(t, NURSE, "2031-03"),
    lambda ds, t: fan_chart(ds, scenario="train"),
], ids=["pipeline", "rollup", "lever_comparison", "cost_vs_gap", "fan_experiment"])
def test_figures_keep_text_inside_and_apart(draw, experiment, table):
    fig = draw(experiment, table)
    assert_readable(fig)
    titles = " ".join(" ".join(t.get_text() for t in [fig._suptitle] + [lg.get_title() for lg in fig.legends] if t).split())
    assert __import__("re").search(MONTH_YEAR + r"|\d{4}/\d{2} to \d{4}/\d{2}", titles), titles


def test_cost_vs_gap_axes_include_zero(table):
    fig = cost_vs_gap(table, NURSE, "2031-03")
    ax = agg(fig).axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= 0 <= x1 and y0 <= 0 <= y1
