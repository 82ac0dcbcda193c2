"""The lever plugin API: a parameter model plus one method that transforms plan tensors.

A lever says who owns it (``owner``: the national body, a region, an ICS, a place or a provider; ``level``
follows), where it acts (``where``: providers, places, ICSs or regions inside the owner's footprint, or the
nation; default the whole footprint), when (``from``/``until``, months) and how it is delivered (a step, or a
ramp over ``ramp_months``).
``apply`` edits the plan's arrays on that slice and window, weighted by :meth:`Lever.window`, so the
same lever works in every engine; ``cost`` turns an engine's raw counts into £ per month.
Adaptive plans (``sim.levers.adaptive``) and the owners' budgets (``sim.runs.budgets``) scale a lever's size
month by month through ``scaled``.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, PrivateAttr

from ..scenario.errors import shown
from ..scenario.owners import NATIONAL, inside, lever_owner, owner_level, owner_names
from ..scenario.types import Model, Whole, YearMonth
from ..vocabulary import LEVELS, month_index

Level = Literal["national", "region", "ics", "place", "provider"]

# The ICS People Function's outcome areas that levers act in (a lever's ``area``): NHS England and NHS
# Improvement, "Building strong integrated care systems everywhere: guidance on the ICS people function" (2021).
AREAS = {1: "health and wellbeing", 2: "growing the workforce", 3: "inclusion and belonging",
         4: "leadership and lifelong learning", 5: "transformation and new ways of working",
         6: "education, training and talent", 7: "social and economic development", 8: "people services",
         10: "system design and development"}


class Lever(Model):
    """A lever plugin: its parameters (validated with the scenario, unknown keys refused), where and when it
    acts, and ``apply``, which changes the plan tensors; ``cost`` (optional) is its spend."""

    lever: str
    id: str | None = Field(None, min_length=1, description="label of this lever in results (coordinate ``lever``); "
                           "default: its name")
    owner: str | None = Field(
        None, min_length=1, description="the body that owns (and pays for) the lever: 'national', or the name of "
        "a region, ICS, place or provider of the geography; the lever acts only inside its footprint (the "
        "owner's providers). "
        "Default: the whole geography's top level")
    level: Level | None = Field(None, description="the level that owns the lever: the owner's level (may be "
                                "left out; if given it must match); without an owner, the level whose areas "
                                "``where`` names; default: the whole scenario")
    where: str | list[str] | None = Field(
        None, description="provider, place, ICS or region names (or the nation's) the lever applies to, inside "
        "the owner's footprint; default: the whole footprint (without an owner: everywhere)")
    from_: YearMonth | None = Field(None, alias="from", description="first month in force (YYYY-MM); default: start")
    until: YearMonth | None = Field(None, description="last month in force (YYYY-MM); default: the horizon")
    ramp_months: Whole(0, 120, "months") = Field(
        0, description="delivery: months to phase in from ``from``, linearly (0: a step, in full at once)")
    _scale: np.ndarray | None = PrivateAttr(None)

    area: ClassVar[int] = 0            # ICS People Function outcome area (1-8, or 10)
    levels: ClassVar[tuple[str, ...]] = ("national", "region", "ics", "place", "provider")

    # --- the plugin's one key method -----------------------------------------------------------
    def apply(self, plan, scenario) -> None:  # pragma: no cover - abstract
        """Change the plan tensors (``plan``, arrays over months × profession or programme × place) on the
        lever's slice and window, weighted by ``window`` or ``multiplier``."""
        raise NotImplementedError

    def cost(self, plan, raw: dict[str, np.ndarray]) -> np.ndarray:
        """£ in each month [..., month], given an engine's raw counts (``headcount`` [..., M, P, L], ``joiners``,
        ``trainees``, …, with or without a leading replicate axis); default none."""
        return np.zeros(raw["headcount"].shape[:-2])

    def remember(self, plan, value) -> None:
        """Keep what ``cost`` will need of this ``apply`` with the plan (``compile.apply`` appends the
        lever to ``plan.levers`` right after ``apply``, so its position is ``len(plan.levers)``)."""
        plan.lever_state[len(plan.levers)] = value

    def recall(self, plan):
        """What ``remember`` kept for this lever in this plan."""
        at = [i for i, x in enumerate(plan.levers) if x is self]
        if not at or at[0] not in plan.lever_state:
            raise RuntimeError(f"{self.lever}: cost needs a plan this lever was applied to by sim.model.compile.apply")
        return plan.lever_state[at[0]]

    def scaled(self, factor: np.ndarray) -> "Lever":
        """A copy whose size is multiplied by ``factor`` [M] month by month (for adaptive plans)."""
        out = self.model_copy()
        out._scale = np.asarray(factor, float)
        return out

    def scale(self, months: int) -> np.ndarray:
        """[months] the lever's size relative to its configuration, month by month: 1 unless an adaptive
        plan's reviews scaled it (``scaled``). The results report it as ``lever_scale``."""
        if self._scale is None:
            return np.ones(months)
        return self._scale[:months]

    # --- helpers for subclasses -----------------------------------------------------------------
    def references(self, scenario) -> list[tuple[str, str]]:
        """(field, problem) for names this lever uses that the scenario lacks."""
        problems = []
        for field, (collection, what) in NAMED.items():        # profession, programme, … fields
            value = getattr(self, field, None)
            if isinstance(value, str):
                problems += check_name(value, getattr(scenario, collection), field, what)
        if self.owner is not None:
            return problems + self.owner_problems(scenario.geography)
        names = _geo_names(scenario)
        for w in self.where_list():
            allowed = names.get(self.level) if self.level in ("provider", "place", "ics", "region") else None
            pool = allowed if allowed is not None else set().union(*names.values())
            if w not in pool:
                kind = self.level if allowed is not None else "provider, place, ICS or region (or the nation)"
                problems.append(("where", f"{shown(w)} is not a {kind} of this geography; allowed: "
                                 f"{', '.join(sorted(pool))}"))
        if self.level is not None and self.level not in self.levels:
            problems.append(("level",
                             f"{self.lever} applies at levels {', '.join(self.levels)}; got {shown(self.level)}"))
        return problems

    def owner_problems(self, geography) -> list[tuple[str, str]]:
        """(field, problem) for an owner the geography lacks, a level that disagrees with it, or a ``where``
        outside its footprint."""
        level = owner_level(self.owner, geography)
        if level is None:
            return [("owner", f"unknown owner {shown(self.owner)}; allowed: {', '.join(owner_names(geography))}")]
        out = []
        if self.level is not None and self.level != level:
            out.append(("level", f"owner {shown(self.owner)} is at level {level}; leave level out or give {level}; "
                                 f"got {shown(self.level)}"))
        if level not in self.levels:
            out.append(("owner", f"{self.lever} applies at levels {', '.join(self.levels)}; owner {shown(self.owner)} "
                                 f"is at level {level}"))
        areas = set().union(*map(set, geography.names().values()))
        for w in self.where_list():
            if w not in areas:
                out.append(("where", f"{shown(w)} is not a provider, place, ICS or region (or the nation) of this "
                                     f"geography; allowed: "
                                     f"{', '.join(sorted(areas))}"))
            elif not inside(w, self.owner, geography):
                mine = [n for n in sorted(areas) if inside(n, self.owner, geography)]
                out.append(("where", f"{shown(w)} is outside the footprint of its owner {shown(self.owner)} ({level}): a "
                                     f"lever acts only inside its owner's footprint; allowed: {', '.join(mine)}"))
        return out

    def owner_of(self, scenario) -> str:
        """The lever's owner: ``owner``, else the geography's top level."""
        return lever_owner(self, scenario.geography)

    def scope(self) -> list[str]:
        """The area names the lever acts in: ``where``, else its owner's (empty: everywhere)."""
        if self.where_list():
            return self.where_list()
        return [self.owner] if self.owner not in (None, NATIONAL) else []

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

    def intensity(self, plan) -> np.ndarray:
        """Float [M] in [0, 1] (times any adaptive scale): 0 outside the window, rising by 1/ramp_months a
        month from ``from`` when ramped, else 1."""
        t = np.arange(plan.months)
        lo = month_index(plan.start, self.from_) if self.from_ else 0
        w = self.month_mask(plan).astype(float)
        if self.ramp_months:
            w *= np.minimum(1.0, (t - lo + 1) / self.ramp_months)
        if self._scale is not None:
            w = w * self._scale[:plan.months]
        return w

    def place_mask(self, plan) -> np.ndarray:
        """Boolean [L]: the locations (providers) inside ``where`` (else inside the owner's footprint): named
        themselves, or in a named place, ICS or region, or the nation."""
        wanted = set(self.scope())
        if not wanted:
            return np.ones(len(plan.locations), bool)
        inside = np.zeros(len(plan.locations), bool)
        for level in LEVELS:
            inside |= np.array([n in wanted for n in plan.area_names(level)])
        return inside

    def window(self, plan) -> np.ndarray:
        """Float [M, L]: the lever's delivered share (``intensity``) in each month × location in scope."""
        return self.intensity(plan)[:, None] * self.place_mask(plan)[None, :]

    def multiplier(self, plan, k: float) -> np.ndarray:
        """[M, L]: k where the lever is fully in force, 1 outside, in between while it ramps up (never below 0,
        however far an adaptive plan scales it)."""
        return np.maximum(1.0 + (k - 1.0) * self.window(plan), 0.0)


# fields that name a profession or programme of the scenario, checked for every lever that has them
NAMED = {"profession": ("professions", "profession"), "from_profession": ("professions", "profession"),
         "to_profession": ("professions", "profession"), "programme": ("programmes", "programme")}


def by_month(raw, per_month: np.ndarray) -> np.ndarray:
    """A deterministic £ per month [M] broadcast to the raw counts' leading shape [..., M]."""
    months = raw["headcount"].shape[-3]
    return np.broadcast_to(np.asarray(per_month, float)[:months], raw["headcount"].shape[:-2]).copy()


def running_cost(lever, plan, raw, per_year: float) -> np.ndarray:
    """A programme's running cost: £ per year spread monthly, times the delivered share while in force."""
    return by_month(raw, lever.intensity(plan) * per_year / 12.0)


def heads_cost(lever, plan, raw, profession: str, per_head_per_year: float) -> np.ndarray:
    """£ per month: heads of ``profession`` in scope × £ per head per year × the delivered share (a ramp
    phases spending in; an adaptive plan that doubles the lever doubles its cost)."""
    p = plan.professions.index(profession)
    months = raw["headcount"].shape[-3]
    return (raw["headcount"][..., p, :] * lever.window(plan)[:months]).sum(axis=-1) * per_head_per_year / 12.0


def _geo_names(scenario) -> dict[str, set[str]]:
    return {level: set(names) for level, names in scenario.geography.names().items()}


def check_name(value: str, allowed, field: str, what: str) -> list[tuple[str, str]]:
    if value in allowed:
        return []
    return [(field, f"unknown {what} {shown(value)}; allowed: {', '.join(sorted(allowed)) or '(none defined)'}")]
