"""``wfsim bench``: the benchmark suite of a source checkout (benchmarks/)."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..console import bad_input


def bench(quick: bool = typer.Option(False, "--quick", help="a reduced run for a smoke test")) -> None:
    """Run the benchmark suite (benchmarks/ of a source checkout) and print its table."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks" / "run.py").exists():
        bad_input(["bench: benchmarks/run.py not found; run from a source checkout of wfsim"])
    cmd = [sys.executable, "-m", "benchmarks.run"] + (["--quick"] if quick else [])
    raise typer.Exit(subprocess.call(cmd, cwd=root))
