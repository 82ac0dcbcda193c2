"""Reading and writing results datasets (netCDF via h5netcdf)."""
from __future__ import annotations

from pathlib import Path

import xarray as xr


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write with light gzip compression; counts stay integers, FTE float32."""
    path = Path(path)
    encoding = {name: {"compression": "gzip", "compression_opts": 1} for name in ds.data_vars}
    ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    return path


def read_results(path: str | Path) -> xr.Dataset:
    return xr.load_dataset(path, engine="h5netcdf")
