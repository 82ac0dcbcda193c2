"""The Typer app of the ``wfsim`` command: every command, registered from the module of its family."""
from __future__ import annotations

import typer

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


__all__ = ["app"]
