"""The agents: people in training, people in post, and the funded posts they fill.

A person keeps one ``person`` id for their whole career: a nursing student who qualifies and takes a
local post becomes a new :class:`StaffMember` agent (Mesa registers agents by class) with the
student's ``person`` id, so the trace follows them from intake to first post and beyond.
"""
from __future__ import annotations

import mesa


class Person(mesa.Agent):
    """A person in the ICS's workforce or training pipeline."""

    def __init__(self, model, place: int, birth: int, person: int | None = None):
        super().__init__(model)
        self.person = self.unique_id if person is None else person
        self.place = place
        self.birth = birth              # month of birth (a month index, negative before the start)
        self.active = True              # False once gone (events already scheduled for them then do nothing)

    @property
    def age(self) -> int:
        """Age in whole months at the model's current month."""
        return self.model.month - self.birth


class Trainee(Person):
    """A learner on a programme at a place, who started in month ``started``.

    Trainees of in-service programmes count in the headcount of their staff group but hold no
    funded post (the establishment counts staff in post). Where the programme has a rotation schedule
    their ``place`` changes on its dates; ``cohort`` keeps the place they started at.
    """

    def __init__(self, model, programme: int, place: int, started: int, birth: int):
        super().__init__(model, place, birth)
        self.programme = programme
        self.started = started
        self.cohort = (programme, place, started)
        self.group = 0                  # their group (characteristics), kept into their first post

    def move_to(self, place: int) -> None:
        self.place = place


class StaffMember(Person):
    """A person in post in a profession (staff group) at a place."""

    def __init__(self, model, profession: int, place: int, birth: int, person: int | None = None):
        super().__init__(model, place, birth, person)
        self._profession = profession
        self.group = (profession, place)
        self.retire_month = 0           # absolute month of retirement, drawn at joining (redrawn on a transfer)
        self.role: Role | None = None   # the funded post held; None while over establishment
        self.cell = 0                   # band × groups + group (characteristics and bands; 0 without them)

    # (profession, place) is kept in ``group`` too, the key of the monthly turnover step's groupby
    @property
    def profession(self) -> int:
        return self._profession

    @profession.setter
    def profession(self, p: int) -> None:
        self._profession = p
        self.group = (p, self.place)

    def move_to(self, place: int) -> None:
        self.place = place
        self.group = (self._profession, place)


class Returner(StaffMember):
    """A retiree back in post (retire and return), since month ``joined``: part time (the profession's
    returners' FTE), leaving only at the returners' own hazard; they do not move or retire again. A class of
    their own, so the monthly turnover of other staff (by class) leaves them out."""

    def __init__(self, model, profession: int, place: int, birth: int, person: int | None = None, joined: int = 0):
        super().__init__(model, profession, place, birth, person)
        self.joined = joined


class Role(mesa.Agent):
    """A funded post in a profession at a place: vacant, advertised (a hire is on the way) or filled.

    Who leaves and moves is decided by the plan's rates, never by posts. Joiners take a vacant post
    if there is one, else they are over establishment until one falls vacant. Only where the scenario
    hires only into vacancies does a missing vacancy stop a hire or a newly qualified completer.
    """

    def __init__(self, model, profession: int, place: int):
        super().__init__(model)
        self.profession = profession
        self.place = place
        self.holder: int | None = None  # the person id in post
        self.holder_agent: StaffMember | None = None
        self.advertised = False

    @property
    def status(self) -> str:
        return "filled" if self.holder is not None else "advertised" if self.advertised else "vacant"
