"""The ``kernel`` engine: numba Monte Carlo over replicates in parallel.

``data.py`` turns a plan into the kernel's named data (``structs.py``); ``replicate.py`` runs the
replicates, each month in the phases of ``phases.py`` (the order of ``sim.model.flows.MONTH``), drawing
each agent's next event when it joins (``calendar.py``, ``draws.py``) from named random streams
(``rng.py``); ``jit.py`` says how it is compiled and cached.
"""
from __future__ import annotations

import importlib
import pkgutil
import threading

import numba
import numpy as np

from ...model.flows import plan_count_shapes
from ...model.plan import Plan
from . import data, replicate
from .data import agent_slots
from .jit import compiled_on_disk, stamp_cache
from .rng import stream_states
from .structs import OVERFLOW, WORK_ROWS, Outputs

MODULES = tuple(importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__))
# before anything is compiled or loaded: every cached function is keyed to the whole package's source
stamp_cache(MODULES)


def is_compiled() -> bool:
    """Whether the kernel's compiled code is cached on disk for this machine (else the first run compiles
    it: a minute or two, once)."""
    return compiled_on_disk([replicate.run_replicates])      # the entry point; what it calls is compiled into it


_PREPARED: list = [None, None]      # the last plan simulated, and its kernel data (see ``prepared``)


def prepared(plan: Plan) -> tuple:
    """(staff, draws, programmes, agent slots) of ``plan``, kept for the plan last simulated: a run of England
    calls the kernel on a few replicates at a time, and building these (~0.1 s) each time was a tenth of the
    work outside the kernel. Plans are not changed once finished (levers and reviews make new ones)."""
    if _PREPARED[0] is not plan:
        _PREPARED[:] = [plan, (data.staff(plan), data.draws(plan), data.programmes(plan), agent_slots(plan))]
    return _PREPARED[1]


_WORK = threading.local()     # this Python thread's agent columns, one [WORK_ROWS, slots] per kernel thread


def work_arrays(threads: int, slots: int) -> np.ndarray:
    """[threads, WORK_ROWS, slots] int32 agent columns, kept between calls of this Python thread: England's
    are ~300 MB a kernel thread, and allocating them for each chunk of replicates cost a page fault and a
    cleared page for every 4 KB of them. A replicate writes every column before it reads it, so what the last
    call left there does not matter."""
    work = getattr(_WORK, "arrays", None)
    if work is None or work.shape != (threads, WORK_ROWS, slots):
        _WORK.arrays = None                     # let the old ones go first
        work = _WORK.arrays = np.empty((threads, WORK_ROWS, slots), np.int32)
    return work


def simulate(plan: Plan, replicates, seed: int, funded_posts: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Raw counts for the given replicate numbers: headcount, joiners, leavers, trainees, completions,
    unplaced graduates. ``funded_posts`` [R, M, P, L] (default: the plan's central path) caps hiring."""
    reps = np.asarray(list(replicates), dtype=np.int64)
    R = len(reps)
    shapes = plan_count_shapes(plan)
    counts = {name: np.zeros((R,) + shape, np.int32) for name, shape in shapes.items()}
    # the counts by band and group as the kernel writes them: [R, M, P, L, band × group] views
    flat = {name: a.reshape(a.shape[:4] + (a.shape[4] * a.shape[5],)) for name, a in counts.items() if a.ndim == 6}
    out = Outputs(**(counts | flat))
    status = np.zeros(R, np.int64)
    posts = plan.funded_posts if funded_posts is None else funded_posts
    staff, draws, programmes, slots = prepared(plan)
    replicate.run_replicates(stream_states(seed, reps), staff, draws, data.recruitment(plan, posts), programmes, out,
                             work_arrays(numba.get_num_threads(), slots), status)
    if (status == OVERFLOW).any():
        raise RuntimeError("kernel ran out of agent slots; this is a bug in agent_slots(), please report it")
    return counts
