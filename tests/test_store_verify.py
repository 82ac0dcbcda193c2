"""An experiment's store is verified before it is reused (issue 17, class 5).

Before: deleting or corrupting a chunk of a finished experiment's zarr store and re-running the same
command printed "all blocks were already in the store", exited 0, and the deleted block read as zeros.
Now the manifest records a checksum of each block as stored; resuming recomputes the blocks that no
longer match, and ``wfsim experiment FILE --verify`` checks a store without running anything.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments import open_experiment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "spec_example.yaml"
SMALL = {"name": "small", "question": "Does slower leaving shrink the gap?", "scenario": str(EXAMPLE),
         "replicates": 6, "seed": 1, "years": 2, "every": "year", "block": 3,
         "variants": {"baseline": {}, "slower": {"set": {"professions.registered_nurse.leave_rate": 0.07}}}}
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def values(folder: Path) -> xr.Dataset:
    ds = open_experiment(folder).load()
    for key in ("created", "experiment_file"):
        ds.attrs.pop(key)
    return ds


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished small experiment (4 blocks): its file, its folder and its values."""
    root = tmp_path_factory.mktemp("verify")
    path = root / "e.yaml"
    path.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    out = root / "out"
    r = invoke("experiment", path, "--out", out, "--workers", "1", "-q")
    assert r.exit_code == 0, r.output
    return path, out, values(out)


@pytest.fixture
def copy_of(finished, tmp_path):
    path, out, ref = finished
    folder = tmp_path / "out"
    shutil.copytree(out, folder)
    return path, folder, ref


def chunk(folder: Path, var: str, run: int, block: int) -> Path:
    """The file of one block's chunk of a variable (zarr v2 layout, one chunk per block)."""
    hits = sorted((folder / "results.zarr" / var).glob(f"{run}.{block}.*"))
    assert len(hits) == 1, hits
    return hits[0]


@pytest.mark.parametrize("damage", ["delete", "corrupt", "zero"])
def test_damaged_block_is_recomputed_on_resume(copy_of, damage):
    path, folder, ref = copy_of
    victim = chunk(folder, "headcount", 1, 1)                 # run "slower", replicates 3-5
    if damage == "delete":
        victim.unlink()
    elif damage == "corrupt":
        victim.write_bytes(b"garbage" * 10)
    else:                                                     # a valid chunk holding other numbers
        other = chunk(folder, "headcount", 0, 0).read_bytes()
        victim.write_bytes(other)
    r = invoke("experiment", path, "--out", folder, "--workers", "1", "-q")
    assert r.exit_code == 0, r.output
    assert "all 4 blocks were already in the store" not in r.stdout
    assert "1 of 4 blocks computed" in r.stdout and "damaged" in r.output, r.output
    xr.testing.assert_identical(values(folder), ref)
    assert invoke("experiment", path, "--out", folder, "--verify").exit_code == 0


def test_verify_an_intact_store(finished):
    path, out, _ = finished
    r = invoke("experiment", path, "--out", out, "--verify")
    assert r.exit_code == 0, r.output
    assert "4 of 4 blocks" in r.stdout and "match" in r.stdout


def test_verify_names_the_damaged_and_missing_blocks(copy_of):
    path, folder, _ = copy_of
    chunk(folder, "gap_fte", 0, 1).write_bytes(b"\x00" * 3)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["done"]["2"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    r = invoke("experiment", path, "--out", folder, "--verify")
    assert r.exit_code == 2, r.output
    assert "block 1" in r.stderr and "damaged" in r.stderr and "block 2" in r.stderr and "missing" in r.stderr
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before       # verify changes nothing


def test_verify_without_a_store(tmp_path, finished):
    path, _, _ = finished
    r = invoke("experiment", path, "--out", tmp_path / "none", "--verify")
    assert r.exit_code == 2 and "no results" in r.stderr, r.output
    assert not (tmp_path / "none").exists()


def test_damaged_store_metadata_is_refused(copy_of):
    path, folder, _ = copy_of
    (folder / "results.zarr" / "headcount" / ".zarray").write_text("{not json")
    r = invoke("experiment", path, "--out", folder, "--workers", "1", "-q")
    assert r.exit_code == 2 and "--restart" in r.stderr, r.output
    r = invoke("experiment", path, "--out", folder, "--verify")
    assert r.exit_code == 2, r.output
    r = invoke("experiment", path, "--out", folder, "--workers", "1", "-q", "--restart")
    assert r.exit_code == 0, r.output


def test_manifest_records_a_checksum_per_block(finished):
    _, out, ref = finished
    manifest = json.loads((out / "manifest.json").read_text())
    sums = [b["sha256"] for b in manifest["done"].values()]
    assert len(sums) == 4 and len(set(sums)) == 4 and all(len(s) == 64 for s in sums)
    assert np.isfinite(ref.headcount.values).all()
