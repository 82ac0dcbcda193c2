"""The run layer: load a scenario with the registered levers, run it on an engine (or project its
expectation), take the annual reviews of adaptive action plans, cost the levers, and build the results.

It is the highest layer below the user-facing ones (experiments, plots, the CLI) and the home of the
public functions ``sim.load_scenario``, ``sim.run`` and ``sim.expected``.
"""
from .provenance import provenance, wfsim_version
from .scenarios import check_action_plan, load_scenario, scenario_model, schema_text
from .simulation import expected, run, run_replicates, simulate_replicates, with_horizon

__all__ = ["check_action_plan", "load_scenario", "scenario_model", "schema_text", "run", "expected", "run_replicates",
           "simulate_replicates", "with_horizon", "provenance", "wfsim_version"]
