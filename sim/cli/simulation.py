"""``wfsim run`` (a scenario's replicates, written as netCDF, summarised) and ``wfsim trace`` (one career
from an agents-engine trace)."""
from __future__ import annotations

import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Optional

import typer

from ..console import bad_input, err_console, out_console, say
from ..scenario import ScenarioError
from ..limits import REPLICATES, SEED, YEARS
from ..vocabulary import DEFAULT_ENGINE, DEFAULT_LEVEL, DEFAULT_OUTPUT_STEP, DEFAULT_SCENARIO, RESULTS_FOLDER
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
    out: Optional[Path] = typer.Option(None, "--out", help="netCDF file; default results/<scenario-name>.nc (+<plan> for each --plan, +agents with --engine agents); the summary CSV is written beside it"),
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
    """Run a scenario's replicates, write the results dataset and its summary CSV, print the summary table."""
    from .. import runs

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
    target = out or default_output(scn.name, engine.value, action_plans)
    replacing = _check_out(target, trace)
    csv = summary_path(target)
    csv_replacing = _check_csv(csv)
    if not quiet and not agents:
        from ..engines import kernel_compiled

        if not kernel_compiled():
            say_compiling()
    engine_options = nullcontext()
    if agents:
        from ..engines.agents import options

        engine_options = options(workers=threads, trace=trace)
    try:
        with engine_options, replicate_progress(n, show=not quiet and sys.stderr.isatty()) as progress:
            ds = runs.run(scn, replicates=n, seed=seed, engine=engine.value, years=years, every=every.value,
                          level=level.value, progress=progress)
    except ScenarioError as e:
        bad_input(e.lines())
    from ..results.io import write_netcdf
    from ..results.summary import write_summary_csv

    write_netcdf(ds, target)
    write_summary_csv(ds, csv)
    if not quiet:
        print_run_tables(ds, scn.goals, csv)
        if ds.attrs.get("owners_over_budget"):
            say(f"over budget (levers scaled down; see scale): {ds.attrs['owners_over_budget']}")
    say(f"wrote {target}" + (" (replacing the previous results)" if replacing else ""))
    say(f"wrote {csv}" + (" (replacing the previous summary)" if csv_replacing else ""))
    if trace is not None:
        say(f"wrote trace {trace} (replicate 0; see: wfsim trace {trace} --agent ID)")


COMPILING = "compiling the simulation kernel (first run only, about 1–2 minutes)…"


def say_compiling() -> None:
    """One line on stderr before a run that compiles the kernel (numba's cache is cold)."""
    err_console.print(COMPILING, markup=False, highlight=False)


def default_output(name: str, engine: str, plans) -> Path:
    """results/<scenario>[+plan…][+engine].nc: runs of other plans or another engine never share a file
    (the default engine keeps the plain name)."""
    suffix = "".join(f"+{Path(p).stem}" for p in plans or ())
    suffix += f"+{engine}" if engine != DEFAULT_ENGINE else ""
    return RESULTS_FOLDER / f"{name}{suffix}.nc"


def summary_path(target: Path) -> Path:
    """The summary CSV beside a results file: results/x.nc → results/x.summary.csv."""
    return target.with_name(f"{target.stem if target.suffix == '.nc' else target.name}.summary.csv")


@contextmanager
def replicate_progress(total: int, show: bool):
    """A progress bar of replicates on stderr (a terminal only), advanced by ``sim.run``'s callback after
    each batch; yields the callback (None when not shown)."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("replicates"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console) as bar:
        task = bar.add_task("run", total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def print_run_tables(ds, goals, csv: Path | None = None, console=None) -> None:
    """The summary, spend and goals tables, each wide where it fits the terminal, else narrow."""
    from ..console import fits
    from ..results.tables import cost_table, goals_table, level_table, owner_table, summary_table

    console = console or out_console
    builders = [lambda narrow: summary_table(ds, narrow, csv=str(csv) if csv else None),
                lambda narrow: cost_table(ds, narrow=narrow), lambda narrow: cost_table(ds, True, narrow=narrow),
                lambda narrow: owner_table(ds, narrow), lambda narrow: level_table(ds, narrow),
                lambda narrow: goals_table(ds, goals, narrow=narrow)]
    for build in builders:
        table = build(False)
        if table is None:
            continue
        console.print(table if fits(table, console) else build(True))


def _check_csv(csv: Path) -> bool:
    from ..outputs import OutputError, check_file
    from ..results.summary import is_summary_csv

    try:
        return check_file(csv, "--out", is_summary_csv, "run summary (CSV)")
    except OutputError as e:
        bad_input([str(e)])


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
