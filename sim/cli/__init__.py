"""The ``wfsim`` command line: one module per family of commands, registered on one Typer app
(``sim.cli.commands``).

Bad input exits 2 with one line per problem (``sim.console.bad_input``); never a traceback. This package
imports nothing heavy, so ``main`` can take over Ctrl-C before the rest of wfsim loads. Adding a
command: see docs/CONTRIBUTING.md.
"""
from __future__ import annotations

import os
import sys

from .interrupts import INTERRUPTED, Interrupted, handled, say_interrupted


def main() -> None:
    """Entry point: exit 2 for bad input (typer/click usage errors included), 1 for internal errors, 130
    when interrupted (Ctrl-C or SIGTERM, at any point) with one line."""
    with handled():
        try:
            from .commands import app

            app(standalone_mode=True)
        except (Interrupted, KeyboardInterrupt):
            say_interrupted()
            sys.exit(INTERRUPTED)
        except Exception as e:  # an unexpected internal error: say so plainly, exit 1
            if os.environ.get("WFSIM_DEBUG"):
                raise
            from ..console import err_console

            err_console.print(f"internal error: {type(e).__name__}: {e} (set WFSIM_DEBUG=1 for the traceback)",
                              markup=False, highlight=False, soft_wrap=True)
            sys.exit(1)


def __getattr__(name: str):
    if name == "app":                   # the Typer app, imported when asked for (tests, plugins)
        from .commands import app

        return app
    raise AttributeError(f"module 'sim.cli' has no attribute {name!r}")


__all__ = ["app", "main"]
