"""``wfsim experiment FILE`` (run or resume an experiment, then print and save its comparison table) and
``wfsim report`` (the experiment's report)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..console import bad_input, err_console, out_console, say
from ..limits import WORKERS
from ..scenario import ScenarioError
from ..vocabulary import COMPARISON, MANIFEST, RESULTS_FOLDER, STORE
from .interrupts import INTERRUPTED, Interrupted, say_interrupted


def experiment(
    experiment: Path = typer.Argument(..., help="experiment YAML, or a shipped experiment's name (hee_supply_levers)"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder; default results/<experiment-name>/"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, max=WORKERS,
                                          help=f"worker processes, 1 to {WORKERS}; default: all cores"),
    dask: Optional[str] = typer.Option(None, "--dask", help="'local' to start a dask LocalCluster, or a scheduler "
                                                             "address (tcp://host:port); default: local processes"),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, max=WORKERS,
                                          help="the kernel's threads in each worker; default: the cores shared out "
                                               "over the workers (results are the same whatever the number)"),
    restart: bool = typer.Option(False, "--restart", help="discard finished blocks in the output folder and start "
                                                          "again"),
    verify: bool = typer.Option(False, "--verify", help="check the stored blocks against their checksums and "
                                                        "report damaged or missing ones; runs nothing, writes nothing"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or table"),
) -> None:
    """Run an experiment grid (variants × futures) block by block; interrupted, the same command resumes
    (after verifying the blocks already stored)."""
    from ..experiments import blocks, comparison, load_experiment, open_experiment, run_experiment
    from ..outputs import OutputError, atomic, check_folder

    try:
        exp = load_experiment(experiment)
    except ScenarioError as e:
        bad_input(e.lines())
    target = out or RESULTS_FOLDER / exp.name
    if verify:
        try:
            _verify(exp, target)
        except OSError as e:                    # an --out that cannot be read (a name too long, …)
            bad_input([f"--verify: cannot read {target}: {e.strerror or e}"])
        return
    try:
        check_folder(target, "--out")
    except OutputError as e:
        bad_input([str(e)])
    show = not quiet and sys.stderr.isatty()
    n_blocks = len(blocks(exp))
    if not quiet:
        say(f"experiment {exp.name}: {len(exp.runs)} runs × {exp.spec.replicates} replicates "
            f"= {n_blocks} blocks of ≤{exp.spec.block}; output {target}")
        if exp.spec.engine == "kernel" and not dask:
            from ..engines import kernel_compiled
            from .simulation import say_compiling

            if not kernel_compiled():
                say_compiling()
    try:
        if show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
                TimeRemainingColumn

            with Progress(TextColumn("blocks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          TimeRemainingColumn(), console=err_console) as bar:
                task = bar.add_task("experiment", total=n_blocks)
                info = run_experiment(exp, target, workers=workers, dask=dask, restart=restart, threads=threads,
                                      progress=lambda done, total: bar.update(task, completed=done))
        else:
            info = run_experiment(exp, target, workers=workers, dask=dask, restart=restart, threads=threads)
    except ScenarioError as e:
        bad_input(e.lines())
    except (KeyboardInterrupt, Interrupted):
        say_interrupted(f"interrupted: finished blocks are kept in {target}; run the same command to resume")
        raise typer.Exit(INTERRUPTED)
    ds = open_experiment(target)
    table = comparison(ds)
    with atomic(target / COMPARISON) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    if not quiet:
        print_comparison(table, target / COMPARISON)
    for line in info["damaged"]:
        say(f"recomputed {line}")
    resumed = f", resumed with {info['resumed_from']} blocks already done" if info["resumed_from"] else ""
    did = (f"all {info['blocks']} blocks were already in the store (verified)" if not info["computed"] else
           f"{info['computed']} of {info['blocks']} blocks computed in {info['seconds']:.1f} s with "
           f"{info['workers']} {info['backend']} × {info['threads']} thread{'s' if info['threads'] > 1 else ''}"
           f"{resumed}")
    say(f"{did}; wrote {target / STORE} and {target / COMPARISON}")


def print_comparison(table, csv: Path, console=None) -> None:
    """The comparison and goals tables, wide where they fit the terminal, else narrow (every column of
    the comparison is in ``csv``)."""
    from ..console import fits
    from ..experiments import comparison_table
    from ..experiments.compare import goals_table

    console = console or out_console
    for build in (lambda narrow: comparison_table(table, narrow=narrow), lambda narrow: goals_table(table, narrow)):
        t = build(False)
        if t is None:
            continue
        if fits(t, console):
            console.print(t)
        else:
            console.print(build(True))
            console.print(f"\nevery column and percentile: {csv}", markup=False, highlight=False)


def _verify(exp, target: Path) -> None:
    """``--verify``: every block of the store against its checksum; exit 2 naming each bad block."""
    from ..experiments.runner import verify_store
    from ..experiments.store import Manifest

    store = target / STORE
    manifest = Manifest.read(target / MANIFEST)
    if not store.is_dir() or manifest is None:
        bad_input([f"--verify: no results of experiment {exp.name} in {target} (expected {store} and "
                   f"{target / MANIFEST}; run the experiment first)"])
    if manifest.get("fingerprint") != exp.fingerprint():
        bad_input([f"--verify: {target} holds results of a different experiment definition (the experiment or a "
                   "scenario it uses has changed since it ran)"])
    try:
        checks = verify_store(exp, target, manifest)
    except ScenarioError as e:
        bad_input(e.lines())
    bad = [c for c in checks if c.state != "ok"]
    if bad:
        bad_input([f"--verify: {c.line()}" for c in bad] +
                  [f"--verify: {len(checks) - len(bad)} of {len(checks)} blocks match their checksums; run the "
                   "experiment again to compute the others"])
    say(f"verified {store}: {len(checks)} of {len(checks)} blocks match their checksums")


def report(
    results: Path = typer.Argument(..., help="an experiment's output folder (results/<experiment-name>)"),
    fmt: str = typer.Option("html", "--format", help="html (one self-contained file) or md (Markdown with the "
                                                     "PNG figures beside it)"),
    out: Optional[Path] = typer.Option(None, "--out", help="report file; default <folder>/report.html or .md"),
) -> None:
    """Write the experiment's report: question, runs, ranked comparison, goals, figures, provenance and
    the STRESS reporting checklist."""
    from ..experiments.report import ReportError, write_report
    from ..outputs import OutputError
    from ..plots import PlotError

    if fmt not in ("html", "md"):
        bad_input([f"--format: expected html or md; got {fmt!r}"])
    try:
        path, replaced = write_report(results, fmt, out)
    except (ReportError, PlotError, OutputError) as e:
        bad_input([str(e)])
    except OSError as e:                        # a results path that cannot be read (a name too long, …)
        bad_input([f"{results}: cannot read: {e.strerror or e}"])
    say(f"wrote {path}" + (" (replacing the previous report)" if replaced else ""))
