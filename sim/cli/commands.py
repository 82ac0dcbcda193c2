"""The Typer app of the ``wfsim`` command: every command, registered from the module of its family."""
from __future__ import annotations

import typer

from . import benchmarks, experiments, figures, scenarios, simulation

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="wfsim: stochastic workforce pipelines for integrated care systems.")

app.command("run")(simulation.run)
app.command("validate")(scenarios.validate)
app.command("levers")(scenarios.levers)
app.command("schema")(scenarios.schema)
app.command("trace")(simulation.trace)
app.command("plot")(figures.plot)
app.command("bench")(benchmarks.bench)
app.command("experiment")(experiments.experiment)
app.command("report")(experiments.report)


__all__ = ["app"]
