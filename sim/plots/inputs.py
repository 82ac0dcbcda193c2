"""Opening what ``wfsim plot`` is given: a run's netCDF file or an experiment's zarr store, and the
experiment's comparison table (CSV) where one lies inside or beside the store."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from ..vocabulary import COMPARISON, LEVELS, STORE
from .common import PlotError

# variables a results dataset has, over these dimensions and its area dimension (named after its level)
REQUIRED = {"effective_fte": ("time", "profession"), "demand_fte": ("time", "profession"),
            "joiners": ("time", "profession", "source"), "leavers": ("time", "profession", "reason")}


def comparison_paths(store: Path) -> list[Path]:
    """Where an experiment's comparison table may lie: inside the store, or beside it (as
    ``<store>.comparison.csv``, or as ``comparison.csv`` beside the runner's ``results.zarr``)."""
    paths = [store / COMPARISON, Path(f"{store}.{COMPARISON}"), store.with_suffix(f".{COMPARISON}")]
    return paths + ([store.parent / COMPARISON] if store.name == STORE else [])


def check_results(ds: xr.Dataset, path: Path | str) -> xr.Dataset:
    for name, dims in REQUIRED.items():
        if name not in ds.data_vars or not set(dims) <= set(ds[name].dims) or not set(LEVELS) & set(ds[name].dims):
            raise PlotError(f"{path}: not a wfsim results dataset (no variable {name} over {', '.join(dims)} "
                            f"and an area: {', '.join(LEVELS)})")
    if not ds.sizes.get("time"):
        raise PlotError(f"{path}: the results have no time periods")
    return ds


def open_results(path: str | Path) -> tuple[xr.Dataset, pd.DataFrame | None]:
    """The results dataset (a run's netCDF file; an experiment's zarr store, or the experiment's output
    folder holding it) and the comparison table if there is one; PlotError naming the problem otherwise."""
    path = Path(path)
    if not path.exists():
        raise PlotError(f"{path}: no such file or folder")
    table = None
    if path.is_dir() and (path / STORE).is_dir():  # an experiment's output folder
        path = path / STORE
    if path.is_dir():
        try:
            ds = xr.open_zarr(path)
        except Exception as e:  # any failure to read is bad input here
            raise PlotError(f"{path}: not a zarr results store ({type(e).__name__}: {e})".splitlines()[0]) from None
        found = next((p for p in comparison_paths(path) if p.is_file()), None)
        if found is not None:
            try:
                table = pd.read_csv(found)
            except Exception as e:
                raise PlotError(f"{found}: unreadable comparison table ({type(e).__name__})") from None
            table.attrs.update({k: ds.attrs[k] for k in ("baseline", "experiment_name") if k in ds.attrs})
    else:
        from ..results.io import read_results

        try:
            ds = read_results(path)
        except Exception as e:
            raise PlotError(f"{path}: not a netCDF results file written by wfsim run ({type(e).__name__})") from None
    return check_results(ds, path), table
