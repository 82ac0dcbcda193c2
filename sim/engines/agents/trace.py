"""The trace: a tidy event log of careers (one row per event), as CSV, and reading one career back.

Columns (one row per event of one person):

=============  ==================================================================================
agent_id       the person (kept through training into a post, and across moves)
agent_type     Trainee or StaffMember (the Mesa agent class at the time of the event)
time           month index (0 = the scenario's first month; -1 = in post at the start)
date           first day of that month, YYYY-MM-DD
event          in_post, start, dropout, completion, hired, rotation, transfer, retirement, leaver
event_type     arrival_departure (entering or leaving the ICS's workforce or training) or queue
               (a step within it), the two event types of the vidigi animation library
pathway        the programme (trainees) or profession (staff): the route the event belongs to
from, to       what changed: place → place (rotation), profession → profession (transfer),
               programme → local post / elsewhere (completion), source → place (hired),
               profession → left / retired (leaving)
profession     staff group after the event (for an in-service trainee, the group they are employed in)
place          place after the event
programme      programme (trainees only)
age            age in whole years at the event
post           staff: id of the funded post (Role agent) held after the event, or "over
               establishment" (at a leaving event: the post they leave)
=============  ==================================================================================

For vidigi pass ``entity_col_name="agent_id"`` (older versions: rename the column to ``patient``).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

COLUMNS = ("agent_id", "agent_type", "time", "date", "event", "event_type", "pathway", "from", "to", "profession",
           "place", "programme", "age", "post")
EVENTS = ("in_post", "start", "dropout", "completion", "hired", "rotation", "transfer", "retirement", "leaver")


class TraceError(ValueError):
    """A trace file that is missing, unreadable or does not hold the asked-for agent."""


def _event_type(event: str, frm: str, to: str) -> str:
    if event in ("rotation", "transfer") or (event == "hired" and frm == "newly_qualified") or \
            (event == "completion" and to == "local post"):
        return "queue"
    return "arrival_departure"


def write_trace(path: str | Path, plan, events: list[tuple]) -> Path:
    """Write the events of one replicate (as logged by the model) to a CSV file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = np.datetime64(plan.start, "M")
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for person, kind, m, event, frm, to, profession, place, programme, age, post in events:
            date = f"{first + int(m)}-01"
            pathway = programme or profession
            w.writerow((person, kind, m, date, event, _event_type(event, frm, to), pathway, frm, to, profession, place,
                        programme, age, post))
    return path


def read_trace(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"trace file {path} not found; write one with: wfsim run --engine agents --trace {path}")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("agent_id", "time", "event") if c not in (reader.fieldnames or ())]
        if missing:
            raise TraceError(f"{path} is not a wfsim trace: no column(s) {', '.join(missing)}")
        return list(reader)


def career(path: str | Path, agent_id: int) -> list[dict]:
    """The events of one person, in time order."""
    rows = [r for r in read_trace(path) if r["agent_id"] == str(agent_id)]
    if not rows:
        raise TraceError(f"--agent: no agent {agent_id} in {path}")
    return sorted(rows, key=lambda r: int(r["time"]))       # stable: same-month events keep their order


def career_table(rows: list[dict], agent_id: int):
    """A rich Table of one career."""
    from rich.table import Table

    t = Table(title=f"career of agent {agent_id}")
    for col in ("date", "month", "age", "event", "as", "profession / programme", "place", "from", "to", "post"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["date"][:7], r["time"], r.get("age", ""), r["event"], r["agent_type"],
                  r["programme"] or r["profession"], r["place"], r["from"], r["to"], r.get("post", ""))
    return t
