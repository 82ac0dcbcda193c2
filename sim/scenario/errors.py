"""The one error for bad input: a scenario, experiment or argument that cannot be used, with every problem."""
from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one (field path, message) per problem."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "scenario"):
        self.problems = problems
        self.source = source
        super().__init__("\n".join(self.lines()))

    def __reduce__(self):       # picklable, so a worker process can report a bad scenario
        return (type(self), (self.problems, self.source))

    def lines(self) -> list[str]:
        """One line per problem, ``SOURCE: FIELD: MESSAGE``, as ``wfsim validate`` prints them."""
        return [f"{self.source}: {path or '(top level)'}: {msg}" for path, msg in self.problems]
