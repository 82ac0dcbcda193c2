"""The one declaration of the model's flows: joiner sources, leaver reasons, the raw counts the engines
return, and the order of events within a month.

Every engine (the ``kernel``, the ``agents`` engine and the mean field ``sim.expected``) and the results
dataset read these tables: a source's or reason's index is its position here, a raw count's shape is
its dimensions here, and each engine's month follows :data:`MONTH` (``tests/test_flows.py`` checks
each engine against it). Adding a flow starts here; ``docs/CONTRIBUTING.md`` lists the other steps.

The order of a month (stocks are as at its end, flows are totals within it):

====  ==============  =============================================================================
step  name            what happens
====  ==============  =============================================================================
1     retire          staff whose drawn retirement month it is retire (reason ``retirement``); with
                      retire-and-return a share of them rejoin at once (``retire_return``), part time,
                      with their own leaving hazard (they do not move or retire again)
2     leave           staff leave at the month's leaving hazard × their age multiplier (``leaver``)
3     move            staff move place (``rotation_out`` → ``rotation_in``), ICS or region
                      (``moved_out`` → ``moved_in``), sector (a provider of another sector in reach:
                      ``sector_out`` → ``sector_in``) or staff group (``transfer_out`` →
                      ``transfer_in``), or up a band of their profession's ladder (``promoted_out`` →
                      ``promoted_in``): one summed hazard of a move, split by their shares, in that order
4     attrition       trainees who started before this month may drop out (in-service: ``leaver``)
5     complete        cohorts at the end of their programme complete (in-service: ``completed_training``);
                      each completer wants a local post with the month's local-employment probability;
                      one who does not may look in another ICS or region (mobility: ``graduates_moved``)
6     place           the month's completers who want a post (a local one, or one where they looked)
                      take one, in random order within their staff group (``newly_qualified``);
                      hiring only into vacancies, a completer who finds none is ``unplaced`` and lost
7     rotate          programmes with a rotation schedule move their trainees in post on its dates
                      (in-service: ``rotation_out`` → ``rotation_in``)
8     hire            experienced hires start, by place then source (``international``,
                      ``return_to_practice``, ``domestic``): first those queuing for a recruiting team's
                      capacity, then the month's; hiring only into vacancies, while a post is vacant
9     start           the month's intake starts training (in-service: ``training_start``)
10    record          headcount and trainees are counted
====  ==============  =============================================================================

Competing risks: one staff member has at most one event a month; retirement comes before leaving,
and leaving before a move. People who arrive in a month (steps 6, 8, 9) have no event in it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..scenario.geography import SECTORS


@dataclass(frozen=True)
class Flow:
    """A joiner source or a leaver reason: one entry of the ``source`` or ``reason`` dimension."""
    name: str
    meaning: str
    recruited: bool = False         # an experienced hire's source (recruitment rates are given per source)
    pair: str | None = None         # the other side of a move within the system (its totals conserve)


JOINERS = (
    Flow("newly_qualified", "completers of a training programme taking a local post"),
    Flow("international", "experienced hires recruited from abroad", recruited=True),
    Flow("return_to_practice", "experienced hires returning to practice", recruited=True),
    Flow("domestic", "experienced hires from elsewhere in the country", recruited=True),
    Flow("rotation_in", "staff (or trainees in post) moving in from another place", pair="rotation_out"),
    Flow("training_start", "in-service trainees starting their programme (counted in their staff group)"),
    Flow("transfer_in", "staff moving in from another staff group", pair="transfer_out"),
    Flow("moved_in", "staff moving in from another ICS or region (the scenario's mobility)", pair="moved_out"),
    Flow("sector_in", "staff moving in from a provider of another sector (the profession's sector_moves)",
         pair="sector_out"),
    Flow("retire_return", "retirees rejoining their staff group at once, part time (retire and return)"),
    Flow("promoted_in", "staff promoted into the band (the next of their profession's ladder; same place)",
         pair="promoted_out"),
)
LEAVERS = (
    Flow("retirement", "staff retiring"),
    Flow("leaver", "staff leaving for reasons other than retirement (in-service trainees: dropping out)"),
    Flow("rotation_out", "staff (or trainees in post) moving out to another place", pair="rotation_in"),
    Flow("completed_training", "in-service trainees completing their programme"),
    Flow("transfer_out", "staff moving out to another staff group", pair="transfer_in"),
    Flow("moved_out", "staff moving out to another ICS or region (the scenario's mobility)", pair="moved_in"),
    Flow("sector_out", "staff moving out to a provider of another sector (the profession's sector_moves)",
         pair="sector_in"),
    Flow("promoted_out", "staff promoted out of the band (to the next of their profession's ladder; same place)",
         pair="promoted_in"),
)

SOURCES = tuple(f.name for f in JOINERS)
REASONS = tuple(f.name for f in LEAVERS)
SOURCE = {name: i for i, name in enumerate(SOURCES)}            # index of a source in the ``source`` dimension
REASON = {name: i for i, name in enumerate(REASONS)}
RECRUIT_SOURCES = tuple(f.name for f in JOINERS if f.recruited)
RECRUITED = tuple(SOURCE[s] for s in RECRUIT_SOURCES)           # their indices among SOURCES (contiguous)
assert RECRUITED == tuple(range(RECRUITED[0], RECRUITED[0] + len(RECRUITED))), "recruited sources must be adjacent"


@dataclass(frozen=True)
class Count:
    """A raw count an engine returns, per replicate: its dimensions (after ``replicate``) and unit."""
    name: str
    dims: tuple[str, ...]
    units: str
    meaning: str
    stock: bool                     # a stock (as at the end of the month) or a flow (a total within it)


COUNTS = (
    Count("headcount", ("time", "profession", "place"), "people",
          "staff in post at the end of the month (in-service trainees included in their staff group)", True),
    Count("joiners", ("time", "profession", "place", "source"), "people per month", "joiners in the month, by source",
          False),
    Count("leavers", ("time", "profession", "place", "reason"), "people per month", "leavers in the month, by reason",
          False),
    Count("trainees", ("time", "programme", "place"), "people", "in training at the end of the month", True),
    Count("completions", ("time", "programme", "place"), "people per month", "trainees completing in the month",
          False),
    Count("unplaced", ("time", "programme", "place"), "people per month",
          "newly qualified staff wanting a post who found no vacancy (lost to the system); a completer who "
          "looked elsewhere (mobility) is counted where they looked", False),
    Count("graduates_moved", ("time", "programme", "place"), "people per month",
          "completers not taking a local post who looked for one in another ICS or region (mobility), by the "
          "place they trained at", False),
    Count("returned", ("time", "profession", "place"), "people",
          "retirees back in post (retire and return) at the end of the month, part of headcount", True),
    Count("sector_moves", ("time", "profession", "from_sector", "to_sector"), "people per month",
          "staff moves between sectors in the month (the profession's sector_moves), by sector of origin and "
          "destination", False),
)
# Flows and counts that only a scenario with ``mobility`` has: a dataset of a scenario without it leaves
# them out, so it is exactly what it was before they existed (``sim.results.dataset``).
MOBILITY_SOURCES = ("moved_in",)
MOBILITY_REASONS = ("moved_out",)
MOBILITY_COUNTS = ("graduates_moved",)
# likewise for sector moves (a profession's ``sector_moves``) and retire-and-return
SECTOR_SOURCES = ("sector_in",)
SECTOR_REASONS = ("sector_out",)
SECTOR_COUNTS = ("sector_moves",)
RETURN_SOURCES = ("retire_return",)
RETURN_COUNTS = ("returned",)
# Counts by cell (band and group: sim.model.cells), only for a scenario with characteristics or bands (a
# scenario with neither has one cell: these are empty and its dataset leaves them out); and the promotion
# flows, only for a scenario where some profession has a career ladder.
CELL_COUNTS = (
    Count("staff_by_group", ("time", "profession", "place", "band", "group"), "people",
          "staff in post at the end of the month by band and group (in-service trainees not included)", True),
    Count("joiners_by_group", ("time", "profession", "place", "group"), "people per month",
          "appointments in the month by group: newly qualified staff and experienced hires (moves within the "
          "system not included)", False),
    Count("leavers_by_group", ("time", "profession", "place", "group"), "people per month",
          "staff leaving the workforce in the month by group: retirement and leaver (moves not included)", False),
    Count("promotions", ("time", "profession", "place", "band", "group"), "people per month",
          "staff promoted in the month, by the band they were promoted from", False),
)
COUNTS = COUNTS + CELL_COUNTS
CELL_COUNT_NAMES = tuple(c.name for c in CELL_COUNTS)
BAND_SOURCES = ("promoted_in",)
BAND_REASONS = ("promoted_out",)


def count_shapes(months: int, professions: int, places: int, programmes: int, bands: int = 1,
                 groups: int = 1) -> dict[str, tuple[int, ...]]:
    """The shape of each raw count (without ``replicate``) for a plan of these sizes; counts by cell are
    empty (every dimension 0) where there is only one cell."""
    size = {"time": months, "profession": professions, "place": places, "programme": programmes,
            "source": len(SOURCES), "reason": len(REASONS), "from_sector": len(SECTORS), "to_sector": len(SECTORS),
            "band": bands, "group": groups}
    out = {c.name: tuple(size[d] for d in c.dims) for c in COUNTS}
    if bands * groups == 1:
        out.update({name: (0,) * len(out[name]) for name in CELL_COUNT_NAMES})
    return out


def plan_count_shapes(plan) -> dict[str, tuple[int, ...]]:
    """:func:`count_shapes` for a plan (``sim.model.plan.Plan``)."""
    return count_shapes(*plan.shape, len(plan.programmes), len(plan.bands), len(plan.groups))


@dataclass(frozen=True)
class Step:
    """One step of the month (see the table above)."""
    name: str
    what: str


MONTH = (
    Step("retire", "staff at their retirement month retire"),
    Step("leave", "staff leave at the month's hazard"),
    Step("move", "staff move place, ICS or region, sector, or staff group, or up a band"),
    Step("attrition", "trainees who started before the month may drop out"),
    Step("complete", "cohorts at the end of their programme complete"),
    Step("place", "completers wanting a local post take one (graduates before experienced hires)"),
    Step("rotate", "scheduled rotations of trainees in post"),
    Step("hire", "experienced hires start: the queue first, then the month's, by place then source"),
    Step("start", "the month's intake starts"),
    Step("record", "stocks are counted"),
)
STEPS = tuple(s.name for s in MONTH)
