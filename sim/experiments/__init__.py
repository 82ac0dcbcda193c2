"""Experiments: grids of runs (variants × futures) into one resumable zarr store, compared pair by pair."""
from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..vocabulary import MANIFEST, STORE
from .compare import comparison, comparison_table
from .runner import blocks, run_experiment
from .spec import Experiment, load_experiment

__all__ = ["Experiment", "load_experiment", "run_experiment", "open_experiment", "comparison", "comparison_table",
           "blocks", "STORE", "MANIFEST"]


def open_experiment(path: str | Path) -> xr.Dataset:
    """The results store of an experiment, lazily: its output folder or the ``results.zarr`` in it."""
    p = Path(path)
    if (p / STORE).is_dir():
        p = p / STORE
    return xr.open_zarr(p, consolidated=True)
