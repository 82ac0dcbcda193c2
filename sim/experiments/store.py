"""An experiment's output folder: the manifest of finished blocks, a checksum of each block as stored, and
the verification of a store before it is reused.

A block is recorded in ``manifest.json`` only after its region of ``results.zarr`` is written, with the
sha256 of its values as read back from the store (every variable with a ``scenario`` and ``replicate``
axis, in name order, with dtype and shape). Resuming recomputes the checksum of every recorded block:
a chunk deleted (which would read as zeros), truncated, garbled or replaced by another block's makes the
block count as not done, so it is computed again. Damage to the store's metadata (an array's
``.zarray``) cannot be repaired block by block: it is refused (exit 2; ``--restart`` starts again).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..outputs import starts_with
from ..scenario import ScenarioError
from ..vocabulary import COMPARISON


class StoreDamaged(ScenarioError):
    """A store whose metadata is unreadable or incomplete (blocks cannot be verified or rewritten)."""

    def __init__(self, store: Path, why: str):
        super().__init__([("--out", f"the results store {store} is damaged ({why}); run with --restart to discard "
                                    "it and compute every block again")], "experiment")


class Manifest:
    """The list of finished blocks with their checksums, replaced atomically so a kill never leaves it
    half-written."""

    def __init__(self, path: Path, fingerprint: str, total: int, name: str):
        self.path = path
        self.data = {"experiment": name, "fingerprint": fingerprint, "blocks": total, "done": {}}

    @classmethod
    def read(cls, path: Path) -> dict | None:
        """The manifest's data, or None if it is missing or unreadable (then nothing counts as done)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)

    def done(self) -> set[int]:
        return {int(k) for k in self.data["done"]}

    def record(self, index: int, label: str, lo: int, hi: int, seconds: float, sha256: str) -> None:
        self.data["done"][str(index)] = {"run": label, "replicates": [lo, hi], "seconds": round(seconds, 3),
                                         "sha256": sha256}
        self.save()


def recorded(old: dict | None) -> dict[int, dict]:
    """The finished blocks of a manifest's data, by index (entries that do not parse are left out)."""
    out = {}
    done = (old or {}).get("done")
    if not isinstance(done, dict):
        return out
    for k, v in done.items():
        if isinstance(k, str) and k.isdigit() and isinstance(v, dict):
            out[int(k)] = v
    return out


def open_store(store: Path, arrays: list[str] | None = None):
    """The store's zarr group, read from each array's own metadata (not the consolidated copy); a
    StoreDamaged if it cannot be read or lacks one of ``arrays``."""
    import zarr

    try:
        group = zarr.open_group(str(store), mode="r", use_consolidated=False)
        names = set(group.array_keys())
        for name in names:
            group[name].attrs.asdict()
    except Exception as e:  # noqa: BLE001 - any failure to read the metadata is damage
        raise StoreDamaged(store, f"{type(e).__name__}: {str(e)[:200]}") from None
    missing = sorted(set(arrays or ()) - names)
    if missing:
        raise StoreDamaged(store, f"arrays missing: {', '.join(missing)}")
    return group


def block_arrays(group) -> list[str]:
    """Names of the arrays with a scenario and a replicate axis: the ones blocks are written into."""
    return sorted(n for n in group.array_keys()
                  if list(group[n].attrs.get("_ARRAY_DIMENSIONS", []))[:2] == ["scenario", "replicate"])


def block_checksum(group, run: int, lo: int, hi: int) -> str:
    """sha256 of one block's values in the store."""
    h = hashlib.sha256()
    for name in block_arrays(group):
        values = np.ascontiguousarray(group[name][run, lo:hi])
        h.update(f"{name}|{values.dtype.str}|{values.shape}|".encode())
        h.update(values.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Check:
    """One block's state in a store: ok, damaged (its values differ from the checksum) or missing."""
    index: int
    run: str
    lo: int
    hi: int
    state: str
    why: str = ""

    def line(self) -> str:
        what = f"block {self.index} (run {self.run}, replicates {self.lo}-{self.hi - 1})"
        return f"{what}: {self.state}" + (f" ({self.why})" if self.why else "")


def check_blocks(group, blocks, labels: list[str], done: dict[int, dict]) -> list[Check]:
    """The state of every block of the experiment (``blocks``: its Block list) against the manifest."""
    out = []
    for b in blocks:
        entry = done.get(b.index)
        label = labels[b.run]
        if entry is None:
            out.append(Check(b.index, label, b.lo, b.hi, "missing", "not in the manifest"))
            continue
        want = entry.get("sha256")
        if entry.get("replicates") != [b.lo, b.hi] or entry.get("run") != label:
            out.append(Check(b.index, label, b.lo, b.hi, "damaged", "the manifest's entry does not match the block"))
            continue
        if not want:
            out.append(Check(b.index, label, b.lo, b.hi, "damaged", "no checksum recorded (an older wfsim)"))
            continue
        try:
            got = block_checksum(group, b.run, b.lo, b.hi)
        except Exception as e:  # noqa: BLE001 - an unreadable chunk is damage
            out.append(Check(b.index, label, b.lo, b.hi, "damaged", f"unreadable: {type(e).__name__}"))
            continue
        out.append(Check(b.index, label, b.lo, b.hi, "ok" if got == want else "damaged",
                         "" if got == want else "its values differ from the checksum"))
    return out


# --- recognising an experiment's own files (``sim.outputs`` writes over nothing else) ------------------------
def is_store(path: Path) -> bool:
    """A results store written by wfsim experiment (its attributes hold the experiment's fingerprint)."""
    attrs = Path(path) / ".zattrs"
    return attrs.is_file() and "experiment_fingerprint" in json.loads(attrs.read_text())


def is_manifest(path: Path) -> bool:
    data = Manifest.read(Path(path))
    return data is not None and "fingerprint" in data and "done" in data


def is_comparison(path: Path) -> bool:
    return starts_with(Path(path), b"scenario,variant,future,baseline,profession,year,")


OWN_FILES = {COMPARISON: is_comparison}
