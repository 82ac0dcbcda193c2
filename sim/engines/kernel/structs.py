"""The kernel's named data: what it reads (built from a plan by ``data.py``), what it writes, and its
per-replicate state; plus the index constants its compiled code uses.

Numba compiles named tuples of arrays, so functions take a handful of these instead of thirty arrays
in an order both sides had to agree on. They are flat (no tuple inside a tuple): a ``prange`` loop
cannot take nested tuples. Shapes: M months, P professions, L places, G programmes, S recruited
sources, A years of age, R replicates; L counts locations (providers), which the kernel calls places; SUB
cells (band × group, ``sim.model.cells``; 1 without characteristics and bands, when nothing by cell is drawn
or counted), Gr groups, B bands, S_all all joiner sources.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

# Indices the compiled code writes to; literals, because numba freezes other modules' globals into the
# compiled kernel without noticing when they change. tests/test_kernel_flows.py checks each against
# sim.model.flows (SOURCE, REASON, RECRUITED).
NEWLY_QUALIFIED, FIRST_RECRUITED, ROTATION_IN, TRAINING_START, TRANSFER_IN, MOVED_IN = 0, 1, 4, 5, 6, 7   # sources
SECTOR_IN, RETIRE_RETURN, PROMOTED_IN = 8, 9, 10
RETIREMENT, LEAVER, ROTATION_OUT, COMPLETED, TRANSFER_OUT, MOVED_OUT, SECTOR_OUT = 0, 1, 2, 3, 4, 5, 6   # reasons
PROMOTED_OUT = 7
# kinds of event filed in the calendar (EV_RETURN: a retiree who returns, filed under their retirement month)
EV_ROTATE, EV_DROP, EV_COMPLETE, EV_RETURN = range(4)
# an agent's programme when not a trainee
NO_PROGRAMME = -1
GONE = -2               # a trainee who dropped out, or completed without taking a local post
RETURNED = -3           # a retiree back in post (retire and return): leaves at their own hazard only
# State.count: lengths of the growing lists
AGENTS, PENDING, ROTATING = range(3)
OVERFLOW = 1            # a replicate's status when it ran out of agent slots


class Staff(NamedTuple):
    """Staff at the start, the hazards their next events are drawn from, and where a move takes them.

    The tables read once per agent or per move are kept as their distinct rows and an index ([P, L] or
    [P, L, SUB] → row): England's 530 providers share a handful of hazard rows, and as one row per
    provider (~60 MB) they did not fit in cache. The rows are exact copies, so the results are the same."""
    headcount: np.ndarray       # [P, L] int64 staff at the start
    cum_leave: np.ndarray       # [U, M+1] distinct rows of the cumulative leaving hazard (before the age multiplier)
    leave_row: np.ndarray       # [P, L, SUB] int64 the row of ``cum_leave`` of each profession, location and cell
    cum_move: np.ndarray        # [V, M+1] distinct rows of the cumulative hazard of a move (rotation, ..., promotion)
    move_row: np.ndarray        # [P, L, SUB] int64 the row of ``cum_move`` of each profession, location and cell
    age_flat: np.ndarray        # [P, L] bool: no age multiplier on leaving
    age_row: np.ndarray         # [P, L] int64 the row of ``age_mult`` and ``age_runs``
    age_mult: np.ndarray        # [W, A] distinct rows of the leaving hazard multiplier by year of age
    age_runs: np.ndarray        # [W, A] int64 next year of age with another multiplier (``draws.age_runs``)
    rotation: np.ndarray        # [M, P, L] hazard of moving place
    transfer: np.ndarray        # [M, P, L, P] hazard of moving to another staff group or sector
    move: np.ndarray            # [M, P, L] rotation + migration + each transfer hazard, added in that order (as a
                                # move splits)
    rotation_cdf: np.ndarray    # [U, L] distinct rows of the cumulative weights of the new location of a move
    rotation_row: np.ndarray    # [P, L] int64 the row of ``rotation_cdf`` of each profession and location
    migrate: np.ndarray         # [M, P, L] hazard of moving to another ICS or region (mobility; 0 without it)
    migrate_cdf: np.ndarray     # [U, L] distinct rows of the cumulative weights of the new location of such a move
    migrate_row: np.ndarray     # [P, L] int64 the row of ``migrate_cdf``
    sector: np.ndarray          # [M, P, L] hazard of moving to a provider of another sector (0 without sector_moves)
    sector_cdf: np.ndarray      # [U, L] distinct rows of the cumulative weights of the new location of such a move
    sector_row: np.ndarray      # [P, L] int64 the row of ``sector_cdf``
    location_sector: np.ndarray  # [L] int64 sector of each location (index into SECTORS; -1: none)
    return_share: np.ndarray    # [M, P, L] share of the month's retirees who return (retire and return)
    cum_return: np.ndarray      # [U, M+1] distinct rows of the cumulative leaving hazard of returners
    return_row: np.ndarray      # [P, L] int64 the row of ``cum_return``
    promote: np.ndarray         # [M, P, SUB] hazard of promotion to the next band (0 at the top; [M, P, 1] of 0
                                # without cells)
    promote_to: np.ndarray      # [P, SUB] int64 the cell a promotion leads to (-1: none)


class Draws(NamedTuple):
    """Ages and retirement ages as (cdf over months, guide table) pairs (``draws.guide_table``)."""
    retire_cdf: np.ndarray      # [P, months of age]
    retire_guide: np.ndarray
    staff_age_cdf: np.ndarray   # [P, months of age] staff at the start
    staff_age_guide: np.ndarray
    joiner_age_cdf: np.ndarray  # [P, months of age] experienced hires
    joiner_age_guide: np.ndarray
    entry_age_cdf: np.ndarray   # [G, months of age] starters of a programme
    entry_age_guide: np.ndarray
    start_cell_cdf: np.ndarray  # [P, L, SUB] cumulative shares of staff at the start by cell
    group_cdf: np.ndarray       # [M, P, L, S_all, Gr] cumulative group shares of joiners by source ([1]*5 if Gr = 1)
    band_cdf: np.ndarray        # [P, S_all, B] cumulative band shares of joiners by source


class Recruitment(NamedTuple):
    """Experienced hires, and the posts any joiner needs where hiring is only into vacancies."""
    rates: np.ndarray           # [M, P, L, S] expected arrivals by source
    capacity: np.ndarray        # [M, P] most hires of a profession who may start in the month (inf: no limit)
    posts: np.ndarray           # [R or 1, M, P, L] staff a place may employ, in heads (inf: no limit)
    pool: np.ndarray            # [M, P, L] int64 shared recruitment pool of the location (-1: none): a hire
                                # finding no vacancy goes to the pool's location with the most vacant posts


class Programmes(NamedTuple):
    """Training programmes: who they produce, how long, who drops out, who starts, where they go."""
    produces: np.ndarray        # [G] int64 profession
    trainee_prof: np.ndarray    # [G] int64 profession of in-service trainees (counted in its headcount), -1 if none
    months: np.ndarray          # [G] int64 length
    dropout: np.ndarray         # [M, G, L] monthly dropout probability of a cohort starting in the month
    intake: np.ndarray          # [M, G, L] int64 starters
    local: np.ndarray           # [M, G, L] probability a completer wants a local post
    cohorts: np.ndarray         # [K, 4] int64 (programme, place, start month < 0, count) in training at the start
    rotate: np.ndarray          # [M, G] bool: trainees in post change place in the month
    rotation_cdf: np.ndarray    # [G, L, L] cumulative weights of a rotating trainee's new place
    graduate_cdf: np.ndarray    # [G, L, L] cumulative probabilities of where a completer not taking a local post
                                # looks for one (mobility); beyond the last entry: they leave


class Outputs(NamedTuple):
    """The raw counts (``sim.model.flows.COUNTS``): [R, ...] for all replicates, or one replicate's."""
    headcount: np.ndarray       # [M, P, L]
    joiners: np.ndarray         # [M, P, L, sources]
    leavers: np.ndarray         # [M, P, L, reasons]
    trainees: np.ndarray        # [M, G, L]
    completions: np.ndarray     # [M, G, L]
    unplaced: np.ndarray        # [M, G, L]
    graduates_moved: np.ndarray  # [M, G, L] by place of training
    returned: np.ndarray        # [M, P, L] retirees back in post
    sector_moves: np.ndarray    # [M, P, sectors, sectors] moves between sectors, from → to
    staff_by_group: np.ndarray  # [M, P, L, SUB] (all dimensions 0 without cells)
    joiners_by_group: np.ndarray  # [M, P, L, Gr]
    leavers_by_group: np.ndarray  # [M, P, L, Gr]
    promotions: np.ndarray      # [M, P, L, SUB] by the cell promoted from


class State(NamedTuple):
    """A replicate's stocks, calendar and queues as the months go by."""
    head: np.ndarray            # [M] int32 first agent filed under the month's events (-1: none)
    gone: np.ndarray            # [P, L, M, 2] int32 staff leaving (0) or retiring (1) in the month, counted as
                                # drawn (by location first: a location's agents are drawn together, so their
                                # months share a few cache lines; [M, P, L] was a cache miss per agent)
    hc: np.ndarray              # [P, L] headcount, in-service trainees included
    tin: np.ndarray             # [P, L] of which in-service trainees
    trn: np.ndarray             # [G, L] trainees
    queue: np.ndarray           # [P, runs, 3] hires waiting for a start: runs of (place, source, count), FIFO
    q_first: np.ndarray         # [P] the queue's first run
    q_end: np.ndarray           # [P] one past its last run
    scheduled: np.ndarray       # [G] bool: the programme has a rotation schedule
    posts: np.ndarray           # [M, P, L] this replicate's ``Recruitment.posts``
    count: np.ndarray           # [3] int64 agents used, completers pending a post, trainees on a schedule
    ret: np.ndarray             # [P, L] retirees back in post
    ret_gone: np.ndarray        # [M, P, L] of ``gone``'s leavers: returners leaving in the month
    hc_sub: np.ndarray          # [P, L, SUB] staff in post by cell, in-service trainees not included ([1, 1, 1]
                                # without cells)
    gone_sub: np.ndarray        # [P, L, M, SUB] int32 ... leaving or retiring in the month by cell, counted as drawn


class Agents(NamedTuple):
    """Agent columns and lists of agents: the rows of one int32 ``work`` array (see ``agent_columns``), reused
    from replicate to replicate."""
    prof: np.ndarray            # profession (a trainee's: the one their programme produces)
    place: np.ndarray
    birth: np.ndarray           # month of birth
    retire: np.ndarray          # month of retirement
    prog: np.ndarray            # programme, NO_PROGRAMME or GONE
    kind: np.ndarray            # kind of the event filed for them
    link: np.ndarray            # next agent filed under the same month (-1: none)
    pending: np.ndarray         # the month's completers who want a local post
    order: np.ndarray           # ... grouped by staff group, in random order within it
    rota: np.ndarray            # trainees of programmes with a rotation schedule, in agent order
    sub: np.ndarray             # cell: band × Gr + group (trainees: their group; not written or read without
                                # cells: one column less of memory traffic per agent)


WORK_ROWS = len(Agents._fields)


@njit(cache=True, inline="always")
def agent_columns(work):
    """The agents' columns, named: views of the rows of ``work`` [WORK_ROWS, slots].

    Functions take ``work`` and name its rows themselves, rather than take ``Agents``: views of one
    array share its base and stride, which the compiler then keeps once; as ten separate arrays (ten
    pointers live across the hot loops) the run took ~3% more instructions."""
    return Agents(work[0], work[1], work[2], work[3], work[4], work[5], work[6], work[7], work[8], work[9],
                  work[10])
