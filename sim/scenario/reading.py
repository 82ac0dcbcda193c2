"""Reading YAML input files safely: scenarios, action plans and experiments.

A file is read only if it is a regular file (not a device such as /dev/zero, a pipe or a socket) of at
most ``FILE_BYTES``; its YAML may nest at most ``NESTING`` levels and hold at most ``NODES`` values once
aliases are expanded, so an alias bomb ("billion laughs") is refused before anything expands it.
PyYAML's safe loader is used, and a key given twice in one mapping is an error (PyYAML would silently
keep the last). Every problem is a ScenarioError (exit 2) naming the file.

Includes (``{include: PATH}`` in a lever list, an experiment's ``scenario`` and ``plans``) may name
files outside the folder of the file that names them (the shipped experiments use ``../configs/...``):
wfsim reads them with the user's own rights, as it reads the files named on the command line. But a
file named *inside* another file must be a ``.yaml`` or ``.yml`` file, so that a scenario from elsewhere
cannot make wfsim open arbitrary files; messages never quote a file's content.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from ..limits import FILE_BYTES, NESTING, NODES
from .errors import ScenarioError, shown

INCLUDE_SUFFIXES = (".yaml", ".yml")
PATH_BYTES, NAME_BYTES = 4096, 255      # Linux's PATH_MAX and NAME_MAX


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing duplicate keys and nesting deeper than NESTING while composing (the
    composer recurses once per level: a file of 20,000 '[' would otherwise end in a RecursionError)."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > NESTING:
                raise yaml.composer.ComposerError(None, None, f"nested more than {NESTING} levels deep",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _no_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":   # <<: *anchor; explicit keys override merged ones
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain name, not a list or mapping",
                                                    key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {shown(key)} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)
# YAML 1.2 floats: PyYAML (YAML 1.1) reads 1e6 and 1.4e8 as text; here they are the numbers they look like
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class RecursiveAlias(ValueError):
    """A YAML value that contains itself through an alias."""


def expanded_shape(root) -> tuple[int, int]:
    """(values, depth) of a composed YAML node once its aliases are expanded, counted without expanding
    them (each node once, however often it is referred to); a node that contains itself is refused."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    state: dict[int, int] = {}          # 1: on the current path, 2: counted
    stack = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            kids = _children(node)
            size[key] = min(1 + sum(size[id(c)] for c in kids), NODES + 1)
            depth[key] = min(1 + max((depth[id(c)] for c in kids), default=0), NESTING + 1)
            state[key] = 2
            continue
        if state.get(key) == 2:
            continue
        if state.get(key) == 1:
            raise RecursiveAlias("an alias refers to a value that contains it (a recursive structure)")
        state[key] = 1
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))
    return size[id(root)], depth[id(root)]


def _problem(path: Path, message: str) -> ScenarioError:
    return ScenarioError([("", message)], str(path))


def read_text(path: str | Path) -> str:
    """The text of a regular UTF-8 file of at most FILE_BYTES; a ScenarioError for anything else."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)       # a pipe would block a plain open
    except FileNotFoundError:
        raise _problem(p, f"file not found: {p}") from None
    except IsADirectoryError:
        raise _problem(p, f"{p} is a folder, not a file") from None
    except OSError as e:
        raise _problem(p, f"cannot read {p}: {e.strerror or e}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise _problem(p, f"{p} is a folder, not a file")
        raise _problem(p, f"{p} is not a regular file (a device, pipe or socket); wfsim reads only regular files")
    with os.fdopen(fd, "rb") as f:
        try:
            raw = f.read(FILE_BYTES + 1)
        except OSError as e:
            raise _problem(p, f"cannot read {p}: {e.strerror or e}") from None
    if len(raw) > FILE_BYTES:
        raise _problem(p, f"{p} is larger than {FILE_BYTES // 1024:,} KiB ({FILE_BYTES:,} bytes), the limit on an "
                          "input file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _problem(p, "not a text file (UTF-8 expected)") from None


def parse_yaml(text: str, source: str = "input") -> Any:
    """The value of one YAML document, within the limits on nesting and expanded size."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        values, depth = expanded_shape(node)
        if depth > NESTING:
            raise ScenarioError([("", f"values nested more than {NESTING} levels deep (aliases included); the "
                                      "formats need far fewer")], source)
        if values > NODES:
            raise ScenarioError([("", f"more than {NODES:,} values once aliases are expanded (an alias bomb?); "
                                      "write the values out or use fewer aliases")], source)
        return loader.construct_document(node)
    except RecursiveAlias as e:
        raise ScenarioError([("", str(e))], source) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioError([("", f"not valid YAML: {where}{problem}")], source) from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> Any:
    """The YAML document in the file at ``path``, read safely (see the module's docstring)."""
    return parse_yaml(read_text(path), str(path))


def include_path(value: Any, folder: Path) -> Path:
    """The file an include names, relative to ``folder`` (the folder of the file naming it) unless absolute:
    a ValueError, with the message, unless ``value`` is a path to a .yaml or .yml file."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a path to a .yaml file; got {shown(value)}")
    if "\0" in value:
        raise ValueError(f"a path holds no NUL character; got {shown(value)}")
    if len(value.encode()) > PATH_BYTES or any(len(part.encode()) > NAME_BYTES for part in Path(value).parts):
        raise ValueError(f"path too long (at most {PATH_BYTES:,} bytes, {NAME_BYTES} per name); got {shown(value)}")
    p = Path(value)
    if p.suffix.lower() not in INCLUDE_SUFFIXES:
        if value.endswith(("/", ".")) or (p if p.is_absolute() else folder / p).is_dir():
            raise ValueError(f"{shown(value)} is a folder; expected a path to a .yaml file")
        raise ValueError(f"{shown(value)}: an included file must be a .yaml or .yml file")
    return p if p.is_absolute() else folder / p
