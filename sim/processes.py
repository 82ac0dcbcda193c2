"""Worker processes that never outlive the command that started them (experiment blocks, the agents
engine's replicates).

A pool's workers are started with SIGINT and SIGTERM blocked (:func:`signals_blocked` around the calls
that start them: the signal mask survives fork and exec), so a Ctrl-C that reaches the whole process
group while they start cannot print a traceback from inside them. Each worker then runs
:func:`start_worker`: it ignores SIGINT (the parent stops the pool), asks Linux to kill it when its
parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) and runs a watchdog thread that ends it if its
parent's pid changes (every platform; this also closes the race of a parent that died while the worker
was starting). With the workers gone, the multiprocessing resource tracker sees its pipe close and exits
too: a ``kill -9`` of the command leaves no process behind. Like ``sim.vocabulary`` this module sits
below every other and uses nothing of ``sim``.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

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
    """A pool's initializer (give it ``os.getpid()`` of the parent): ignore Ctrl-C, die with the parent,
    then accept SIGTERM (the parent's ``terminate``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    if hasattr(signal, "pthread_sigmask"):      # POSIX
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextmanager
def signals_blocked() -> Iterator[None]:
    """Block SIGINT and SIGTERM in this thread while worker processes are started from it: each starts
    with them blocked until ``start_worker``. A signal meanwhile is only delayed here: it is handled when
    the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: nothing to hold
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def stop_children(before: set) -> None:
    """Stop the child processes started since ``before`` (``multiprocessing.active_children()`` then):
    SIGTERM, then SIGKILL for one that is still starting (SIGTERM blocked) after a few seconds."""
    import multiprocessing as mp

    mine = set(mp.active_children()) - before
    for proc in mine:
        proc.terminate()
    for proc in mine:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
