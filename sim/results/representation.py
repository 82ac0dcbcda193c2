"""Representation indicators: the model's analogues of the measures national equality standards use (the
NHS Workforce Race Equality Standard, WRES), as pure functions of a results dataset with characteristics.

Each works on any dataset with ``staff_by_group`` (a run with replicates, or ``sim.expected`` without),
by area at the dataset's level and by output period, for one profession or all together:

- :func:`band_share` — a group's share of each band's staff;
- :func:`model_employer_ratio` — that share ÷ the group's share of all the profession's staff (1: the band
  reflects the workforce, the "model employer" goal that every band does);
- :func:`population_ratio` — a group's share of staff ÷ its share of working-age residents (1: the workforce
  is representative of the community it serves);
- :func:`relative_likelihood_of_appointment` — appointments per working-age resident of group ``a`` ÷ those of
  group ``b`` (WRES indicator 2 compares appointment from shortlisting; the model has no applicants, so
  residents stand for the pool);
- :func:`relative_likelihood_of_promotion` — promotions per member of staff of group ``a`` ÷ those of ``b``
  (the progression measure: above 1, group ``a`` is promoted more often).

A ratio where the denominator is 0 is nan.
"""
from __future__ import annotations

import numpy as np
import xarray as xr


def _check(ds: xr.Dataset, *groups: str) -> None:
    if "staff_by_group" not in ds:
        raise ValueError("this dataset has no staff_by_group: its scenario declares no characteristics or bands")
    unknown = [g for g in groups if g not in ds.group.values]
    if unknown:
        raise ValueError(f"unknown group {', '.join(unknown)}; allowed: {', '.join(map(str, ds.group.values))}")


def _of(a: xr.DataArray, profession: str | None) -> xr.DataArray:
    return a.sum("profession") if profession is None else a.sel(profession=profession)


def _ratio(num: xr.DataArray, den: xr.DataArray) -> xr.DataArray:
    return xr.where(den > 0, num / den.where(den > 0), np.nan)


def band_share(ds: xr.Dataset, group: str, profession: str | None = None) -> xr.DataArray:
    """[..., time, area, band] the group's share of each band's staff."""
    _check(ds, group)
    staff = _of(ds["staff_by_group"], profession)
    return _ratio(staff.sel(group=group), staff.sum("group"))


def model_employer_ratio(ds: xr.Dataset, group: str, profession: str | None = None) -> xr.DataArray:
    """[..., time, area, band] the group's share of each band ÷ its share of all the staff (1: representative)."""
    _check(ds, group)
    staff = _of(ds["staff_by_group"], profession)
    overall = _ratio(staff.sel(group=group).sum("band"), staff.sum(("band", "group")))
    return _ratio(band_share(ds, group, profession), overall)


def population_ratio(ds: xr.Dataset, group: str, profession: str | None = None) -> xr.DataArray:
    """[..., time, area] the group's share of staff ÷ its share of working-age residents."""
    _check(ds, group)
    staff = _of(ds["staff_by_group"], profession).sum("band")
    residents = ds["population_by_group"]
    return _ratio(_ratio(staff.sel(group=group), staff.sum("group")),
                  _ratio(residents.sel(group=group), residents.sum("group")))


def relative_likelihood_of_appointment(ds: xr.Dataset, a: str, b: str, profession: str | None = None) -> xr.DataArray:
    """[..., time, area] appointments per working-age resident of group a ÷ those of group b."""
    _check(ds, a, b)
    joiners = _of(ds["joiners_by_group"], profession)
    residents = ds["population_by_group"]
    rate = lambda g: _ratio(joiners.sel(group=g), residents.sel(group=g))    # noqa: E731
    return _ratio(rate(a), rate(b))


def relative_likelihood_of_promotion(ds: xr.Dataset, a: str, b: str, profession: str | None = None) -> xr.DataArray:
    """[..., time, area] promotions per member of staff (in bands with a next band) of group a ÷ those of b."""
    _check(ds, a, b)
    promoted = _of(ds["promotions"], profession).sum("band")
    staff = _of(ds["staff_by_group"], profession)
    top = promoted_from(ds, profession)
    eligible = staff.where(top, 0).sum("band")
    rate = lambda g: _ratio(promoted.sel(group=g), eligible.sel(group=g))   # noqa: E731
    return _ratio(rate(a), rate(b))


def promoted_from(ds: xr.Dataset, profession: str | None) -> xr.DataArray:
    """[band] (or [profession, band]) whether the band has a next one (``promotable``): staff at the top of a
    ladder cannot be promoted, and count in no one's rate."""
    able = ds["promotable"]
    return able.any("profession") if profession is None else able.sel(profession=profession)
