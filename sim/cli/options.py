"""Option types and checks shared by several commands."""
from __future__ import annotations

from enum import Enum
from typing import Optional

from ..console import bad_input
from ..vocabulary import ENGINES, LEVELS, OUTPUT_STEPS

Engine = Enum("Engine", [(name, name) for name in ENGINES], type=str)      # --engine kernel|agents
Every = Enum("Every", [(name, name) for name in OUTPUT_STEPS], type=str)          # --every month|quarter|year
Level = Enum("Level", [(name, name) for name in LEVELS], type=str)           # --level provider|…|nation


def set_threads(threads: Optional[int]) -> None:
    """``--threads``: the kernel's worker threads (numba), at most the machine's."""
    if threads is None:
        return
    import numba

    top = numba.config.NUMBA_NUM_THREADS
    if threads > top:
        bad_input([f"--threads: at most {top} on this machine; got {threads}"])
    numba.set_num_threads(threads)
