"""Module boundaries: no private name (leading underscore) is used outside the module that defines it.

The import-linter contracts in pyproject.toml (run by `make test` as `lint-imports`) keep the layers
pointing one way; this scan keeps modules from reaching into each other's private names, which the
contracts cannot see: ``from m import _x``, ``obj._x`` where this module never defines ``_x``, and
``getattr(obj, "_x")``.
"""
from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

# (module, name): known uses still to be removed, each with its owner. A fixed one must leave this list.
KNOWN = {
    # Mesa 3.3 keeps every model alive through Agent._ids (mesa#3179, fixed after the last release for
    # Python 3.11): the one work-around, in its own module, tested in tests/test_agents.py
    ("sim/engines/agents/mesa_compat.py", "_ids"),
    # numba's on-disk cache checks only the cached function's own file, not the kernel modules it calls:
    # jit.stamp_cache keys the cache to the whole kernel package through numba's cache file (warns and
    # falls back if numba changes it; tests/test_kernel_jit.py)
    ("sim/engines/kernel/jit.py", "_cache"),
    ("sim/engines/kernel/jit.py", "_cache_file"),
    # whether that cache holds code for this CPU (wfsim run says it is compiling when not): numba's index of
    # the cache file, read as numba reads it; any failure counts as a cold cache (tests/test_readable.py)
    ("sim/engines/kernel/jit.py", "_load_index"),
}
# names with a leading underscore that are public API: a named tuple's methods and fields
PUBLIC = {"_asdict", "_fields", "_replace", "_make", "_field_defaults"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and name not in PUBLIC


def _defined(tree: ast.AST) -> set[str]:
    """Every name this module defines: functions, classes, assigned names and attributes, arguments."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.add(node.attr)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
    return out


def private_uses(source: str) -> list[tuple[int, str]]:
    """(line, name) of each private name this module source takes from another module."""
    tree = ast.parse(source)
    mine = _defined(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out += [(node.lineno, a.name) for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if any(map(_private, a.name.split(".")))]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in mine:
            out.append((node.lineno, node.attr))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str) and _private(node.args[1].value)
              and node.args[1].value not in mine):
            out.append((node.lineno, node.args[1].value))
    return out


def test_the_scan_finds_each_kind_of_private_use():
    src = ("from .loading import _problems\nimport pkg._impl\nx = lever._scale\ny = getattr(pool, '_processes')\n"
           "class A:\n    def __init__(self):\n        self._mine = 1\n        self.__dict__\n    def f(self, o):\n"
           "        return o._mine\n")
    assert private_uses(src) == [(1, "_problems"), (2, "pkg._impl"), (3, "_scale"), (4, "_processes")]


def test_no_private_name_is_used_outside_its_module():
    found = set()
    problems = []
    for path in sorted(SIM.rglob("*.py")):
        rel = path.relative_to(SIM.parent).as_posix()
        for line, name in private_uses(path.read_text(encoding="utf-8")):
            found.add((rel, name))
            if (rel, name) not in KNOWN:
                problems.append(f"{rel}:{line}: {name}")
    assert not problems, "private names used outside their module (make them public, or keep them inside):\n" \
        + "\n".join(problems)
    assert KNOWN <= found, f"fixed, so remove from KNOWN in tests/test_layers.py: {sorted(KNOWN - found)}"
