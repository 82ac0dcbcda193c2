"""Ctrl-C and SIGTERM end any command cleanly: exit 130 and one line, never a traceback.

``main`` installs the handlers before anything heavy is imported. The first SIGINT or SIGTERM raises
:class:`Interrupted` in the main thread (not KeyboardInterrupt, which Click would turn into "Aborted!"
and exit 1); whatever is running unwinds (an experiment stops its workers and keeps its finished blocks)
and ``main`` prints one line. A second signal while that happens ends the process at once.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
from contextlib import contextmanager
from typing import Iterator

INTERRUPTED = 130                       # the shell's code for a command ended by Ctrl-C (128 + SIGINT)
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Raised by the handlers of SIGINT and SIGTERM: a BaseException, so no ``except Exception`` stops it."""


def _handler(signum, frame):
    for s in SIGNALS:                   # the next signal ends the process at once
        signal.signal(s, _again)
    raise Interrupted(signal.Signals(signum).name)


def _again(signum, frame):
    """A second signal: end now, by that signal (the shell then sees 130 for SIGINT, 143 for SIGTERM)."""
    os.write(2, b"interrupted\n")
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted while inside; the previous handlers are restored after."""
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def say_interrupted(text: str = "interrupted") -> None:
    """The one line an interrupted command prints (plain: the console may not be imported yet). Work
    cut short in zarr's asyncio loop would log "Task was destroyed but it is pending!" at exit: that
    logger is silenced, the line said it all."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
