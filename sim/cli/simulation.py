"""``wfsim run`` (a scenario's replicates, written as netCDF, summarised) and ``wfsim trace`` (one career
from an agents-engine trace)."""
from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Optional

import typer

from ..console import bad_input, err_console, out_console, say
from ..scenario import ScenarioError
from ..limits import REPLICATES, SEED, YEARS
from ..vocabulary import DEFAULT_ENGINE, DEFAULT_LEVEL, DEFAULT_SCENARIO, DEFAULT_OUTPUT_STEP, RESULTS_FOLDER
from .options import Engine, Every, Level, set_threads


def run(
    scenario: Optional[Path] = typer.Argument(None, help="scenario YAML; default: the embedded baseline ICS"),
    replicates: Optional[int] = typer.Option(None, "--replicates", "-n", min=1, max=REPLICATES,
                                             help=f"1 to {REPLICATES:,}; default: the scenario's"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, max=SEED,
                                       help=f"0 to {SEED:,} (2^63 - 1); default: the scenario's"),
    years: Optional[int] = typer.Option(None, "--years", min=1, max=YEARS,
                                        help=f"horizon, 1 to {YEARS}; default: the scenario's"),
    engine: Engine = typer.Option(Engine(DEFAULT_ENGINE), "--engine"),
    out: Optional[Path] = typer.Option(None, "--out", help="netCDF file; default results/<scenario-name>.nc"),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="worker threads; default: all cores"),
    every: Every = typer.Option(Every(DEFAULT_OUTPUT_STEP), "--every", help="output step: month, quarter or year"),
    level: Level = typer.Option(Level(DEFAULT_LEVEL), "--level", help="areas the results are summed to: provider, "
                                "place, ics, region or nation"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or table"),
    trace: Optional[Path] = typer.Option(None, "--trace", help="with --engine agents: write replicate 0's "
                                         "career event log to this file, .csv or .parquet"),
    action_plans: Optional[list[Path]] = typer.Option(
        None, "--plan", help="action plan whose levers are added to the scenario's: a YAML file, or the name of a "
        "shipped plan (train, retain, reform, all); repeatable"),
) -> None:
    """Run a scenario's replicates, write the results dataset, print the summary table."""
    from .. import runs
    from ..results.summary import cost_table, goals_table, level_table, owner_table, summary_table

    agents = engine.value == "agents"
    if trace is not None and not agents:
        bad_input([f"--trace: only with --engine agents (the {engine.value} engine keeps no individual careers)"])
    if trace is not None:
        from ..engines.agents.trace import TraceError, trace_format

        try:
            trace_format(trace)
        except TraceError as e:
            bad_input([str(e)])
    if out is not None:
        _check_out(out, None)                   # before the scenario: a hopeless --out is said at once
    set_threads(threads)
    try:
        scn = runs.load_scenario(scenario or DEFAULT_SCENARIO, plans=action_plans or ())
    except ScenarioError as e:
        bad_input(e.lines())
    n = replicates or scn.replicates
    suffix = "".join(f"+{p.stem}" for p in action_plans or ())
    target = out or RESULTS_FOLDER / f"{scn.name}{suffix}.nc"
    replacing = _check_out(target, trace)
    show = not quiet and sys.stderr.isatty()
    engine_options = nullcontext()
    if agents:
        from ..engines.agents import options

        engine_options = options(workers=threads, trace=trace)
    try:
        if show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TextColumn

            with engine_options, Progress(TextColumn("replicates"), BarColumn(), MofNCompleteColumn(),
                                          TimeElapsedColumn(), console=err_console) as bar:
                task = bar.add_task("run", total=n)
                ds = runs.run(scn, replicates=n, seed=seed, engine=engine.value, years=years, every=every.value,
                              level=level.value, progress=lambda done, total: bar.update(task, completed=done))
        else:
            with engine_options:
                ds = runs.run(scn, replicates=n, seed=seed, engine=engine.value, years=years, every=every.value,
                              level=level.value)
    except ScenarioError as e:
        bad_input(e.lines())
    from ..results.io import write_netcdf

    write_netcdf(ds, target)
    if not quiet:
        out_console.print(summary_table(ds))
        out_console.print(cost_table(ds))
        levers_spend = cost_table(ds, by_lever=True)
        if levers_spend is not None:
            out_console.print(levers_spend)
        for table in (owner_table(ds), level_table(ds)):
            if table is not None:
                out_console.print(table)
        if ds.attrs.get("owners_over_budget"):
            say(f"over budget (levers scaled down; see scale): {ds.attrs['owners_over_budget']}")
        goals = goals_table(ds, scn.goals)
        if goals is not None:
            out_console.print(goals)
    say(f"wrote {target}" + (" (replacing the previous results)" if replacing else ""))
    if trace is not None:
        say(f"wrote trace {trace} (replicate 0; see: wfsim trace {trace} --agent ID)")


def _check_out(target: Path, trace: Optional[Path]) -> bool:
    """--out (and --trace) can be written, and replace only wfsim's own files; True if --out exists."""
    from ..outputs import OutputError, check_file
    from ..results.io import is_results_file

    try:
        if trace is not None:
            from ..engines.agents.trace import is_trace_file

            check_file(trace, "--trace", is_trace_file, "trace")
        return check_file(target, "--out", is_results_file, "results file (netCDF)")
    except OutputError as e:
        bad_input([str(e)])


def trace(
    path: Path = typer.Argument(..., help="trace (.csv or .parquet) written by: wfsim run --engine agents "
                                "--trace PATH"),
    agent: int = typer.Option(..., "--agent", min=0, max=SEED, help="the agent (person) id, column agent_id of "
                              "the trace"),
) -> None:
    """Print one agent's career (every event, in time order) from an agents-engine trace."""
    from ..engines.agents.trace import TraceError, career, career_table

    try:
        rows = career(path, agent)
    except TraceError as e:
        bad_input([str(e)])
    except OSError as e:                        # a name too long, a folder, no permission, …
        bad_input([f"{path}: cannot read: {e.strerror or e}"])
    out_console.print(career_table(rows, agent))
