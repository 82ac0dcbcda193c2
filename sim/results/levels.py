"""Output levels: results summed from locations (providers) to places, ICSs, regions or the nation.

Every variable is computed per location first (vacancies and unmet demand included: a shortfall at one
provider is not offset by a surplus at another), then summed over the locations of each area at the
chosen level. Sums of float variables are taken in float64 and stored in the variable's own type, so
an area's value is the float32 rounding of the exact sum of its providers' values. The dataset's area
dimension is named after the level, with coordinates naming the areas above it (at place level: ``ics``
and ``region``). Code that reads a dataset finds that dimension with :func:`area_dim`, never by name.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..scenario import ScenarioError
from ..scenario.errors import shown
from ..vocabulary import DEFAULT_LEVEL, LEVELS, levels_above

LOCATION = "place"       # the location axis as ``DIMS`` name it, before the dataset names it after the level


def area_dim(ds: xr.Dataset | xr.DataArray) -> str:
    """The dimension of a results dataset (or variable) that holds areas: ``provider``, ``place``, ``ics``,
    ``region`` or ``nation``, whichever the run's output level was."""
    for level in LEVELS:
        if level in ds.dims:
            return level
    raise ValueError(f"no area dimension ({', '.join(LEVELS)}) in dims {tuple(ds.dims)}")


def area_mask(ds: xr.Dataset, where: str) -> np.ndarray:
    """Boolean over the dataset's area dimension: the areas that are ``where`` or lie inside it (matched on
    the area names and the coordinates naming the levels above; the nation, attribute ``nation``, holds
    every area). All false where ``where`` is finer than the results' level (a place, results by ICS)."""
    area = area_dim(ds)
    if where == ds.attrs.get("nation"):
        return np.ones(ds.sizes[area], bool)
    mask = np.zeros(ds.sizes[area], bool)
    for name in LEVELS:
        if name in ds.coords and ds.coords[name].dims == (area,):
            mask |= np.asarray(ds[name].values == where)
    return mask


def level_of(ds: xr.Dataset) -> str:
    """The output level of a results dataset (the name of its area dimension)."""
    return area_dim(ds)


def check_level(level) -> str:
    """``level`` if it is an output level; else bad input naming what is allowed."""
    if level not in LEVELS:
        raise ScenarioError([("level", f"expected one of {', '.join(LEVELS)}; got {shown(level)}")], "run")
    return level


def is_identity(plan, level: str) -> bool:
    """True when the level's areas are the locations themselves (nothing to sum)."""
    return len(plan.areas(level)[0]) == len(plan.locations)


def roll_up(plan, values: dict[str, np.ndarray], dims: dict[str, tuple], level: str = DEFAULT_LEVEL) \
        -> dict[str, np.ndarray]:
    """The arrays summed over the locations of each area at ``level``; variables without a location axis
    (``LOCATION`` in ``dims``, counted from the end, so a leading replicate axis may be there or not) and
    levels whose areas are the locations are returned as they are."""
    if is_identity(plan, level):
        return values
    _, index = plan.areas(level)
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], index])))
    if not np.array_equal(index, np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(index))))):
        raise AssertionError("locations are not grouped by area")   # compile lists them place by place
    out = {}
    for name, a in values.items():
        d = dims.get(name, ())
        if LOCATION not in d:
            out[name] = a
            continue
        axis = a.ndim - len(d) + d.index(LOCATION)
        wide = np.float64 if a.dtype.kind == "f" else np.int64
        out[name] = np.add.reduceat(a, starts, axis=axis, dtype=wide).astype(a.dtype, copy=False)
    return out


def area_coords(plan, level: str) -> dict:
    """The area dimension's coordinates: the areas at ``level`` and, on them, the areas above up to the region
    (and each provider's kind and sector at provider level)."""
    names, index = plan.areas(level)
    first = [int(np.flatnonzero(index == i)[0]) for i in range(len(names))]
    coords = {level: list(names)}
    for above in levels_above(level):
        per_location = plan.area_names(above)
        coords[above] = (level, [per_location[i] for i in first])
    if level == "provider":
        coords["provider_kind"] = (level, list(plan.location_kind))
        coords["provider_sector"] = (level, [s or "" for s in plan.location_sector])
    return coords
