"""Engines sample the plan's stochastic process; each returns raw counts per replicate."""
from __future__ import annotations

from ..vocabulary import ENGINES


def simulator(engine: str):
    """The ``simulate(plan, replicates, seed)`` function of an engine."""
    if engine == "kernel":
        from .kernel import simulate
        return simulate
    if engine == "agents":
        from .agents import simulate
        return simulate
    raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")


__all__ = ["ENGINES", "simulator"]
