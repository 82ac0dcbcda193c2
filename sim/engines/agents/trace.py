"""The trace: a tidy event log of careers (one row per event), as CSV or Parquet, and reading one career back.

The file's suffix picks the format: ``.csv`` (text, any tool) or ``.parquet`` (typed columns, compressed,
read by pandas, polars or DuckDB; needs pyarrow: ``pip install 'wfsim-ics[parquet]'``). Both hold the same rows
and columns; in Parquet ``agent_id`` is int64, ``time`` int32, ``date`` a date, ``age`` int16 and the
rest text (empty text where a column does not apply, as in the CSV).

Columns (one row per event of one person):

=============  ==================================================================================
agent_id       the person (kept through training into a post, and across moves)
agent_type     Trainee or StaffMember (the Mesa agent class at the time of the event)
time           month index (0 = the scenario's first month; -1 = in post at the start)
date           first day of that month, YYYY-MM-DD
event          in_post, start, dropout, completion, hired, rotation, moved, sector, transfer, retirement,
               return, leaver
event_type     arrival_departure (entering or leaving the ICS's workforce or training) or queue
               (a step within it), the two event types of the vidigi animation library
pathway        the programme (trainees) or profession (staff): the route the event belongs to
from, to       what changed: place → place (rotation), provider (sector) → provider (sector) (sector: a
               move to another sector), retired → provider (return: retire and return), profession →
               profession (transfer),
               programme → local post / elsewhere (completion), source → place (hired),
               profession → left / retired (leaving)
profession     staff group after the event (for an in-service trainee, the group they are employed in)
place          place after the event (its provider, where the geography lists providers)
programme      programme (trainees only)
age            age in whole years at the event
post           staff: id of the funded post (Role agent) held after the event, or "over
               establishment" (at a leaving event: the post they leave)
=============  ==================================================================================

For vidigi pass ``entity_col_name="agent_id"`` (older versions: rename the column to ``patient``).
"""
from __future__ import annotations

import csv
import datetime
from pathlib import Path

from ...outputs import atomic, starts_with
from ...vocabulary import absolute_month


COLUMNS = ("agent_id", "agent_type", "time", "date", "event", "event_type", "pathway", "from", "to", "profession",
           "place", "programme", "age", "post")


SUFFIXES = (".csv", ".parquet")
PARQUET_HINT = "pip install 'wfsim-ics[parquet]'"


class TraceError(ValueError):
    """A trace file that is missing, unreadable, of an unknown format or does not hold the asked-for agent."""


def trace_format(path: str | Path, option: str = "--trace") -> str:
    """"csv" or "parquet" from the path's suffix; a TraceError naming ``option`` for any other suffix, or
    for Parquet without pyarrow."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise TraceError(f"{option}: {path} has suffix {suffix or '(none)'!r}; allowed: .csv (text) or .parquet")
    if suffix == ".parquet":
        _pyarrow(option)
    return suffix[1:]


def _pyarrow(option: str = "--trace"):
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise TraceError(f"{option}: writing or reading a .parquet trace needs pyarrow: {PARQUET_HINT} "
                         "(or give a .csv path)") from None
    return pyarrow


def _event_type(event: str, frm: str, to: str) -> str:
    if event in ("rotation", "sector", "transfer", "promotion") or (event == "hired" and frm == "newly_qualified") or \
            (event == "completion" and to == "local post"):
        return "queue"
    return "arrival_departure"


def trace_rows(plan, events: list[tuple]) -> list[tuple]:
    """The trace's rows (tuples in ``COLUMNS`` order; ``date`` a datetime.date) from the model's events."""
    first = absolute_month(plan.start)
    rows = []
    for person, kind, m, event, frm, to, profession, place, programme, age, post in events:
        y, mo = divmod(first + int(m), 12)
        rows.append((int(person), kind, int(m), datetime.date(y, mo + 1, 1), event, _event_type(event, frm, to),
                     programme or profession, frm, to, profession, place, programme, int(age), str(post)))
    return rows


def write_trace(path: str | Path, plan, events: list[tuple]) -> Path:
    """Write the events of one replicate (as logged by the model) to a .csv or .parquet file."""
    path = Path(path)
    kind = trace_format(path)
    rows = trace_rows(plan, events)
    with atomic(path) as tmp:               # written beside the target, then renamed over it
        if kind == "parquet":
            _write_parquet(tmp, plan, rows)
            return path
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            for r in rows:
                w.writerow(r[:3] + (r[3].isoformat(),) + r[4:])
    return path


def is_trace_file(path: str | Path) -> bool:
    """Whether ``path`` is a trace written by wfsim: its header (CSV) or schema (Parquet) is the trace's."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return tuple(pq.read_schema(path).names) == COLUMNS
    return starts_with(path, (",".join(COLUMNS) + "\r\n").encode())


def _write_parquet(path: Path, plan, rows: list[tuple]) -> None:
    pa = _pyarrow()
    import pyarrow.parquet as pq

    types = {"agent_id": pa.int64(), "time": pa.int32(), "date": pa.date32(), "age": pa.int16()}
    columns = list(zip(*rows)) if rows else [()] * len(COLUMNS)
    schema = pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS],
                       metadata={"wfsim.trace": "career events, one row per event (sim.engines.agents.trace)",
                                 "scenario_name": plan.scenario_name, "start": plan.start})
    table = pa.Table.from_arrays([pa.array(col, type=schema.field(c).type) for c, col in zip(COLUMNS, columns)],
                                 schema=schema)
    pq.write_table(table, path)


def read_trace(path: str | Path, agent_id: int | None = None) -> list[dict]:
    """The rows of a .csv or .parquet trace as dicts of text (as csv.DictReader gives), of one agent if
    ``agent_id`` is given."""
    path = Path(path)
    kind = trace_format(path, option="wfsim trace")
    if not path.is_file():
        raise TraceError(f"trace file {path} not found; write one with: wfsim run --engine agents --trace {path}")
    if kind == "parquet":
        return _read_parquet(path, agent_id)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        _check_columns(path, reader.fieldnames or ())
        return [r for r in reader if agent_id is None or r["agent_id"] == str(agent_id)]


def _check_columns(path: Path, names) -> None:
    missing = [c for c in ("agent_id", "time", "event") if c not in names]
    if missing:
        raise TraceError(f"{path} is not a wfsim trace: no column(s) {', '.join(missing)}")


def _read_parquet(path: Path, agent_id: int | None) -> list[dict]:
    _pyarrow("wfsim trace")
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        _check_columns(path, names)
        filters = None if agent_id is None else [("agent_id", "==", int(agent_id))]
        table = pq.read_table(path, filters=filters)
    except TraceError:
        raise
    except Exception as e:                   # pyarrow's errors for a file that is not Parquet
        raise TraceError(f"{path} is not a readable Parquet file ({type(e).__name__}: {e})") from None

    def text(v) -> str:
        return "" if v is None else v.isoformat() if isinstance(v, datetime.date) else str(v)

    return [{k: text(v) for k, v in row.items()} for row in table.to_pylist()]


def career(path: str | Path, agent_id: int) -> list[dict]:
    """The events of one person, in time order."""
    rows = read_trace(path, agent_id)
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
