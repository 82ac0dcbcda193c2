"""The lever plugin API: a parameter model plus one method that transforms plan tensors.

A lever says where it acts (``level`` and ``where``: a place, ICS or region of the geography) and
when (``from``/``until``, months). ``apply`` edits the plan's arrays on that slice and window, so the
same lever works in every engine; ``cost`` turns the simulated headcount into £ per month.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from ..scenario.types import Model, YearMonth, month_index

Level = Literal["national", "region", "ics", "place", "provider"]


class Lever(Model):
    lever: str
    level: Level | None = Field(None, description="the level that owns the lever; default: the whole scenario")
    where: str | list[str] | None = Field(
        None, description="place, ICS or region names the lever applies to; default: everywhere")
    from_: YearMonth | None = Field(None, alias="from", description="first month in force (YYYY-MM); default: start")
    until: YearMonth | None = Field(None, description="last month in force (YYYY-MM); default: the horizon")

    area: ClassVar[int] = 0            # ICS People Function outcome area (1-8)
    levels: ClassVar[tuple[str, ...]] = ("national", "region", "ics", "place")

    # --- the plugin's one key method -----------------------------------------------------------
    def apply(self, plan, scenario) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def cost(self, plan, headcount: np.ndarray) -> np.ndarray:
        """£ in each month, given headcount [..., month, profession, place]; default none."""
        return np.zeros(headcount.shape[:-2])

    # --- helpers for subclasses -----------------------------------------------------------------
    def references(self, scenario) -> list[tuple[str, str]]:
        """(field, problem) for names this lever uses that the scenario lacks."""
        problems = []
        names = _geo_names(scenario)
        for w in self.where_list():
            allowed = names.get(self.level) if self.level in ("place", "ics", "region") else None
            pool = allowed if allowed is not None else set().union(*names.values())
            if w not in pool:
                kind = self.level if allowed is not None else "place, ICS or region"
                problems.append(("where", f"{w!r} is not a {kind} of this geography; allowed: "
                                 f"{', '.join(sorted(pool))}"))
        if self.level is not None and self.level not in self.levels:
            problems.append(("level", f"{self.lever} applies at levels {', '.join(self.levels)}; got {self.level!r}"))
        return problems

    def where_list(self) -> list[str]:
        if self.where is None:
            return []
        return [self.where] if isinstance(self.where, str) else list(self.where)

    def month_mask(self, plan) -> np.ndarray:
        """Boolean [M]: the months the lever is in force."""
        t = np.arange(plan.months)
        lo = month_index(plan.start, self.from_) if self.from_ else 0
        hi = month_index(plan.start, self.until) if self.until else plan.months - 1
        return (t >= lo) & (t <= hi)

    def place_mask(self, plan) -> np.ndarray:
        """Boolean [L]: the places inside ``where``."""
        wanted = self.where_list()
        if not wanted:
            return np.ones(len(plan.places), bool)
        return np.array([p in wanted or i in wanted or r in wanted
                         for p, i, r in zip(plan.places, plan.place_ics, plan.place_region)])

    def window(self, plan) -> np.ndarray:
        """Boolean [M, L]: months in force × places in scope."""
        return self.month_mask(plan)[:, None] & self.place_mask(plan)[None, :]


def _geo_names(scenario) -> dict[str, set[str]]:
    table = scenario.geography.place_table()
    return {"place": {p for p, _, _ in table}, "ics": {i for _, i, _ in table},
            "region": {scenario.geography.region}}


def check_name(value: str, allowed, field: str, what: str) -> list[tuple[str, str]]:
    if value in allowed:
        return []
    return [(field, f"unknown {what} {value!r}; allowed: {', '.join(sorted(allowed)) or '(none defined)'}")]
