"""The terminal: where output and problems are printed, and how bad input ends a command (exit 2).

Below every layer that talks to a user (experiments, plots, the CLI), so any of them can report
without importing the command line.
"""
from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

out_console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True)

BAD_INPUT = 2           # exit code for bad input (a scenario, an argument, a missing file); 1 is an internal error


def bad_input(lines: list[str]) -> NoReturn:
    """Print one line per problem on stderr, as written (no markup), and end the command with exit code 2."""
    for line in lines:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def fits(table, console: Console | None = None) -> bool:
    """Whether a rich table (or any renderable) fits the console's width with no cell wrapped."""
    from rich.measure import Measurement

    console = console or out_console
    unbounded = console.options.update_width(10 ** 6)       # Measurement.get clamps to the width it is given
    return Measurement.get(console, unbounded, table).maximum <= console.width


def say(text: str) -> None:
    """One plain line on stdout (file names and the like: no markup, no highlighting)."""
    out_console.print(text, highlight=False)
