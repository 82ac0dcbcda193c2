"""The standard figures of a results dataset (a run) or an experiment store (a ``scenario`` dim), and
of an experiment's comparison table. Each function returns a ``matplotlib.figure.Figure`` drawn on
the Agg canvas (no screen needed); ``standard_figures`` writes them all as PNG."""
from .common import PlotError
from .comparison import cost_vs_gap, lever_comparison
from .fan import fan_chart
from .inputs import open_results
from .pipeline import pipeline_chart
from .rollup import rollup
from .standard import describe_figure, standard_figures

__all__ = ["PlotError", "cost_vs_gap", "describe_figure", "fan_chart", "lever_comparison", "open_results",
           "pipeline_chart", "rollup", "standard_figures"]
