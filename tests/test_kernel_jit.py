"""How the kernel is compiled: every cached function is keyed to the source of the whole package (an edit
to any module recompiles the kernel, not only the edited module's functions), and no compiled function
takes more than a dozen parameters (named data, not arrays in an agreed order)."""
from __future__ import annotations

import inspect
import shutil

import pytest

from sim.engines import kernel
from sim.engines.kernel import jit


def test_every_cached_function_is_keyed_to_the_whole_package():
    functions = jit.cached_functions(kernel.MODULES)
    assert len(functions) > 20
    stamp = jit.package_stamp()
    for fn in functions:
        assert fn._cache._cache_file._source_stamp == stamp, fn.__name__


def test_every_module_of_the_package_is_stamped():
    names = {m.__name__.rsplit(".", 1)[1] for m in kernel.MODULES}
    assert names == {p.stem for p in jit.PACKAGE.glob("*.py")} - {"__init__"}


@pytest.mark.parametrize("module", sorted(p.name for p in jit.PACKAGE.glob("*.py")))
def test_an_edit_to_any_module_changes_the_stamp(tmp_path, module):
    copy = tmp_path / "kernel"
    shutil.copytree(jit.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = jit.package_stamp(copy)
    assert before == jit.package_stamp()
    with open(copy / module, "a") as f:
        f.write("\n")
    assert jit.package_stamp(copy) != before


def test_no_kernel_function_takes_more_than_a_dozen_parameters():
    functions = [obj for m in kernel.MODULES for obj in vars(m).values()
                 if hasattr(obj, "py_func") and obj.py_func.__module__ == m.__name__]
    assert len(functions) > 20
    counts = {fn.__name__: len(inspect.signature(fn.py_func).parameters) for fn in functions}
    assert max(counts.values()) <= 12, counts
