"""``wfsim optimise FILE``: search lever sizes and timing for the cheapest plan that meets the goals with a
stated probability (or the smallest gap within a budget, or the Pareto frontier), then judge the chosen
plans on fresh replicates as an experiment in the same folder.

The command joins two families: ``sim.optimise`` (the file, the search, the measures, the section of the
report) and ``sim.experiments`` (futures applied as in experiment files; the evaluation run, resumable and
paired, that ``wfsim report`` then reports). Bad input exits 2 naming the field.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..console import bad_input, err_console, out_console, say
from ..limits import WORKERS
from ..vocabulary import COMPARISON, MANIFEST, RESULTS_FOLDER


def optimise_command(
    file: Path = typer.Argument(..., help="optimisation YAML (see configs/optimise/)"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder; default results/<name>/"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, max=WORKERS,
                                          help=f"worker processes, 1 to {WORKERS}; default: all cores (at most the "
                                               "batch)"),
    restart: bool = typer.Option(False, "--restart", help="discard the search and evaluation in the output folder "
                                                          "and start again"),
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="re-run the chosen plans on fresh "
                                                                          "replicates (default) or stop after the search"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or tables"),
) -> None:
    """Search for the best action plan under the goals (optuna, common random numbers, worker processes),
    then judge it on fresh replicates against the base scenario and the hand-written plans; interrupted,
    the same command resumes."""
    from ..scenario import ScenarioError

    try:
        problem = load_problem(file)
    except ScenarioError as e:
        bad_input(e.lines())
    spec = problem.spec
    target = out or RESULTS_FOLDER / spec.name
    if target.exists() and not target.is_dir():
        bad_input([f"--out: {target} is a file; give a folder"])
    s = spec.search
    if not quiet:
        say(f"optimise {spec.name}: {len(problem.variables)} decisions, {s.trials} trials of {s.replicates} "
            f"replicates × {len(problem.futures)} future(s) over {problem.years} years, batches of {s.batch}; "
            f"output {target}")
    try:
        result = _search(problem, target, workers, restart, not quiet and sys.stderr.isatty())
    except ScenarioError as e:
        bad_input(e.lines())
    except KeyboardInterrupt:
        err_console.print(f"interrupted: finished trials are kept in {target}; run the same command to resume")
        raise typer.Exit(130)
    from ..optimise.search import write_trials

    write_trials(result, target)
    fresh = _evaluate(problem, result, target, workers, restart, quiet, str(file)) if evaluate else None
    _finish(problem, result, fresh, target, str(file), quiet)


def load_problem(source):
    """The optimisation file (a path or a dict) checked against its scenario, its futures applied by the
    experiment machinery (so they mean what they mean in experiment files); ScenarioError names each field."""
    from ..experiments import load_experiment
    from ..optimise.fresh import evaluation_experiment
    from ..optimise.problem import prepare
    from ..optimise.spec import load_optimisation
    from ..scenario import ScenarioError

    spec, folder, scenario_path = load_optimisation(source)
    label = str(source) if isinstance(source, (str, Path)) else "optimisation"
    try:
        exp = load_experiment(evaluation_experiment(spec, folder, scenario_path, {}))
    except ScenarioError as e:
        raise ScenarioError(e.problems, label) from None
    bases = {r.future: r.data() for r in exp.runs if r.variant == "baseline"}
    try:
        return prepare(spec, folder, scenario_path, bases)
    except ScenarioError as e:
        raise ScenarioError(e.problems, label) from None


def _search(problem, target: Path, workers, restart: bool, show: bool):
    from ..optimise.search import run_search

    if not show:
        return run_search(problem, target, workers=workers, restart=restart)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    with Progress(TextColumn("trials"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("search", total=problem.spec.search.trials)
        return run_search(problem, target, workers=workers, restart=restart,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))


def _stale(target: Path, fingerprint: str) -> bool:
    """The folder holds an evaluation of other plans (the search found another, or evaluate changed)."""
    try:
        return json.loads((target / MANIFEST).read_text()).get("fingerprint") != fingerprint
    except (OSError, ValueError):
        return False


def _evaluate(problem, result, target: Path, workers, restart: bool, quiet: bool, file: str):
    """Write the evaluation experiment, run (or resume) it into the folder, and judge every plan in it."""
    import yaml

    from ..experiments import comparison, load_experiment, open_experiment, run_experiment
    from ..optimise.fresh import chosen_plans, evaluation_experiment, fresh_table

    plans = chosen_plans(problem, result)
    definition = evaluation_experiment(problem.spec, problem.folder, problem.scenario_path, plans, problem)
    path = target / "evaluation.yaml"
    path.write_text(f"# written by wfsim optimise {file}: the chosen plans on fresh replicates\n"
                    + yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    exp = load_experiment(path)
    if not quiet:
        say(f"evaluation: {len(exp.runs)} runs × {exp.spec.replicates} fresh replicates (seed {exp.spec.seed})")
    run_experiment(exp, target, workers=workers, restart=restart or _stale(target, exp.fingerprint()))
    ds = open_experiment(target)
    comparison(ds).to_csv(target / COMPARISON, index=False, float_format="%.6g")
    return fresh_table(problem, ds), plans


def _finish(problem, result, fresh, target: Path, file: str, quiet: bool) -> None:
    from ..optimise.fresh import OPTIMISED, chosen_plans
    from ..optimise.outputs import FIGURE, PLAN, summary, write_plan, write_summary
    from ..optimise.plots import pareto_figure

    table, plans = fresh if fresh is not None else (None, chosen_plans(problem, result))
    data = summary(problem, result, table, plans, file)
    write_summary(target, data)
    written = [target / "trials.csv", target / "optimisation.json"]
    if OPTIMISED in plans:
        best = data["best"]
        note = [f"Chosen by `wfsim optimise {file}` (trial {best['trial']} of {len(result.trials)}).",
                f"Search replicates: extra spend £{best['search']['spend_m']:,.2f}m"
                + "".join(f", P({c}) {best['search'][f'P({c})']:.3f}" for c in range(1, len(data['constraints']) + 1))]
        if best.get("fresh"):
            f = best["fresh"]
            note.append(f"Fresh replicates ({problem.spec.evaluate.replicates}, seed {problem.spec.fresh_seed}): extra "
                        f"spend £{f['spend_m']:,.2f}m" + "".join(f", P({c}) {f[f'P({c})']:.3f}"
                                                               for c in range(1, len(data['constraints']) + 1)))
        note += [f"Goals: {'; '.join(data['constraints']) or 'none'}", "Run it: wfsim run --plan THIS_FILE"]
        written.append(write_plan(target / PLAN, problem, plans[OPTIMISED][1], note))
    fig = pareto_figure(result.trials, result.front, result.best, table,
                        gap_label=_gap_label(problem),
                        title=f"{problem.spec.name}: plans tried and judged")
    fig.savefig(target / FIGURE, dpi=110)
    written.append(target / FIGURE)
    if not quiet:
        out_console.print(_best_table(problem, data))
        if table is not None:
            out_console.print(_fresh_table(data))
    if data["best"] is None:
        say(data["why_none"])
    say("wrote " + ", ".join(str(p) for p in written) + (f"; the evaluation experiment is in {target} (wfsim report "
                                                         f"{target})" if table is not None else ""))


def _gap_label(problem) -> str:
    if problem.gap_goal < 0:
        return "gap"
    g = problem.goals[problem.gap_goal]
    return f"gap: mean {g.metric} of {g.profession or 'all professions'}\n{g.where or ''} at {g.by}".replace("\n at", "\nat")


def _best_table(problem, data: dict) -> Table:
    t = Table(title=f"{data['name']}: chosen plan (trial {data['best']['trial']})" if data["best"] else
              f"{data['name']}: no plan met the constraints", title_justify="left")
    for col in ("decision", "lever field", "bounds", "chosen"):
        t.add_column(col)
    for name, d in data["decisions"].items():
        t.add_row(name, f"{d['lever']}.{d['field']}", f"{d['low']} to {d['high']}",
                  str(data["best"]["decisions"][name]) if data["best"] else "—")
    return t


def money(x: float) -> str:
    """£ million with two decimals below 10, one above."""
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}"


def _fresh_table(data: dict) -> Table:
    n_con = len(data["constraints"])
    t = Table(title="on fresh replicates: extra spend against the base scenario (£m), gap, risk and each "
                    "constraint's probability (95% interval)", title_justify="left")
    for col in ["plan", "extra spend £m", "gap", "risk"] + [f"P({c})" for c in range(1, n_con + 1)] + \
            (["meets"] if n_con else []):
        t.add_column(col, justify="left" if col == "plan" else "right")
    for r in data["fresh"]:
        cells = [r["variant"], money(r["spend_m"]), "—" if r["gap"] is None else f"{r['gap']:.4f}",
                 f"{100 * r['risk']:.1f}%"]
        cells += [f"{100 * r[f'P({c})']:.1f}% ({100 * r[f'P({c}) low']:.0f}–{100 * r[f'P({c}) high']:.0f})"
                  for c in range(1, n_con + 1)]
        if n_con:
            cells.append("yes" if r["meets"] else "no")
        t.add_row(*cells)
    return t
