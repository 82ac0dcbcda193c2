"""The best plan under a budget: search lever sizes and timing for the cheapest plan (or the smallest gap,
or the Pareto frontier of spend, gap and risk) that meets the goals with a stated probability.

``wfsim optimise FILE`` (``sim/cli/optimise.py``) loads the file (``spec``), applies its futures with the
experiment machinery, checks it against the scenario (``problem``), searches with optuna in worker
processes on common random numbers (``search``), and re-runs the chosen plans on fresh replicates as an
experiment (``fresh``), whose report gains this package's section (``report``). The names below are
imported on first use, so the command line starts fast.
"""
from importlib import import_module

_WHERE = {
    "load_optimisation": "spec", "OptimisationSpec": "spec", "prepare": "problem", "Problem": "problem",
    "run_search": "search", "SearchResult": "search", "judge": "search",
    "evaluation_experiment": "fresh", "chosen_plans": "fresh", "fresh_table": "fresh",
    "pareto_figure": "plots", "optimise_section": "report", "write_plan": "outputs", "summary": "outputs",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
