"""The ``wfsim`` command line: one module per family of commands, registered on one Typer app here.

Bad input exits 2 with one line per problem (``sim.console.bad_input``); never a traceback. Adding a
command: see docs/CONTRIBUTING.md.
"""
from __future__ import annotations

import os
import sys

import typer

from ..console import err_console
from ..vocabulary import DISTRIBUTION, package_version
from . import benchmarks, evidence, experiments, figures, optimise, scenarios, simulation, webapp

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="wfsim: stochastic workforce pipelines for integrated care systems.")



def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"wfsim {package_version()} (package {DISTRIBUTION})")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                          help="print wfsim's version and exit")) -> None:
    pass


app.command("run")(simulation.run)
app.command("validate")(scenarios.validate)
app.command("levers")(scenarios.levers)
app.command("schema")(scenarios.schema)
app.command("trace")(simulation.trace)
app.command("plot")(figures.plot)
app.command("bench")(benchmarks.bench)
app.command("experiment")(experiments.experiment)
app.command("report")(experiments.report)
app.command("app")(webapp.app_command)
app.command("sensitivity")(evidence.sensitivity_command)
app.command("calibrate")(evidence.calibrate_command)
app.command("backtest")(evidence.backtest_command)
app.command("optimise")(optimise.optimise_command)


def main() -> None:
    """Entry point: exit 2 for bad input (typer/click usage errors included), 1 for internal errors
    (Typer itself turns Ctrl-C into exit 130)."""
    try:
        app(standalone_mode=True)
    except Exception as e:  # an unexpected internal error: say so plainly, exit 1
        if os.environ.get("WFSIM_DEBUG"):
            raise
        err_console.print(f"internal error: {type(e).__name__}: {e} (set WFSIM_DEBUG=1 for the traceback)",
                          markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


__all__ = ["app", "main"]
