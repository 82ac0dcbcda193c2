"""Reading and writing results datasets (netCDF via h5netcdf), written atomically (``sim.outputs``)."""
from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..outputs import atomic, starts_with

HDF5 = b"\x89HDF\r\n\x1a\n"


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write with light gzip compression; counts stay integers, FTE float32. The file is written beside
    ``path`` and renamed into place, so a failure never leaves a damaged file there."""
    path = Path(path)
    encoding = {name: {"compression": "gzip", "compression_opts": 1} for name in ds.data_vars}
    with atomic(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    return path


def is_results_file(path: str | Path) -> bool:
    """Whether ``path`` is a results file written by wfsim (HDF5 with wfsim's provenance attributes)."""
    if not starts_with(Path(path), HDF5):
        return False
    import h5py

    with h5py.File(path, "r") as f:
        return "wfsim_version" in f.attrs and "scenario_sha256" in f.attrs


def read_results(path: str | Path) -> xr.Dataset:
    return xr.load_dataset(path, engine="h5netcdf")
