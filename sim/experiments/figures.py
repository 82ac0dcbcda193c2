"""The report's figures, drawn once per experiment result and reused: a second report (in the other
format, or again) reads the PNG files already drawn instead of drawing them again.

``figures/figures.json`` records what they were drawn from: the experiment's fingerprint, the sha256
of the comparison table and the file names. They are reused only if that record matches and every file
is still a figure wfsim drew; otherwise they are drawn again (each checked first, ``sim.outputs``).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import xarray as xr

from ..outputs import check_file, recognised, write_text
from ..plots import describe_figure, standard_figures
from ..plots.standard import is_figure

INDEX = "figures.json"
OPTION = "report figures"

__all__ = ["describe_figure", "report_figures"]


def _drawn_from(ds: xr.Dataset, table: pd.DataFrame) -> dict:
    return {"experiment_fingerprint": str(ds.attrs.get("experiment_fingerprint", "")),
            "comparison_sha256": hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()}


def _is_index(path: Path) -> bool:
    data = json.loads(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and data.get("written_by") == "wfsim report"


def report_figures(ds: xr.Dataset, folder: Path, table: pd.DataFrame) -> list[Path]:
    """The standard figures of the experiment in ``folder``: the ones already drawn from these results and
    this comparison table, else drawn now (and recorded)."""
    index = Path(folder) / INDEX
    key = _drawn_from(ds, table)
    if index.is_file() and recognised(_is_index, index):
        record = json.loads(index.read_text(encoding="utf-8"))
        files = [Path(folder) / name for name in record.get("files", [])]
        if (all(record.get(k) == v for k, v in key.items()) and files and key["experiment_fingerprint"]
                and all(f.is_file() and recognised(is_figure, f) for f in files)):
            return files
    check_file(index, OPTION, _is_index, "figure index")
    figures = standard_figures(ds, folder, table=table, option=OPTION)
    write_text(index, json.dumps({"written_by": "wfsim report", **key, "files": [f.name for f in figures]}, indent=1))
    return figures
