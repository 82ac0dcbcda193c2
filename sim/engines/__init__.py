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


def parallel_replicates(engine: str) -> int:
    """How many replicates an engine runs at once (the kernel's threads, the agents engine's worker
    processes): a batch of replicates smaller than this leaves some of them idle."""
    if engine == "kernel":
        import numba

        return numba.get_num_threads()
    if engine == "agents":
        from .agents import current_workers

        return current_workers()
    raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")


def kernel_compiled() -> bool:
    """Whether the kernel's compiled code is cached on disk (else its first run compiles it)."""
    from .kernel import is_compiled

    return is_compiled()


__all__ = ["ENGINES", "kernel_compiled", "parallel_replicates", "simulator"]
