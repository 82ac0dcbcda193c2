"""The ``wfsim`` command line. Bad input exits 2 with one line per problem; never a traceback."""
from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .scenario.loading import ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="wfsim: stochastic workforce pipelines for integrated care systems.")
out_console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True)

DEFAULT_SCENARIO = Path(__file__).parent / "data" / "baseline_ics.yaml"


class Engine(str, Enum):
    kernel = "kernel"
    agents = "agents"


class Every(str, Enum):
    month = "month"
    quarter = "quarter"
    year = "year"


def _bad_input(lines: list[str]) -> None:
    for line in lines:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _set_threads(threads: Optional[int]) -> None:
    if threads is None:
        return
    import numba

    top = numba.config.NUMBA_NUM_THREADS
    if threads > top:
        _bad_input([f"--threads: at most {top} on this machine; got {threads}"])
    numba.set_num_threads(threads)


@app.command()
def run(
    scenario: Optional[Path] = typer.Argument(None, help="scenario YAML; default: the embedded baseline ICS"),
    replicates: Optional[int] = typer.Option(None, "--replicates", "-n", min=1, help="default: the scenario's"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="default: the scenario's"),
    years: Optional[int] = typer.Option(None, "--years", min=1, max=50, help="horizon; default: the scenario's"),
    engine: Engine = typer.Option(Engine.kernel, "--engine"),
    out: Optional[Path] = typer.Option(None, "--out", help="netCDF file; default results/<scenario-name>.nc"),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="worker threads; default: all cores"),
    every: Every = typer.Option(Every.month, "--every", help="output step: month, quarter or year"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or table"),
    trace: Optional[Path] = typer.Option(None, "--trace", help="with --engine agents: write replicate 0's "
                                         "career event log to this file, .csv or .parquet"),
    plan: Optional[list[Path]] = typer.Option(None, "--plan", help="action plan YAML (e.g. configs/levers/"
                                              "train.yaml) whose levers are added to the scenario's; repeatable"),
) -> None:
    """Run a scenario's replicates, write the results dataset, print the summary table."""
    from contextlib import nullcontext

    from . import api
    from .results.summary import cost_table, goals_table, summary_table

    if trace is not None and engine is not Engine.agents:
        _bad_input([f"--trace: only with --engine agents (the {engine.value} engine keeps no individual careers)"])
    if trace is not None and trace.is_dir():
        _bad_input([f"--trace: {trace} is a folder; give a file path ending in .csv or .parquet"])
    if trace is not None:
        from .engines.agents.trace import TraceError, trace_format

        try:
            trace_format(trace)
        except TraceError as e:
            _bad_input([str(e)])
    _set_threads(threads)
    path = scenario or DEFAULT_SCENARIO
    try:
        scn = api.load_scenario(path, plans=plan or ())
    except ScenarioError as e:
        _bad_input(e.lines())
    n = replicates or scn.replicates
    suffix = "".join(f"+{p.stem}" for p in plan or ())
    target = out or Path("results") / f"{scn.name}{suffix}.nc"
    if target.exists() and target.is_dir():
        _bad_input([f"--out: {target} is a folder; give a file path ending in .nc"])
    show = not quiet and sys.stderr.isatty()
    engine_options = nullcontext()
    if engine is Engine.agents:
        from .engines.agents import options

        engine_options = options(workers=threads, trace=trace)
    try:
        if show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TextColumn

            with engine_options, Progress(TextColumn("replicates"), BarColumn(), MofNCompleteColumn(),
                                          TimeElapsedColumn(), console=err_console) as bar:
                task = bar.add_task("run", total=n)
                ds = api.run(scn, replicates=n, seed=seed, engine=engine.value, years=years, every=every.value,
                             progress=lambda done, total: bar.update(task, completed=done))
        else:
            with engine_options:
                ds = api.run(scn, replicates=n, seed=seed, engine=engine.value, years=years, every=every.value)
    except ScenarioError as e:
        _bad_input(e.lines())
    except NotImplementedError as e:
        _bad_input([f"--engine {engine.value}: {e}"])
    target.parent.mkdir(parents=True, exist_ok=True)
    from .results.io import write_netcdf

    write_netcdf(ds, target)
    if not quiet:
        out_console.print(summary_table(ds))
        out_console.print(cost_table(ds))
        levers_spend = cost_table(ds, by_lever=True)
        if levers_spend is not None:
            out_console.print(levers_spend)
        goals = goals_table(ds, scn.goals)
        if goals is not None:
            out_console.print(goals)
    out_console.print(f"wrote {target}", highlight=False)
    if trace is not None:
        out_console.print(f"wrote trace {trace} (replicate 0; see: wfsim trace {trace} --agent ID)", highlight=False)


@app.command()
def validate(scenario: Path = typer.Argument(..., help="scenario YAML to check"),
             plan: Optional[list[Path]] = typer.Option(None, "--plan", help="action plan YAML to add; repeatable"),
             ) -> None:
    """Check a scenario file: 'valid', or one line per problem naming the field (exit 2)."""
    from .scenario import load_scenario

    try:
        load_scenario(scenario, plans=plan or ())
    except ScenarioError as e:
        _bad_input(e.lines())
    out_console.print("valid", highlight=False)


@app.command()
def levers() -> None:
    """List the lever plugins: name, People Function area, levels and parameters."""
    from rich.table import Table

    from .levers import Lever, registry

    t = Table(title="lever plugins")
    for col in ("lever", "area", "levels", "parameters"):
        t.add_column(col)
    common = set(Lever.model_fields)
    for name, cls in sorted(registry().items()):
        props = cls.model_json_schema(by_alias=True)["properties"]
        params = [f"{k}: {props.get(k, {}).get('description', '')}" for k in cls.model_fields if k not in common]
        t.add_row(name, str(cls.area), ", ".join(cls.levels), "\n".join(params))
    out_console.print(t)


@app.command("trace")
def trace_command(
    path: Path = typer.Argument(..., help="trace (.csv or .parquet) written by: wfsim run --engine agents "
                                "--trace PATH"),
    agent: int = typer.Option(..., "--agent", help="the agent (person) id, column agent_id of the trace"),
) -> None:
    """Print one agent's career (every event, in time order) from an agents-engine trace."""
    from .engines.agents.trace import TraceError, career, career_table

    try:
        rows = career(path, agent)
    except TraceError as e:
        _bad_input([str(e)])
    out_console.print(career_table(rows, agent))


@app.command("plot")
def plot_command(
    results: Path = typer.Argument(..., help="a run's netCDF file (wfsim run) or an experiment's .zarr store"),
    out: Optional[Path] = typer.Option(None, "--out", help="folder for the PNG files; default "
                                       "results/figures/<name>/"),
    scenario: Optional[str] = typer.Option(None, "--scenario", help="an experiment's scenario to draw (fan chart, "
                                           "pipeline, roll-up); default: every scenario's fan chart, the baseline's rest"),
    profession: Optional[str] = typer.Option(None, "--profession", help="only this profession; default: all"),
) -> None:
    """Write the standard figures as PNG: supply and demand fan charts, joiners and leavers, the gap by
    place and ICS, and, for an experiment with a comparison.csv, gap reduction and cost by scenario."""
    from .plots import PlotError, open_results, standard_figures

    try:
        ds, table = open_results(results)
        name = ds.attrs.get("experiment_name") if results.is_dir() else None
        target = out or Path("results") / "figures" / str(name or results.stem or "results")
        if target.exists() and not target.is_dir():
            _bad_input([f"--out: {target} is a file; give a folder"])
        paths = standard_figures(ds, target, table=table, scenario=scenario, profession=profession)
    except PlotError as e:
        _bad_input([str(e)])
    for path in paths:
        out_console.print(f"wrote {path}", highlight=False)


@app.command()
def bench(quick: bool = typer.Option(False, "--quick", help="a reduced run for a smoke test")) -> None:
    """Run the benchmark suite (benchmarks/ of a source checkout) and print its table."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / "benchmarks" / "run.py").exists():
        _bad_input(["bench: benchmarks/run.py not found; run from a source checkout of wfsim"])
    cmd = [sys.executable, "-m", "benchmarks.run"] + (["--quick"] if quick else [])
    raise typer.Exit(subprocess.call(cmd, cwd=root))


from .experiments.command import experiment_command, report_command  # noqa: E402  (imports nothing heavy)

app.command("experiment")(experiment_command)
app.command("report")(report_command)
from .evidence.command import register as _register_evidence  # noqa: E402  (imports nothing heavy)
_register_evidence(app)


def main() -> None:
    """Entry point: exit 2 for bad input (typer/click usage errors included), 1 for internal errors."""
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as e:  # an unexpected internal error: say so plainly, exit 1
        if os.environ.get("WFSIM_DEBUG"):
            raise
        err_console.print(f"internal error: {type(e).__name__}: {e} (set WFSIM_DEBUG=1 for the traceback)",
                          markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
