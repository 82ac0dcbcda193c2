"""The standard set of figures, written as PNG files."""
from __future__ import annotations

import re
import struct
from pathlib import Path

import pandas as pd
import xarray as xr

from ..outputs import atomic, check_file, check_folder
from .common import PlotError, baseline_label, check_profession, scenario_labels, select_scenario
from .comparison import check_table, comparison_rows, cost_vs_gap, lever_comparison
from .fan import fan_chart
from .pipeline import pipeline_chart
from .rollup import rollup


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+-]+", "_", str(name)).strip("_") or "results"


SOFTWARE = "wfsim"                  # the PNG's Software text chunk: how wfsim knows its own figures


def _save(fig, path: Path) -> Path:
    with atomic(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": SOFTWARE})
    return path


def is_figure(path: Path) -> bool:
    """Whether ``path`` is a PNG written by wfsim (its Software text chunk, before the image data)."""
    with open(path, "rb") as f:
        head = f.read(8)
        if head != b"\x89PNG\r\n\x1a\n":
            return False
        while True:
            size_type = f.read(8)
            if len(size_type) < 8:
                return False
            size, kind = struct.unpack(">I4s", size_type)
            if kind in (b"IDAT", b"IEND"):
                return False
            body = f.read(size)
            f.read(4)                                       # CRC
            if kind == b"tEXt" and body.split(b"\0", 1) == [b"Software", SOFTWARE.encode()]:
                return True


def standard_figures(ds: xr.Dataset, out_dir: str | Path, table: pd.DataFrame | None = None,
                     scenario: str | None = None, profession: str | None = None, option: str = "--out") -> list[Path]:
    """Write every applicable figure to ``out_dir`` and return the paths: a fan chart for each
    scenario of an experiment (or the one run; only ``scenario`` if named), the pipeline of each
    profession and the gap roll-up for the baseline (or ``scenario``), and, given the comparison
    table, the lever comparison and cost-against-gap for each of its (profession, year). ``profession``
    limits every figure to one profession. Every file is checked before anything is drawn: an existing
    one is replaced only if wfsim drew it (an OutputError naming ``option`` otherwise)."""
    if scenario is not None:  # check the names before anything is drawn
        select_scenario(ds, scenario)
    professions = [check_profession(ds, profession)] if profession else [str(p) for p in ds["profession"].values]
    out = Path(out_dir)
    if "scenario" in ds.dims:
        shown = [scenario] if scenario else scenario_labels(ds)
        main = scenario or baseline_label(ds)
    else:
        shown, main = [None], scenario
    todo = []                                              # (file name, figure drawn on demand)
    for label in shown:
        name = label or str(ds.attrs.get("scenario_name", "run"))
        todo.append((f"fan_{_safe(name)}.png", lambda label=label: fan_chart(ds, profession, scenario=label)))
    for prof in professions:
        todo.append((f"pipeline_{_safe(prof)}.png", lambda prof=prof: pipeline_chart(ds, prof, scenario=main)))
    todo.append(("rollup_gap_fte.png", lambda: rollup(ds, "gap_fte", scenario=main, profession=profession)))
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
            todo.append((f"lever_comparison_{stem}.png", lambda p=prof, y=year: lever_comparison(table, p, y, ds=ds)))
            todo.append((f"cost_vs_gap_{stem}.png", lambda p=prof, y=year: cost_vs_gap(table, p, y, ds=ds)))
    check_folder(out, option)
    for name, _ in todo:
        check_file(out / name, option, is_figure, "figure")
    return [_save(draw(), out / name) for name, draw in todo]
