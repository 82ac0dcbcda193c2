"""The standard set of figures, written as PNG files."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import xarray as xr

from .common import PlotError, baseline_label, check_profession, scenario_labels, select_scenario
from .comparison import check_table, comparison_rows, cost_vs_gap, lever_comparison
from .fan import fan_chart
from .pipeline import pipeline_chart
from .rollup import rollup


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+-]+", "_", str(name)).strip("_") or "results"


def _save(fig, path: Path) -> Path:
    fig.savefig(path, format="png")
    return path


def standard_figures(ds: xr.Dataset, out_dir: str | Path, table: pd.DataFrame | None = None,
                     scenario: str | None = None, profession: str | None = None) -> list[Path]:
    """Write every applicable figure to ``out_dir`` and return the paths: a fan chart for each
    scenario of an experiment (or the one run; only ``scenario`` if named), the pipeline of each
    profession and the gap roll-up for the baseline (or ``scenario``), and, given the comparison
    table, the lever comparison and cost-against-gap for each of its (profession, year). ``profession``
    limits every figure to one profession."""
    if scenario is not None:  # check the names before anything is drawn
        select_scenario(ds, scenario)
    professions = [check_profession(ds, profession)] if profession else [str(p) for p in ds["profession"].values]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "scenario" in ds.dims:
        shown = [scenario] if scenario else scenario_labels(ds)
        main = scenario or baseline_label(ds)
    else:
        shown, main = [None], scenario
    paths = []
    for label in shown:
        name = label or str(ds.attrs.get("scenario_name", "run"))
        paths.append(_save(fan_chart(ds, profession, scenario=label), out / f"fan_{_safe(name)}.png"))
    for prof in professions:
        paths.append(_save(pipeline_chart(ds, prof, scenario=main), out / f"pipeline_{_safe(prof)}.png"))
    paths.append(_save(rollup(ds, "gap_fte", scenario=main, profession=profession), out / "rollup_gap_fte.png"))
    if table is not None and len(check_table(table)):
        pairs = table[["profession", "year"]].astype(str).drop_duplicates().itertuples(index=False)
        for prof, year in pairs:
            if profession and prof != profession:
                continue
            try:
                comparison_rows(table, prof, year)
            except PlotError:  # nothing but the baseline for this pair
                continue
            stem = f"{_safe(prof)}_{_safe(year)}"
            paths.append(_save(lever_comparison(table, prof, year, ds=ds), out / f"lever_comparison_{stem}.png"))
            paths.append(_save(cost_vs_gap(table, prof, year, ds=ds), out / f"cost_vs_gap_{stem}.png"))
    return paths
