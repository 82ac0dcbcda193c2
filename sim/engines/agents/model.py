"""One replicate of the agent engine: a Mesa model (the registry of agents) on a SimPy clock.

Time is owned by one ``simpy.Environment``; its unit is a hundredth of a month, so that the steps of
a month happen in a fixed order (``PHASES``), the order of ``sim.model.flows.MONTH`` (``STEPS_OF_PHASE``
says which step each phase carries out):

==========  =====================================================================================
retire      retirement-date events, one per staff member, drawn when they join
establish   funded posts (:class:`Role` agents) follow the month's funded establishment
staff       monthly turnover: each staff member may leave, or move place (rotation), ICS or region,
            sector or staff group (transfer), at the month's hazards; retirees back in post
            (:class:`Returner`) may leave at their own hazard
train       attrition: each trainee past their first month may drop out
complete    programme-completion events, one per cohort, at the end of its programme
place       the month's completers who want a local post take one, in random order (as in the kernel)
rotate      rotation dates of programmes with a rotation schedule (a SimPy process per programme): every
            trainee of the programme still in training draws a new place in their ICS by the programme's
            place shares (:meth:`WorkforceModel.rotate`)
decide      recruitment: the hiring decisions (vacancies advertised) for starts ``time_to_hire``
            months later
slots       where a profession's recruitment capacity is limited, its recruiting team's places for
            the month are set (a ``simpy.Container``): hires queuing from earlier months take them
            first, in the order they queued
hire        the experienced hires decided ``time_to_hire`` months ago start (where the scenario
            hires only into vacancies, only while a post is vacant; where capacity is limited,
            only while the month has places left, the rest queue for a place in a later month)
start       the month's intake of trainees starts
record      monthly accounting: headcount and trainees counted from the agent registry
==========  =====================================================================================

People arriving in a month have no events in it: hires, newly qualified staff and starters arrive
after that month's turnover and attrition steps.

Funded posts: each month there are floor(funded FTE / FTE per head) :class:`Role` agents per
profession and place. Staff in post hold one each while there are enough (the rest are over
establishment, and take the next post to fall vacant); in-service trainees hold none. Where the
scenario hires only into vacancies, a newly qualified completer or an experienced hire joins only
if a post is vacant (a completer who finds none is ``unplaced``), as in the kernel; otherwise posts
are bookkeeping and change no count. The Mesa model is never stepped: it is the
registry (``agents_by_type``, ``AgentSet.select`` / ``groupby`` for cohort actions).

Random numbers: one ``numpy.random.Generator`` per decision (ages, retirement, leaving, moving,
destination, attrition, employment, placement at scheduled rotations; recruitment per profession), keyed by (seed, replicate,
decision), so replicates are independent of each other and of how they are spread over processes.
"""
from __future__ import annotations

import gc
import math

import mesa
import numpy as np
import simpy

from ...model.flows import RECRUIT_SOURCES, RECRUITED, REASON as RSN, SOURCE as SRC, plan_count_shapes
from ...model.plan import Plan, age_cdf
from .agents import Person, Returner, Role, StaffMember, Trainee
from .mesa_compat import forget_model

TICKS = 100                                          # SimPy time units per month
PHASES = {"retire": 0, "establish": 5, "staff": 10, "train": 20, "complete": 30, "place": 31, "rotate": 33,
          "decide": 35, "slots": 38, "hire": 40, "start": 50, "record": 90}
# the steps of the month (sim.model.flows.MONTH) each phase carries out; the others are bookkeeping
STEPS_OF_PHASE = {"retire": ("retire",), "establish": (), "staff": ("leave", "move"), "train": ("attrition",),
                  "complete": ("complete",), "place": ("place",), "rotate": ("rotate",), "decide": (), "slots": (),
                  "hire": ("hire",), "start": ("start",), "record": ("record",)}
UNLIMITED = 1 << 40      # a month without a recruitment limit, for a profession limited in other months
STREAMS = ("age", "retirement", "leaving", "moving", "destination", "attrition", "employment", "recruitment",
           "mesa", "placement", "mobility", "returning", "cell")    # (new names go last: a stream's key is its position)
STREAM_BASE = 100        # decision keys 100.. (the kernel uses 0..6), so the engines never share streams


def at(month: int, phase: str) -> int:
    """SimPy time of a phase of a month."""
    return month * TICKS + PHASES[phase]


def _pick(cum: np.ndarray, x: float) -> int:
    """The first index whose cumulative weight exceeds x (never one of zero weight, even at rounding)."""
    i = int(np.searchsorted(cum, x, side="right"))
    if i >= len(cum) or cum[i] <= (cum[i - 1] if i else 0.0):
        i = int(np.flatnonzero(np.diff(cum, prepend=0.0) > 0)[-1])
    return i


def stream(seed: int, replicate: int, name: str, *more: int) -> np.random.Generator:
    key = (int(replicate), STREAM_BASE + STREAMS.index(name), *more)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


class WorkforceModel(mesa.Model):
    """The workforce of one replicate: build with a plan, then :meth:`run`."""

    def __init__(self, plan: Plan, seed: int, replicate: int = 0, trace: bool = False,
                 funded_posts: np.ndarray | None = None):
        self.rng_for = {name: stream(seed, replicate, name) for name in STREAMS if name != "recruitment"}
        super().__init__(seed=int(self.rng_for.pop("mesa").integers(2 ** 31)))
        self.plan = plan
        self.M, self.P, self.L = plan.shape
        self.G = len(plan.programmes)
        self.recruit_rng = [stream(seed, replicate, "recruitment", p) for p in range(self.P)]
        self.month = -1
        self.graduating: list[Trainee] = []
        self.events: list[tuple] | None = [] if trace else None
        self.out = {name: np.zeros(shape, np.int32) for name, shape in plan_count_shapes(plan).items()}
        # characteristics and bands (sim.model.cells): each member of staff is in a cell, band × groups + group
        self.cells = plan.cells > 1
        self.n_groups = len(plan.groups)
        self.staff_age_cdf = age_cdf(plan.staff_age)
        self.joiner_age_cdf = age_cdf(plan.joiner_age)
        self.entry_age_cdf = age_cdf(plan.prog_entry_age)
        funded = plan.funded_posts if funded_posts is None else funded_posts          # [M, P, L] FTE
        with np.errstate(divide="ignore", invalid="ignore"):
            heads = np.where(plan.fte_per_head > 0, funded / plan.fte_per_head, 0.0)
        self.establishment = np.floor(heads + 1e-9).astype(np.int64)                   # posts [M, P, L]
        self.only_into_vacancies = bool(plan.hire_only_into_vacancies)
        keys = [(p, l) for p in range(self.P) for l in range(self.L)]
        self.roles: dict[tuple[int, int], dict[Role, None]] = {k: {} for k in keys}     # ordered sets
        self.vacant: dict[tuple[int, int], dict[Role, None]] = {k: {} for k in keys}
        self.over: dict[tuple[int, int], dict[StaffMember, None]] = {k: {} for k in keys}  # staff without a post
        lead = int(plan.time_to_hire.max()) if self.P else 0
        self.env = simpy.Environment(initial_time=at(-1 - lead, "record"))

        self._initial_population()
        if self.M:
            self.set_establishment(0)             # posts at the start, filled by the staff in post
        for s in self.agents_by_type.get(StaffMember, ()) if trace else ():
            self.log(s, -1, "in_post", "", plan.locations[s.place])
        self.env.process(self.monthly_tick())
        for p in range(self.P):
            self.env.process(self.recruitment(p))
        for g in range(self.G):                   # rotation schedules of in-service programmes
            if plan.prog_rotate[:, g].any():
                self.env.process(self.rotation_schedule(g))
        # recruiting teams of limited capacity: a Container of the month's places to start, one per profession
        self.hiring_slots: dict[int, simpy.Container] = {}
        for p in range(self.P):
            if np.isfinite(plan.recruit_capacity[:, p]).any():
                self.hiring_slots[p] = simpy.Container(self.env)
                self.env.process(self.recruiting_team(p))

    # --- running -----------------------------------------------------------------------------------
    def run(self) -> dict[str, np.ndarray]:
        self.env.run(until=at(self.M, "retire"))
        return self.out

    def _wait(self, month: int, phase: str) -> simpy.Timeout:
        return self.env.timeout(at(month, phase) - self.env.now)

    def _on(self, month: int, phase: str, action) -> None:
        """Schedule ``action()`` as an event at a phase of a month (ignored past the horizon)."""
        if month < self.M:
            self._wait(month, phase).callbacks.append(lambda _event: action())

    def monthly_tick(self):
        """The monthly clock: turnover, attrition, starters and accounting at their phases."""
        for m in range(self.M):
            yield self._wait(m, "establish")
            self.month = m
            self.set_establishment(m)
            yield self._wait(m, "staff")
            self.staff_turnover(m)
            yield self._wait(m, "train")
            self.training_attrition(m)
            yield self._wait(m, "start")
            self.starters(m)
            yield self._wait(m, "record")
            self.record(m)

    # --- the population at the start ------------------------------------------------------------------
    def _initial_population(self) -> None:
        """Staff in post and trainees in training at the end of month -1."""
        plan = self.plan
        for p in range(self.P):
            for l in range(self.L):
                n = int(plan.init_headcount[p, l])
                for a0 in self._ages(self.staff_age_cdf[p], n):
                    self._new_staff(p, l, birth=-1 - a0, month=-1, origin="in_post")
        for g, l, started, n in plan.init_cohorts:
            self._new_cohort(int(g), int(l), int(started), int(n))

    # --- agents joining ---------------------------------------------------------------------------------
    def _ages(self, cdf: np.ndarray, n: int) -> np.ndarray:
        """n ages in months drawn from a cumulative distribution over months (inverse transform)."""
        u = self.rng_for["age"].random(n)
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)

    def retirement_month(self, p: int, birth: int, age_now: int) -> int:
        """Absolute month of retirement from profession p, given no retirement by age ``age_now``."""
        cdf = self.plan.retire_cdf[p]
        g0 = cdf[age_now] if age_now < len(cdf) else 1.0
        if g0 >= 1.0:
            return birth + age_now + 1
        target = g0 + self.rng_for["retirement"].random() * (1.0 - g0)
        return birth + min(int(np.searchsorted(cdf, target, side="right")), len(cdf) - 1)

    def _schedule_retirement(self, s: StaffMember, month: int) -> None:
        s.retire_month = self.retirement_month(s.profession, s.birth, month - s.birth)
        due = s.retire_month
        self._on(due, "retire", lambda: self.retire(s, due))

    def _draw(self, shares: np.ndarray) -> int:
        """An index drawn by its shares (the ``cell`` stream)."""
        return _pick(np.cumsum(shares), self.rng_for["cell"].random() * shares.sum())

    def _cell(self, p: int, l: int, month: int, origin: str, group: int | None = None) -> int:
        """A joiner's cell: staff in post at the start by the start shares; joiners by their source's group
        shares (unless they keep their ``group``) and entry band shares. 0, drawing nothing, with one cell."""
        plan = self.plan
        if not self.cells:
            return 0
        if origin == "in_post":
            return self._draw(plan.start_sub[p, l])
        src = SRC[origin]
        if group is None:
            group = self._draw(plan.group_shares(month)[p, l, src]) if self.n_groups > 1 else 0
        band = self._draw(plan.entry_band[p, src]) if len(plan.bands) > 1 else 0
        return band * self.n_groups + group

    def _new_staff(self, p: int, l: int, birth: int, month: int, origin: str, person: int | None = None,
                   post: Role | None = None, group: int | None = None) -> StaffMember:
        s = StaffMember(self, p, l, birth, person=person)
        s.cell = self._cell(p, l, month, origin, group)
        if self.cells and origin != "in_post":
            self.out["joiners_by_group"][month, p, l, s.cell % self.n_groups] += 1
        self._schedule_retirement(s, month)
        self.take_post(s, post)
        if origin != "in_post":                  # (the staff in post at the start are logged once posts exist)
            self.log(s, month, "hired", origin, self.plan.locations[l])
        return s

    def _new_cohort(self, g: int, l: int, started: int, n: int) -> None:
        """n trainees starting programme g at place l in month ``started``, and their completion event."""
        for a in self._ages(self.entry_age_cdf[g], n):
            t = Trainee(self, g, l, started, birth=started - a)
            if self.cells and self.n_groups > 1:     # their group from the training_start shares
                t.group = self._draw(self.plan.group_shares(max(started, 0))[self.plan.prog_produces[g], l,
                                                                             SRC["training_start"]])
            self.log(t, started, "start", "", self.plan.programmes[g])
        finish = started + int(self.plan.prog_months[g])
        self._on(finish, "complete", lambda: self.programme_completion(g, l, started, finish))

    # --- funded posts -----------------------------------------------------------------------------------
    def set_establishment(self, m: int) -> None:
        """Create or cut posts to the month's establishment (vacant posts are cut first)."""
        for (p, l), roles in self.roles.items():
            target = int(self.establishment[m, p, l])
            while len(roles) < target:
                role = Role(self, p, l)
                roles[role] = None
                self._post_fell_vacant(role)
            while len(roles) > target:
                vacant = self.vacant[p, l]
                if vacant:
                    role = vacant.popitem()[0]
                else:                                        # a filled post is cut: its holder is over establishment
                    role = next(reversed(roles))
                    holder = role.holder_agent
                    holder.role, role.holder, role.holder_agent = None, None, None
                    self.over[p, l][holder] = None
                del roles[role]
                role.remove()

    def has_vacancy(self, p: int, l: int) -> bool:
        return bool(self.vacant[p, l])

    def _post_fell_vacant(self, role: Role) -> None:
        """A post with no holder: the longest-waiting staff member over establishment takes it, else it is vacant."""
        over = self.over[role.profession, role.place]
        if over:
            self._fill(role, next(iter(over)))
        else:
            role.advertised = False
            self.vacant[role.profession, role.place][role] = None

    def _fill(self, role: Role, s: StaffMember) -> None:
        self.vacant[role.profession, role.place].pop(role, None)
        self.over[role.profession, role.place].pop(s, None)
        role.holder, role.holder_agent, role.advertised, s.role = s.person, s, False, role

    def take_post(self, s: StaffMember, post: Role | None = None) -> None:
        """A joiner fills the post advertised for them if still vacant, else any vacant post, else none."""
        vacant = self.vacant[s.profession, s.place]
        role = post if post is not None and post in vacant else next(reversed(vacant), None) if vacant else None
        if role is not None:
            self._fill(role, s)
        else:
            self.over[s.profession, s.place][s] = None

    def vacate_post(self, s: StaffMember) -> None:
        role = s.role
        if role is None:
            self.over[s.profession, s.place].pop(s, None)
            return
        s.role, role.holder, role.holder_agent = None, None, None
        self._post_fell_vacant(role)

    def advertise(self, p: int, l: int, n: int) -> list[Role | None]:
        """Hiring decisions: mark up to n vacant posts as advertised (None where there are not enough)."""
        found = []
        for role in self.vacant[p, l]:
            if len(found) == n:
                break
            if not role.advertised:
                role.advertised = True
                found.append(role)
        return found + [None] * (n - len(found))

    # --- staff events -------------------------------------------------------------------------------------
    def _gone(self, person: Person) -> None:
        if isinstance(person, StaffMember):
            self.vacate_post(person)
        person.active = False
        person.remove()

    def retire(self, s: StaffMember, due: int) -> None:
        """A retirement-date event (stale if they already left, or moved staff group and redrew it). With
        retire-and-return a share of retirees rejoin at once, at the same provider, as a :class:`Returner`."""
        if s.active and s.retire_month == due:
            p, l, birth, person = s.profession, s.place, s.birth, s.person
            self.leave(s, due, "retirement")
            share = self.plan.return_share[due, p, l]
            if share > 0 and self.rng_for["returning"].random() < share:
                r = Returner(self, p, l, birth, person=person, joined=due)   # (not in the counts by group)
                self.take_post(r)
                self.out["joiners"][due, p, l, SRC["retire_return"]] += 1
                self.log(r, due, "return", "retired", self.plan.locations[l])

    def leave(self, s: StaffMember, m: int, reason: str) -> None:
        self.out["leavers"][m, s.profession, s.place, RSN[reason]] += 1
        if self.cells and not isinstance(s, Returner):     # (returners are not in the counts by group)
            self.out["leavers_by_group"][m, s.profession, s.place, s.cell % self.n_groups] += 1
        self.log(s, m, reason, self.plan.professions[s.profession], "retired" if reason == "retirement" else "left")
        self._gone(s)

    def staff_turnover(self, m: int) -> None:
        """Each staff member in post since before this month: leave, else perhaps move (place, ICS or region,
        sector, or staff group); then returners who rejoined before this month may leave."""
        self.returner_turnover(m)
        staff = self.agents_by_type.get(StaffMember)
        if not staff:
            return
        plan = self.plan
        top = plan.leave_age_mult.shape[2] - 1
        groups = staff.groupby("group", result_type="list").groups
        for p, l in sorted(groups):
            people = groups[p, l]
            n = len(people)
            years = np.fromiter((m - s.birth for s in people), np.int64, n) // 12
            hazard = plan.leave_hazard[m, p, l] * plan.leave_age_mult[p, l, np.minimum(years, top)]
            promote = np.zeros(n)
            if self.cells:                              # by cell: leaving multipliers, promotion hazards
                cell = np.fromiter((s.cell for s in people), np.int64, n)
                hazard = hazard * plan.leave_mult_sub[m, p, cell]
                promote = plan.promotion_hazard[m, p, cell]
            leaving = self.rng_for["leaving"].random(n) < -np.expm1(-hazard)
            rot, to = plan.rotation_hazard[m, p, l], plan.transfer_hazard[m, p, l]
            mig, sec = plan.migrate_hazard[m, p, l], plan.sector_hazard[m, p, l]
            total = rot + mig + sec + to.sum()          # (hazards of 0 leave the sum as it was)
            if self.cells:
                total = total + promote
            moving = np.zeros(n, bool)
            if self.cells:
                moving = (self.rng_for["moving"].random(n) < -np.expm1(-total)) & ~leaving
            elif total > 0:
                moving = (self.rng_for["moving"].random(n) < -math.expm1(-total)) & ~leaving
            for i in np.flatnonzero(leaving):
                self.leave(people[i], m, "leaver")
            for i in np.flatnonzero(moving):
                self.move(people[i], m, rot, mig, sec, to, promote[i])

    def returner_turnover(self, m: int) -> None:
        """Each returner who rejoined before this month leaves at the returners' hazard (they do not move)."""
        back = self.agents_by_type.get(Returner)
        if not back:
            return
        hazard = self.plan.return_hazard[m]
        people = [r for r in back if r.joined < m]
        q = np.array([-math.expm1(-hazard[r.profession, r.place]) for r in people])
        for i in np.flatnonzero(self.rng_for["returning"].random(len(people)) < q):
            self.leave(people[i], m, "leaver")

    def move(self, s: StaffMember, m: int, rot: float, mig: float, sec: float, to: np.ndarray,
             promote: float = 0.0) -> None:
        """A move: to another place of the ICS with probability rot/total, to another ICS or region with
        mig/total (mobility), to a provider of another sector with sec/total, to staff group q with
        to[q]/total, else up a band (promote/total)."""
        plan = self.plan
        p, l = s.profession, s.place
        base = rot + mig + sec + to.sum()
        x = self.rng_for["destination"].random() * (base + promote)
        if promote > 0 and x >= base:               # promotion: the next band, same place, post and group
            self.promote(s, m)
            return
        self.vacate_post(s)
        if x < rot:
            l2 = _pick(plan.rotation_cdf[p, l], x / rot)
            self.out["leavers"][m, p, l, RSN["rotation_out"]] += 1
            self.out["joiners"][m, p, l2, SRC["rotation_in"]] += 1
            s.move_to(l2)
            event, before, after = "rotation", plan.locations[l], plan.locations[l2]
        elif x - rot < mig:
            l2 = _pick(plan.migrate_cdf[p, l], (x - rot) / mig)
            self.out["leavers"][m, p, l, RSN["moved_out"]] += 1
            self.out["joiners"][m, p, l2, SRC["moved_in"]] += 1
            s.move_to(l2)
            event, before, after = "moved", plan.locations[l], plan.locations[l2]
        elif x - rot - mig < sec:
            l2 = _pick(plan.sector_cdf[p, l], (x - rot - mig) / sec)
            self.out["leavers"][m, p, l, RSN["sector_out"]] += 1
            self.out["joiners"][m, p, l2, SRC["sector_in"]] += 1
            self.out["sector_moves"][m, p, plan.location_sector_index[l], plan.location_sector_index[l2]] += 1
            s.move_to(l2)
            event = "sector"
            before = f"{plan.locations[l]} ({plan.location_sector[l]})"
            after = f"{plan.locations[l2]} ({plan.location_sector[l2]})"
        else:
            q = _pick(np.cumsum(to), x - rot - mig - sec)
            self.out["leavers"][m, p, l, RSN["transfer_out"]] += 1
            self.out["joiners"][m, q, l, SRC["transfer_in"]] += 1
            s.profession = q
            if self.cells:                          # same group, the destination's entry band
                s.cell = self._cell(q, l, m, "transfer_in", s.cell % self.n_groups)
            self._schedule_retirement(s, m)
            event, before, after = "transfer", plan.professions[p], plan.professions[q]
        self.take_post(s)
        self.log(s, m, event, before, after)

    def promote(self, s: StaffMember, m: int) -> None:
        """A promotion: up to the next band of the profession's ladder (``promoted_out`` → ``promoted_in`` at
        the same place; they keep their post)."""
        plan = self.plan
        p, l, c = s.profession, s.place, s.cell
        s.cell = (int(plan.next_band[p, c // self.n_groups]) * self.n_groups) + c % self.n_groups
        self.out["leavers"][m, p, l, RSN["promoted_out"]] += 1
        self.out["joiners"][m, p, l, SRC["promoted_in"]] += 1
        self.out["promotions"][m, p, l, c // self.n_groups, c % self.n_groups] += 1
        self.log(s, m, "promotion", plan.bands[c // self.n_groups], plan.bands[s.cell // self.n_groups])

    # --- training ------------------------------------------------------------------------------------------
    def training_attrition(self, m: int) -> None:
        """Each trainee who started before this month may drop out (this month's starters come later)."""
        trainees = self.agents_by_type.get(Trainee)
        if not trainees:
            return
        groups = trainees.groupby("programme", result_type="list").groups
        dropout = self.plan.prog_dropout
        for g in sorted(groups):
            if not dropout[:, g].any():
                continue
            people = groups[g]
            q = np.array([dropout[max(t.started, 0), g, t.cohort[1]] for t in people])  # the cohort's start month, place
            for i in np.flatnonzero(self.rng_for["attrition"].random(len(people)) < q):
                self.drop_out(people[i], m)

    def drop_out(self, t: Trainee, m: int) -> None:
        tp = self.plan.prog_trainee_prof[t.programme]
        if tp >= 0:
            self.out["leavers"][m, tp, t.place, RSN["leaver"]] += 1
        self.log(t, m, "dropout", self.plan.programmes[t.programme], "dropped out")
        self._gone(t)

    def rotation_schedule(self, g: int):
        """Programme g's rotation dates, as a SimPy process: it fires on each scheduled month (after the month's
        dropouts and completions, before its starters) and rotates the programme's trainees."""
        for m in np.flatnonzero(self.plan.prog_rotate[:, g]):
            yield self._wait(int(m), "rotate")
            self.rotate(g, int(m))

    def rotate(self, g: int, m: int) -> None:
        """Every trainee of programme g in post (started before month m) changes placement: the new place is
        drawn from the programme's place shares within their ICS (``prog_rotation_cdf``); drawing the current
        place means staying. A move counts as rotation_out at the old place and rotation_in at the new one."""
        trainees = self.agents_by_type.get(Trainee)
        if not trainees:
            return
        plan = self.plan
        rotating = trainees.select(lambda t: t.programme == g and t.started < m)
        cdf = plan.prog_rotation_cdf[g]
        tp = plan.prog_trainee_prof[g]
        for t, x in zip(rotating, self.rng_for["placement"].random(len(rotating))):
            l = t.place
            if cdf[l, -1] <= 0:                   # no place of the ICS has a share: nobody moves
                continue
            l2 = _pick(cdf[l], x)
            if l2 == l:
                continue
            t.move_to(l2)
            if tp >= 0:
                self.out["leavers"][m, tp, l, RSN["rotation_out"]] += 1
                self.out["joiners"][m, tp, l2, SRC["rotation_in"]] += 1
            self.log(t, m, "rotation", plan.locations[l], plan.locations[l2])

    def programme_completion(self, g: int, l: int, started: int, m: int) -> None:
        """The completion event of the cohort that started programme g at place l in month ``started``: its
        completers join the month's graduates, who are placed together once every cohort has completed."""
        cohort = self.agents_by_type[Trainee].select(lambda t: t.cohort == (g, l, started))
        if not self.graduating:
            self._on(m, "place", lambda: self.place_graduates(m))
        self.graduating += list(cohort)

    def place_graduates(self, m: int) -> None:
        """Graduates of every programme compete for vacant posts in random order (as in the kernel)."""
        people, self.graduating = self.graduating, []
        for i in self.rng_for["employment"].permutation(len(people)):
            self.complete(people[i], m)

    def complete(self, t: Trainee, m: int) -> None:
        plan = self.plan
        g, l = t.programme, t.place
        self.out["completions"][m, g, l] += 1
        tp = plan.prog_trainee_prof[g]
        if tp >= 0:
            self.out["leavers"][m, tp, l, RSN["completed_training"]] += 1
        self._gone(t)
        p = int(plan.prog_produces[g])
        local = self.rng_for["employment"].random() < plan.local_employment[m, g, l]
        away = plan.graduate_cdf[g, l]
        if not local and away[-1] > 0:          # mobility: they may look for a post in another ICS or region
            x = self.rng_for["mobility"].random()
            if x < away[-1]:
                l2 = _pick(away, x)
                self.out["graduates_moved"][m, g, l] += 1
                self.log(t, m, "completion", plan.programmes[g], f"looking in {plan.locations[l2]}")
                l, local = l2, True
        if local and self.only_into_vacancies and not self.has_vacancy(p, l):
            self.out["unplaced"][m, g, l] += 1
            self.log(t, m, "completion", plan.programmes[g], "no local vacancy")
        elif local:
            self.log(t, m, "completion", plan.programmes[g], "local post")
            self.out["joiners"][m, p, l, SRC["newly_qualified"]] += 1
            self._new_staff(p, l, t.birth, m, "newly_qualified", person=t.person, group=t.group)
        else:
            self.log(t, m, "completion", plan.programmes[g], "elsewhere")

    def starters(self, m: int) -> None:
        for g, l in zip(*np.nonzero(self.plan.intake[m])):
            n = int(self.plan.intake[m, g, l])
            tp = self.plan.prog_trainee_prof[g]
            if tp >= 0:
                self.out["joiners"][m, tp, l, SRC["training_start"]] += n
            self._new_cohort(int(g), int(l), m, n)

    # --- recruitment --------------------------------------------------------------------------------------
    def recruitment(self, p: int):
        """Hiring for profession p: decisions (vacancies advertised) ``time_to_hire`` months before the start.

        ``recruit_rate[m]`` is the expected number of starts in month m (already shifted by the time
        to hire); the number of hires is Poisson, decided at month m - time_to_hire.
        """
        plan, rng = self.plan, self.recruit_rng[p]
        lag = int(plan.time_to_hire[p])
        for m in range(self.M):
            yield self._wait(m - lag, "decide")
            for l in range(self.L):
                for k in range(len(RECRUIT_SOURCES)):
                    rate = plan.recruit_rate[m, p, l, k]
                    n = int(rng.poisson(rate)) if rate > 0 else 0
                    if n:
                        posts = self.advertise(p, l, n)
                        self._on(m, "hire", lambda l=l, k=k, posts=posts, m=m: self.hire(p, l, k, posts, m))

    def hire(self, p: int, l: int, k: int, posts: list, m: int) -> None:
        """The hires decided ``time_to_hire`` months ago start (only into vacancies, where so configured).

        Where the profession's recruitment capacity is limited, each start takes one of the month's
        places from its recruiting team; once they are used, the rest queue for one (:meth:`queue_for_start`).
        """
        slots = self.hiring_slots.get(p)
        for i, post in enumerate(posts):
            if slots is not None and (slots.level < 1 or slots.get_queue):
                for waiting in posts[i:]:                  # capacity used: they wait, first come first served
                    self.env.process(self.queue_for_start(p, l, k, waiting))
                return
            where = l
            if self.only_into_vacancies and not self.has_vacancy(p, l):
                where = self.pool_vacancy(p, l, m)
                if where < 0:
                    for left in posts:                     # the rest fall through: no vacancy for them
                        if left is not None and left.holder is None:
                            left.advertised = False
                    break
            if slots is not None:
                slots.get(1)                               # a place is free: granted at once
            self._start_hire(p, where, k, post if where == l else None, m)

    def _start_hire(self, p: int, l: int, k: int, post: Role | None, m: int) -> None:
        a = int(self._ages(self.joiner_age_cdf[p], 1)[0])
        self._new_staff(p, l, birth=m - a, month=m, origin=RECRUIT_SOURCES[k], post=post)
        self.out["joiners"][m, p, l, RECRUITED[k]] += 1

    def queue_for_start(self, p: int, l: int, k: int, post: Role | None):
        """A hire waiting for one of the recruiting team's places (a SimPy Container get, served in order).

        They start in the month a place comes to them; if their place then has no vacancy (hiring only
        into vacancies) the offer lapses and the place goes back to the next in the queue.
        """
        slots = self.hiring_slots[p]
        yield slots.get(1)
        m = int(self.env.now // TICKS)
        where = l
        if self.only_into_vacancies and not self.has_vacancy(p, l):
            where = self.pool_vacancy(p, l, m)
            if where < 0:
                if post is not None and post.holder is None:
                    post.advertised = False
                slots.put(1)
                return
        self._start_hire(p, where, k, post if where == l else None, m)

    def pool_vacancy(self, p: int, l: int, m: int) -> int:
        """The location of l's shared recruitment pool (``plan.pool``) with the most vacant posts of
        profession p (the first of equals), or -1 where l is in no pool or none of it has a vacancy."""
        pool = self.plan.pool
        if pool is None or pool[m, p, l] < 0:
            return -1
        best, most = -1, 0
        for l2 in np.flatnonzero(pool[m, p] == pool[m, p, l]):
            room = len(self.vacant[p, int(l2)])
            if l2 != l and room > most:
                best, most = int(l2), room
        return best

    def recruiting_team(self, p: int):
        """Each month, profession p's recruiting team can start ``recruit_capacity[m, p]`` hires: the
        Container holds that many places (unused places of the month before lapse). Putting them in
        serves the hires queuing from earlier months first, in order."""
        slots, capacity = self.hiring_slots[p], self.plan.recruit_capacity[:, p]
        for m in range(self.M):
            yield self._wait(m, "slots")
            if slots.level > 0:
                slots.get(slots.level)
            places = int(capacity[m]) if np.isfinite(capacity[m]) else UNLIMITED
            if places > 0:
                slots.put(places)

    # --- accounting -----------------------------------------------------------------------------------------
    def record(self, m: int) -> None:
        """Headcount (staff in post + in-service trainees) and trainees, counted from the registry."""
        P, L, G = self.P, self.L, self.G
        hc = np.zeros((P, L), np.int64)
        staff = self.agents_by_type.get(StaffMember)
        if staff:
            for (p, l), people in staff.groupby("group", result_type="list").groups.items():
                hc[p, l] = len(people)
        back = np.zeros((P, L), np.int64)
        for r in self.agents_by_type.get(Returner, ()):
            back[r.profession, r.place] += 1
        hc += back
        self.out["returned"][m] = back
        trainees = self.agents_by_type.get(Trainee, ())
        trn = np.bincount(np.fromiter((t.programme * L + t.place for t in trainees), np.int64, len(trainees)),
                          minlength=G * L).reshape(G, L)
        for g in range(G):
            if self.plan.prog_trainee_prof[g] >= 0:
                hc[self.plan.prog_trainee_prof[g]] += trn[g]
        self.out["headcount"][m] = hc
        self.out["trainees"][m] = trn
        if self.cells and staff:
            cells = np.fromiter(((s.profession * L + s.place) * self.plan.cells + s.cell for s in staff), np.int64,
                                len(staff))
            by = np.bincount(cells, minlength=P * L * self.plan.cells)
            self.out["staff_by_group"][m] = by.reshape(self.out["staff_by_group"].shape[1:])

    def posts(self) -> dict[str, np.ndarray]:
        """Funded posts by status now, and staff over establishment, [P, L] each (not part of the results)."""
        out = {k: np.zeros((self.P, self.L), np.int64) for k in ("filled", "advertised", "vacant", "over")}
        for r in self.agents_by_type.get(Role, ()):
            out[r.status][r.profession, r.place] += 1
        for (p, l), staff in self.over.items():
            out["over"][p, l] = len(staff)
        return out

    # --- trace ------------------------------------------------------------------------------------------------
    def log(self, who: Person, m: int, event: str, frm: str, to: str) -> None:
        if self.events is None:
            return
        plan = self.plan
        post = ""
        if isinstance(who, Trainee):
            tp = plan.prog_trainee_prof[who.programme]
            profession = plan.professions[tp] if tp >= 0 else ""
            programme = plan.programmes[who.programme]
        else:
            profession, programme = plan.professions[who.profession], ""
            post = who.role.unique_id if who.role is not None else "over establishment"
        self.events.append((who.person, type(who).__name__, m, event, frm, to, profession, plan.locations[who.place],
                            programme, (m - who.birth) // 12, post))

    def close(self) -> None:
        """Let a finished model be freed (see :mod:`.mesa_compat`)."""
        forget_model(self)


# Agents, their SimPy processes and the model refer to each other, so only Python's full cycle collection
# frees a finished model. Left to it, the next replicates of a process ran beside the old ones and each
# was slower (default ICS: 17 s, then 23, 26, 26, 27 s). A full collection after a model with more
# agents than this costs a few % of its run; after small ones (tests) it would cost more than the run.
BIG_MODEL = 10_000


def run_replicate(plan: Plan, replicate: int, seed: int, trace: bool = False,
                  funded_posts: np.ndarray | None = None):
    """Raw counts of one replicate (no replicate dimension), and its trace rows (None unless traced)."""
    model = WorkforceModel(plan, seed, replicate, trace, funded_posts)
    try:
        out = model.run()
        return out, model.events
    finally:
        big = len(model.agents) > BIG_MODEL
        model.close()
        del model
        if big:     # see BIG_MODEL
            gc.collect()
