"""Local worker processes for an experiment's blocks, which never outlive the command that started them.

Workers are spawned (numba's threads do not survive a fork) with SIGINT and SIGTERM blocked, so a Ctrl-C
that reaches the whole process group while they start cannot print a traceback from inside them; once
started each ignores SIGINT (the parent stops the pool), asks Linux to kill it when its parent dies
(``prctl(PR_SET_PDEATHSIG, SIGKILL)``) and runs a watchdog thread that ends it if its parent's pid
changes (every platform; also closes the race of a parent that died while the worker was starting).
With the workers gone the multiprocessing resource tracker sees its pipe close and exits too, so a
``kill -9`` of ``wfsim experiment`` leaves no process behind.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Callable, Iterator

PR_SET_PDEATHSIG = 1                    # linux/prctl.h
WATCH_SECONDS = 1.0
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _end() -> None:
    """End this worker at once (as the death signal would): nothing in it is worth finishing."""
    os.kill(os.getpid(), signal.SIGKILL)


def _die_with_parent(parent: int) -> None:
    """In a worker: end this process when ``parent`` ends."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):       # no prctl: the watchdog alone
            pass
    if os.getppid() != parent:                  # the parent died before the death signal was set
        _end()

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            if os.getppid() != parent:
                _end()

    threading.Thread(target=watch, name="wfsim-parent-watchdog", daemon=True).start()


def start_worker(parent: int) -> None:
    """The pool's initializer: ignore Ctrl-C, die with the parent, then accept SIGTERM (terminate)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextmanager
def signals_blocked() -> Iterator[None]:
    """Block SIGINT and SIGTERM in this thread while worker processes are spawned from it: the child
    starts with them blocked (the signal mask survives fork and exec) until ``start_worker``. A signal
    meanwhile is only delayed in this process: it is handled when the block ends."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


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
        mine = set(mp.active_children()) - before              # this pool's worker processes
        for proc in mine:
            proc.terminate()
        for proc in mine:               # one still starting has SIGTERM blocked for a moment: wait, then kill
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
