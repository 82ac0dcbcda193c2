"""``wfsim sensitivity``, ``wfsim calibrate`` and ``wfsim backtest``: the evidence behind the numbers.

Bad input (a missing file, a range with low ≥ high, an unknown dotted path, a CSV with an unknown variable
or a missing column) exits 2 with one line per problem naming the field or column.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..console import bad_input, err_console, out_console


def _folder(out: Optional[Path], default: Path) -> Path:
    target = out or default
    if target.exists() and not target.is_dir():
        bad_input([f"--out: {target} is a file; give a folder"])
    return target


@contextmanager
def _progress(show: bool, label: str):
    """A rich progress bar on stderr (a no-op when quiet or not a terminal); yields update(done, total, text)."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def update(done, total, text=""):
            bar.update(task, completed=done, total=total, description=text)
        yield update


def sensitivity_command(
    file: Path = typer.Argument(..., help="sensitivity YAML (inputs with ranges or distributions, outputs)"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder; default results/<name>/ (write into an "
                                       "experiment's folder to add the section to its wfsim report)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or table"),
) -> None:
    """Global sensitivity analysis (SALib): Morris screening and Sobol indices of chosen outputs over the
    declared uncertain inputs, with common random numbers across the design."""
    from ..scenario import ScenarioError

    from ..evidence.sensitivity import load_sensitivity, run_sensitivity, write_sensitivity

    try:
        sa = load_sensitivity(file)
    except ScenarioError as e:
        bad_input(e.lines())
    target = _folder(out, Path("results") / sa.spec.name)
    spec = sa.spec
    if not quiet:
        runs = "the mean field" if spec.engine == "expected" else f"{spec.replicates} Monte Carlo replicates each"
        n = spec.samples * (len(spec.inputs) + 2) if spec.method == "sobol" else spec.samples * (len(spec.inputs) + 1)
        screen = f"; screening first on the mean field ({spec.screen.trajectories} Morris trajectories)" \
            if spec.screen else ""
        out_console.print(f"sensitivity {spec.name}: {spec.method} over {len(spec.inputs)} inputs, "
                          f"{len(spec.outputs)} outputs, up to {n:,} runs of {runs}{screen}", highlight=False)
    try:
        with _progress(not quiet and sys.stderr.isatty(), "runs") as bar:
            result = run_sensitivity(sa, progress=(lambda d, t, stage: bar(d, t, stage)) if bar else None)
    except ScenarioError as e:
        bad_input(e.lines())
    paths = write_sensitivity(result, target)
    if not quiet:
        out_console.print(sensitivity_table(result.table))
    out_console.print("wrote " + ", ".join(str(p) for p in paths), highlight=False)


def sensitivity_table(table) -> Table:
    main = table[table.stage == "main"]
    sobol = main.method.iloc[0] == "sobol"
    t = Table(title="Sobol indices: share of each output's variance (± half-width of the "
                    f"{main.conf_level.iloc[0]:.0%} bootstrap interval)" if sobol else
                    "Morris elementary effects (output units over each input's range)")
    for c in ("output", "input", *(("S1 first order", "ST total") if sobol else ("μ*", "μ", "σ"))):
        t.add_column(c, justify="left" if c in ("output", "input") else "right")
    for (out, units), rows in main.groupby(["output", "output_units"], sort=False):
        wide = rows.pivot_table(index="input", columns="statistic", values=["value", "conf"], sort=False)
        key = ("value", "ST" if sobol else "mu_star")
        names = list(wide.sort_values(key, ascending=False).index)
        for i, name in enumerate(names):
            r = wide.loc[name]
            cells = ([f"{r[('value', k)]:.3f} ± {r[('conf', k)]:.3f}" for k in ("S1", "ST")] if sobol else
                     [f"{r[('value', 'mu_star')]:,.4g} ± {r[('conf', 'mu_star')]:,.3g}",
                      f"{r[('value', 'mu')]:,.4g}", f"{r[('value', 'sigma')]:,.4g}"])
            t.add_row(f"{out}\n({units})" if i == 0 else "", name, *cells, end_section=i == len(names) - 1)
    return t


def calibrate_command(
    file: Path = typer.Argument(..., help="calibration YAML (scenario, observed CSV, parameters with priors)"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder; default results/<name>/"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or tables"),
) -> None:
    """Fit scenario parameters to observed series: least squares on the mean field, then an ABC-SMC posterior
    from Monte Carlo runs; writes the calibrated scenario (YAML with provenance), the fit and its figure."""
    from ..scenario import ScenarioError

    from ..evidence.calibrate import check_fit, calibrate, load_calibration
    from ..evidence.calibrated import write_calibration

    try:
        cal = load_calibration(file)
    except ScenarioError as e:
        bad_input(e.lines())
    target = _folder(out, Path("results") / cal.spec.name)
    if not quiet:
        _describe(cal)
    try:
        with _progress(not quiet and sys.stderr.isatty(), "calibrating") as bar:
            result = calibrate(cal, progress=_calibration_progress(bar))
            check = check_fit(result)
    except ScenarioError as e:
        bad_input(e.lines())
    paths = write_calibration(result, target, check)
    if not quiet:
        out_console.print(parameter_table(result))
        post = result.posterior
        out_console.print(f"ABC-SMC: {len(post.generations)} generations, "
                          f"{sum(g.simulations for g in post.generations):,} Monte Carlo runs, final tolerance "
                          f"{post.epsilon:.3g} × the observation error, effective sample size {post.ess:.0f}",
                          highlight=False)
        _warn_tolerance(result)
        fit = result.fit
        inside = ((fit.q05 <= fit.observed) & (fit.observed <= fit.q95)).mean()
        n = cal.spec.abc.check_replicates
        out_console.print(f"does the calibrated scenario reproduce the series? {len(check)} observed rows: mean "
                          f"|z| {check.z.abs().mean():.2f} (z = (observed − mean of {n} runs) ÷ √(their variance "
                          f"+ se²); about 0.8 if so); {inside:.0%} inside the posterior predictive 90% band",
                          highlight=False)
    out_console.print("wrote " + ", ".join(str(p) for p in paths), highlight=False)


def _describe(cal) -> None:
    flagged = {f: sum(1 for r in cal.rows if f in r.flag) for f in ("S", "D", "?", "break")}
    flags = ", ".join(f"{n} flagged {f}" for f, n in flagged.items() if n)
    no_se = sum(1 for r in cal.rows if r.se != r.se)
    rel = cal.spec.error.relative
    err = f"fitted ({rel.describe()})" if cal.fitted_error else f"{rel:.1%} of the value"
    out_console.print(f"calibration {cal.spec.name}: {len(cal.rows)} observed rows from {cal.observed_path.name}"
                      f"{' (' + flags + ')' if flags else ''}; {len(cal.spec.parameters)} parameters; rows without "
                      f"an se ({no_se}) use a standard error of {err}", highlight=False)


def _calibration_progress(bar):
    if bar is None:
        return None

    def update(stage, done, total, note, origin=None):
        where = f"origin {origin + 1}: " if origin is not None else ""
        if stage == "abc":
            bar(done, None, f"{where}Monte Carlo runs, {note}")
        elif stage == "generation":
            bar(done, None, f"{where}{note}")
        else:
            bar(0, None, f"{where}mean-field fit")
    return update


def _warn_tolerance(result) -> None:
    post = result.posterior
    if post.epsilon > 1.0:
        err_console.print(f"warning: the tolerance stopped at {post.epsilon:.3g} × the observation error, not 1: the "
                          f"intervals are wider than the posterior's; raise abc.max_generations, abc.particles or "
                          f"abc.runs_per_particle", highlight=False)
    if post.ess < 30:
        err_console.print(f"warning: effective sample size {post.ess:.0f}: the intervals rest on few particles; raise "
                          f"abc.particles or abc.runs_per_particle", highlight=False)


def parameter_table(result) -> Table:
    t = Table(title="Calibrated parameters: posterior median and 90% credible interval (ABC-SMC on Monte Carlo "
                    "runs), beside the mean-field least-squares fit")
    for c in ("parameter", "units", "prior", "mean field (± sd)", "posterior median", "90% interval"):
        t.add_column(c, justify="left" if c in ("parameter", "units", "prior") else "right")
    for r in result.parameters.itertuples():
        t.add_row(r.parameter, r.units, r.prior, f"{r.mean_field:.5g} ± {r.mean_field_sd:.2g}",
                  f"{r.posterior_median:.5g}", f"{r.ci90_low:.5g} to {r.ci90_high:.5g}")
    return t


def backtest_command(
    file: Path = typer.Argument(..., help="calibration YAML with a backtest: block (series, origins, horizon)"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder; default results/<name>/backtest/"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Backtest: fit on the rows up to each origin, forecast the next observations of the chosen series, and
    score them (band coverage, CRPS, absolute percentage error) beside naive forecasts (last value, trend)."""
    import matplotlib.pyplot as plt

    from ..scenario import ScenarioError

    from ..evidence.backtest import run_backtest, verdict
    from ..evidence.calibrate import load_calibration
    from ..evidence.plots import backtest_figure

    try:
        cal = load_calibration(file)
    except ScenarioError as e:
        bad_input(e.lines())
    if cal.spec.backtest is None:
        bad_input([f"{file}: backtest: required for wfsim backtest (series, origins, horizon); see docs/evidence.md"])
    target = _folder(out, Path("results") / cal.spec.name / "backtest")
    bt = cal.spec.backtest
    if not quiet:
        _describe(cal)
        out_console.print(f"backtest of {bt.series.variable} ({bt.series.profession or 'all professions'}, "
                          f"{bt.series.place or 'all places'}) from {len(bt.origins)} origins, up to {bt.horizon} "
                          f"observations ahead", highlight=False)
    try:
        with _progress(not quiet and sys.stderr.isatty(), "backtest") as bar:
            prog = _calibration_progress(bar)
            result = run_backtest(cal, progress=(lambda k, *a: prog(*a, origin=k)) if prog else None)
    except ScenarioError as e:
        bad_input(e.lines())
    target.mkdir(parents=True, exist_ok=True)
    result.scores.to_csv(target / "scores.csv", index=False, float_format="%.6g")
    result.summary.to_csv(target / "summary.csv", index=False, float_format="%.6g")
    units = next(r.units for r in cal.rows if r.series == (bt.series.variable, bt.series.profession,
                                                           bt.series.place))
    fig = backtest_figure(result.scores, result.history, f"{cal.spec.name}: backtest of {bt.series.variable} "
                                                        f"({units})")
    fig.savefig(target / "backtest.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    out_console.print(summary_table(result.summary, units))
    for fit in result.fits:
        _warn_tolerance(fit)
    out_console.print(verdict(result.summary, units), highlight=False)
    out_console.print(f"wrote {target / 'scores.csv'}, {target / 'summary.csv'}, {target / 'backtest.png'}",
                      highlight=False)


def summary_table(summary, units: str) -> Table:
    t = Table(title=f"Backtest scores (CRPS in {units}; lower is better; a calibrated forecast's bands hold "
                    "about 50% and 90%)")
    for c in ("steps ahead", "method", "forecasts", "CRPS", "MAPE", "50% band held", "90% band held"):
        t.add_column(c, justify="left" if c in ("steps ahead", "method") else "right")
    for r in summary.itertuples():
        t.add_row(str(r.steps_ahead), str(r.method), f"{int(r.forecasts)}", f"{r.crps:,.4g}", f"{r.mape:.1%}",
                  f"{r.coverage50:.0%}", f"{r.coverage90:.0%}")
    return t
