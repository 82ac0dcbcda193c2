"""``wfsim experiment FILE`` (run or resume an experiment, then print and save its comparison table) and
``wfsim report`` (the experiment's report)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..console import bad_input, err_console, out_console, say
from ..scenario import ScenarioError
from ..vocabulary import COMPARISON, RESULTS_FOLDER, STORE


def experiment(
    experiment: Path = typer.Argument(..., help="experiment YAML, or a shipped experiment's name (hee_supply_levers)"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder; default results/<experiment-name>/"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="worker processes; default: all cores"),
    dask: Optional[str] = typer.Option(None, "--dask", help="'local' to start a dask LocalCluster, or a scheduler "
                                                             "address (tcp://host:port); default: local processes"),
    restart: bool = typer.Option(False, "--restart", help="discard finished blocks in the output folder and start "
                                                          "again"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or table"),
) -> None:
    """Run an experiment grid (variants × futures) block by block; interrupted, the same command resumes."""
    from ..experiments import blocks, comparison, comparison_table, load_experiment, open_experiment, run_experiment
    from ..experiments.compare import goals_table

    try:
        exp = load_experiment(experiment)
    except ScenarioError as e:
        bad_input(e.lines())
    target = out or RESULTS_FOLDER / exp.name
    if target.exists() and not target.is_dir():
        bad_input([f"--out: {target} is a file; give a folder"])
    show = not quiet and sys.stderr.isatty()
    n_blocks = len(blocks(exp))
    if not quiet:
        say(f"experiment {exp.name}: {len(exp.runs)} runs × {exp.spec.replicates} replicates "
            f"= {n_blocks} blocks of ≤{exp.spec.block}; output {target}")
    try:
        if show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
                TimeRemainingColumn

            with Progress(TextColumn("blocks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          TimeRemainingColumn(), console=err_console) as bar:
                task = bar.add_task("experiment", total=n_blocks)
                info = run_experiment(exp, target, workers=workers, dask=dask, restart=restart,
                                      progress=lambda done, total: bar.update(task, completed=done))
        else:
            info = run_experiment(exp, target, workers=workers, dask=dask, restart=restart)
    except ScenarioError as e:
        bad_input(e.lines())
    except KeyboardInterrupt:
        err_console.print(f"interrupted: finished blocks are kept in {target}; run the same command to resume")
        raise typer.Exit(130)
    ds = open_experiment(target)
    table = comparison(ds)
    table.to_csv(target / COMPARISON, index=False, float_format="%.6g")
    if not quiet:
        out_console.print(comparison_table(table))
        goals = goals_table(table)
        if goals is not None:
            out_console.print(goals)
    resumed = f", resumed with {info['resumed_from']} blocks already done" if info["resumed_from"] else ""
    did = (f"all {info['blocks']} blocks were already in the store" if not info["computed"] else
           f"{info['computed']} of {info['blocks']} blocks computed in {info['seconds']:.1f} s with "
           f"{info['workers']} {info['backend']}{resumed}")
    say(f"{did}; wrote {target / STORE} and {target / COMPARISON}")


def report(
    results: Path = typer.Argument(..., help="an experiment's output folder (results/<experiment-name>)"),
    fmt: str = typer.Option("html", "--format", help="html (one self-contained file) or md (Markdown with the "
                                                     "PNG figures beside it)"),
    out: Optional[Path] = typer.Option(None, "--out", help="report file; default <folder>/report.html or .md"),
) -> None:
    """Write the experiment's report: question, runs, ranked comparison, goals, figures, provenance and
    the STRESS reporting checklist."""
    from ..experiments.report import ReportError, write_report
    from ..plots import PlotError

    if fmt not in ("html", "md"):
        bad_input([f"--format: expected html or md; got {fmt!r}"])
    if out is not None and out.is_dir():
        bad_input([f"--out: {out} is a folder; give a file path"])
    try:
        path = write_report(results, fmt, out)
    except (ReportError, PlotError) as e:
        bad_input([str(e)])
    say(f"wrote {path}")
