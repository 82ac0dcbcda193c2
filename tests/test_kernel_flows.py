"""The kernel against sim.model.flows: its literal source and reason indices, its raw counts, and its month
(the phases its month loop runs, in order, cover the steps of flows.MONTH exactly once each)."""
from __future__ import annotations

import inspect
import re

from sim.model import flows
from sim.engines.kernel import phases, replicate, structs


def test_source_and_reason_indices_are_those_of_flows():
    assert structs.NEWLY_QUALIFIED == flows.SOURCE["newly_qualified"]
    assert structs.ROTATION_IN == flows.SOURCE["rotation_in"]
    assert structs.TRAINING_START == flows.SOURCE["training_start"]
    assert structs.TRANSFER_IN == flows.SOURCE["transfer_in"]
    assert structs.MOVED_IN == flows.SOURCE["moved_in"]
    assert structs.SECTOR_IN == flows.SOURCE["sector_in"]
    assert structs.RETIRE_RETURN == flows.SOURCE["retire_return"]
    assert structs.PROMOTED_IN == flows.SOURCE["promoted_in"]
    assert structs.FIRST_RECRUITED == flows.RECRUITED[0]        # recruited source k is FIRST_RECRUITED + k
    assert structs.RETIREMENT == flows.REASON["retirement"]
    assert structs.LEAVER == flows.REASON["leaver"]
    assert structs.ROTATION_OUT == flows.REASON["rotation_out"]
    assert structs.COMPLETED == flows.REASON["completed_training"]
    assert structs.TRANSFER_OUT == flows.REASON["transfer_out"]
    assert structs.MOVED_OUT == flows.REASON["moved_out"]
    assert structs.SECTOR_OUT == flows.REASON["sector_out"]
    assert structs.PROMOTED_OUT == flows.REASON["promoted_out"]


def test_outputs_are_the_raw_counts_of_flows():
    assert structs.Outputs._fields == tuple(c.name for c in flows.COUNTS)


def test_phases_cover_the_steps_of_the_month_once_each_in_order():
    steps = [step for _, covered in phases.MONTH_PHASES for step in covered]
    assert tuple(steps) == flows.STEPS
    names = [name for name, _ in phases.MONTH_PHASES]
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(getattr(phases, name), "py_func"), f"phases.{name} is not a compiled phase"


def test_the_month_loop_runs_the_phases_in_their_declared_order():
    source = inspect.getsource(replicate._replicate.py_func)
    loop = source[source.index("for m in range("):]
    called = re.findall(r"phases\.(\w+)\(", loop)
    assert called == [name for name, _ in phases.MONTH_PHASES]
