"""Local worker processes for an experiment's blocks: spawned (numba's threads do not survive a fork),
a bounded window of blocks in flight, and never outliving the command (``sim.processes``)."""
from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable

from ..processes import signals_blocked, start_worker, stop_children


def run_local(todo: list, args: Callable, finished: Callable, workers: int, compute: Callable) -> None:
    """Compute the blocks ``todo`` (``compute(*args(block))`` -> (dataset, seconds)) and hand each to
    ``finished`` in this process; a bounded window of blocks in flight keeps memory flat however many
    runs the experiment has."""
    import multiprocessing as mp

    if workers == 1:
        for b in todo:
            finished(b, *compute(*args(b)))
        return
    pending = iter(todo)
    before = set(mp.active_children())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=start_worker, initargs=(os.getpid(),))

    def submit(b):
        with signals_blocked():         # a new worker may be spawned by this submit
            return pool.submit(compute, *args(b))

    try:
        running = {}
        for b in pending:
            running[submit(b)] = b
            if len(running) >= workers + 1:
                break
        while running:
            ready, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in sorted(ready, key=lambda f: running[f].index):
                b = running.pop(f)
                finished(b, *f.result())
                nxt = next(pending, None)
                if nxt is not None:
                    running[submit(nxt)] = nxt
    except BaseException:       # Ctrl-C, SIGTERM or an error: stop the workers now; their blocks are redone
        stop_children(before)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
