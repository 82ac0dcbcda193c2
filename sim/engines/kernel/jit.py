"""How the kernel is compiled: the no-reference-counting option, and an on-disk cache keyed to the
whole package.

Numba's on-disk cache checks only the source file of the function it caches: a change to a function
it calls (or inlines) from another module would leave a stale compiled kernel in use. ``stamp_cache``
therefore keys every cached function of the package to the hash of all its modules, so editing any of
them recompiles the kernel. Compiled code must read nothing outside numpy, numba and this package
(values of other modules' globals are frozen into it, and not checked either).
"""
from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

from numba.core.caching import NullCache
from numba.core.dispatcher import Dispatcher

# The per-agent code is compiled without reference counting (numba's ``_nrt`` option): it allocates
# nothing, and the atomic counts numba keeps on every array view and array argument cost ~17% of a run.
NO_RC = dict(cache=True, _nrt=False)

PACKAGE = Path(__file__).parent


def package_stamp(folder: Path = PACKAGE) -> str:
    """sha256 over the names and contents of the package's modules."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cached_functions(modules) -> list[Dispatcher]:
    """The functions defined in ``modules`` that numba caches on disk."""
    return [obj for mod in modules for obj in vars(mod).values()
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__
            and not isinstance(getattr(obj, "_cache", None), (NullCache, type(None)))]


def stamp_cache(modules) -> None:
    """Key the on-disk cache of every cached function in ``modules`` to ``package_stamp()`` (numba
    keeps the stamp it checks and saves on each function's cache file; before the first call, nothing
    has been loaded yet)."""
    stamp = package_stamp()
    for fn in cached_functions(modules):
        cache_file = getattr(getattr(fn, "_cache", None), "_cache_file", None)
        if cache_file is None or not hasattr(cache_file, "_source_stamp"):
            warnings.warn(f"numba's cache has changed shape: {fn.__name__} is cached on its own module's source "
                          "only; clear __pycache__ after editing the kernel", RuntimeWarning, stacklevel=2)
            continue
        cache_file._source_stamp = stamp


def compiled_on_disk(functions) -> bool:
    """Whether numba's on-disk cache holds code for every one of ``functions`` that this machine can load
    (fresh for the package's current source, and for this CPU and numba): if not, the first call compiles
    them, which takes a minute or two."""
    for fn in functions:
        cache_file = getattr(getattr(fn, "_cache", None), "_cache_file", None)
        if cache_file is None:
            return False
        try:
            index = cache_file._load_index()
        except Exception:  # noqa: BLE001 - an unreadable index is a cold cache: numba recompiles
            return False
        magic = fn.targetctx.codegen().magic_tuple()
        if not any(isinstance(key, tuple) and len(key) > 1 and key[1] == magic for key in index):
            return False
    return True
