"""``wfsim plot``: the standard figures of a run or an experiment, as PNG."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..console import bad_input, say
from ..vocabulary import RESULTS_FOLDER


def plot(
    results: Path = typer.Argument(..., help="a run's netCDF file (wfsim run) or an experiment's .zarr store"),
    out: Optional[Path] = typer.Option(None, "--out", help="folder for the PNG files; default "
                                       "results/figures/<name>/"),
    scenario: Optional[str] = typer.Option(None, "--scenario", help="an experiment's scenario to draw (fan chart, "
                                           "pipeline, roll-up); default: every scenario's fan chart, the baseline's rest"),
    profession: Optional[str] = typer.Option(None, "--profession", help="only this profession; default: all"),
) -> None:
    """Write the standard figures as PNG: supply and demand fan charts, joiners and leavers, the gap by
    place and ICS, and, for an experiment with a comparison.csv, gap reduction and cost by scenario."""
    from ..outputs import OutputError, check_folder
    from ..plots import PlotError, open_results, standard_figures

    try:
        if out is not None:
            check_folder(out, "--out")
        ds, table = open_results(results)
        name = ds.attrs.get("experiment_name") if results.is_dir() else None
        target = out or RESULTS_FOLDER / "figures" / str(name or results.stem or "results")
        paths = standard_figures(ds, target, table=table, scenario=scenario, profession=profession)
    except (PlotError, OutputError) as e:
        bad_input([str(e)])
    except OSError as e:                        # a results path that cannot be read (a name too long, …)
        bad_input([f"{results}: cannot read: {e.strerror or e}"])
    for path in paths:
        say(f"wrote {path}")
