"""Work-arounds for the Mesa release this project can use (3.3, the last for Python 3.11).

Mesa 3.3 counts agent ids per model in a class-level dictionary keyed by the model (``Agent._ids``),
which keeps every model, and all it refers to, alive for the life of the process (mesa#3179; fixed in
mesa#3180, released only for newer Pythons). Emptying the model instead was tried: the empty shells
still pinned ~20 MB of the allocator's arenas per replicate. So a finished model is dropped from that
dictionary here, the one place wfsim touches a private name of Mesa's; ``tests/test_agents.py`` fails
when a Mesa release no longer has it, the sign to delete this module.
"""
from __future__ import annotations

import mesa


def forget_model(model: mesa.Model) -> None:
    """Drop Mesa's last reference to a finished model (its agent-id counter), so it can be freed."""
    mesa.Agent._ids.pop(model, None)
