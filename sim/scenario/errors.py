"""The one error for bad input: a scenario, experiment or argument that cannot be used, with every problem.

Messages quote input values with :func:`shown`, never with a bare ``repr``: a value from a file may be a
megabyte of text or a structure built from aliases, and a message must stay one short line.
"""
from __future__ import annotations

import reprlib

from ..limits import MESSAGE_LINE, MESSAGE_VALUE

_SHORT = reprlib.Repr()
_SHORT.maxstring = MESSAGE_VALUE
_SHORT.maxother = MESSAGE_VALUE
_SHORT.maxlong = 40
_SHORT.maxlevel = 2
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4


def shown(value) -> str:
    """A short repr of an input value for a message: at most about MESSAGE_VALUE characters, whatever the
    value (long text, huge integers, deep or aliased structures are cut, with an ellipsis)."""
    try:
        text = _SHORT.repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is shown by its type
        text = f"<{type(value).__name__}>"
    text = text.replace("...", "…")
    return text if len(text) <= MESSAGE_VALUE + 10 else text[:MESSAGE_VALUE] + "…"


def clipped(text: str, limit: int = MESSAGE_LINE) -> str:
    """One message line, cut to ``limit`` characters."""
    text = " ".join(str(text).split("\n"))
    return text if len(text) <= limit else text[:limit - 1] + "…"


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one (field path, message) per problem."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "scenario"):
        self.problems = problems
        self.source = source
        super().__init__("\n".join(self.lines()))

    def __reduce__(self):       # picklable, so a worker process can report a bad scenario
        return (type(self), (self.problems, self.source))

    def lines(self) -> list[str]:
        """One line per problem, ``SOURCE: FIELD: MESSAGE``, as ``wfsim validate`` prints them (long fields
        and messages clipped)."""
        return [clipped(f"{self.source}: {clipped(path, 200) or '(top level)'}: {msg}") for path, msg in self.problems]
