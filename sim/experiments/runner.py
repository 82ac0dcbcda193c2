"""The experiment runner: blocks of (run, replicates) into one zarr store, resumable after any interrupt.

Layout of an experiment's output folder (default ``results/<experiment-name>/``)::

    results.zarr/     the results schema with a leading ``scenario`` dimension (one entry per run)
    manifest.json     the experiment's fingerprint and the blocks already in the store
    comparison.csv    every run against its baseline, replicate by replicate (written at the end)

The store is created first as a template (metadata only, chunked one block per chunk). Each block is
computed by a worker (``workers``), then written by the driver into its own region of the store, and
only then recorded in the manifest (replaced atomically) with a checksum of its values as stored
(``store``). A block that was being written when the process died is not in the manifest, so it is
computed and written again; resuming also verifies every recorded block and computes the damaged ones
again. Since a block's values depend only on (scenario, seed, replicate numbers), the finished store
is identical to an uninterrupted run's.
The driver holds at most a few blocks at a time, so memory does not grow with the number of runs.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import xarray as xr

from .. import runs
from ..model.compile import compile_base, with_levers
from ..outputs import recognised
from ..results.dataset import DESCRIPTIONS, UNITS, residents_by_group, to_level
from ..runs.budgets import budget_control, remember_budget_control
from ..scenario import ScenarioError
from ..vocabulary import COMPARISON, DEFAULT_LEVEL, MANIFEST, STORE
from .spec import Experiment, resolved
from .store import (Check, Manifest, block_arrays, block_checksum, check_blocks, is_comparison, is_manifest, is_store,
                    open_store, recorded)
from .workers import run_local

ZERO_FILL = ("lever_cost", "lever_scale")   # a lever absent from a run costs nothing and has size 0
# an owner absent from a run (or a run without owners) spends nothing on levers and is not scaled down
OWNER_FILL = {"spend_by_owner": 0.0, "budget_scale": 1.0}


@dataclass(frozen=True)
class Block:
    index: int
    run: int            # index into experiment.runs
    lo: int             # first replicate
    hi: int             # one past the last


def blocks(exp: Experiment) -> list[Block]:
    size, n = exp.spec.block, exp.spec.replicates
    out = []
    for r in range(len(exp.runs)):
        for lo in range(0, n, size):
            out.append(Block(len(out), r, lo, min(lo + size, n)))
    return out


def compute_block(scenario: dict, years: int, lo: int, hi: int, seed: int, engine: str, every: str,
                  threads: int | None = None, level: str = DEFAULT_LEVEL, budget=None) -> xr.Dataset:
    """One block's dataset (what a worker runs; a pure function of its arguments). ``budget``: the run's
    budget control (``sim.runs.budgets.BudgetControl``) as the driver worked it out, so that no worker
    repeats its expected-path projections (minutes on England); None: the worker works it out if needed."""
    if threads and engine == "kernel":
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    scenario = runs.with_horizon(runs.load_scenario(scenario), years)
    if budget is not None:
        remember_budget_control(scenario, budget)
    return runs.run_replicates(scenario, range(lo, hi), seed, engine=engine, every=every, level=level)


def _plans(exp: Experiment) -> list:
    """Each run's plan tensors (levers applied): their lever labels and population go into the store."""
    return [with_levers(compile_base(r.scenario), r.scenario, r.scenario.levers) for r in exp.runs]


def _lever_union(plans: list) -> list[str]:
    return list(dict.fromkeys(label for plan in plans for label in plan.lever_labels))


def _owner_union(plans: list) -> list[tuple[str, str]]:
    """(owner, level) of every run's owners, in the order the runs list them (empty: no run has owners)."""
    return list(dict.fromkeys(pair for plan in plans for pair in zip(plan.owners, plan.owner_levels)))


def _axes(plans: list) -> tuple[list[str], list[tuple[str, str]]]:
    """The experiment's lever and owner axes: the union over its runs."""
    return _lever_union(plans), _owner_union(plans)


def _template(exp: Experiment, probe: xr.Dataset, plans: list) -> xr.Dataset:
    """The whole store as lazy zeros (dask), chunked one block per chunk; only metadata gets written."""
    import dask.array as da

    S, R, block = len(exp.runs), exp.spec.replicates, exp.spec.block
    probe = _on_axes(probe, _axes(plans))
    data = {}
    for name, v in probe.data_vars.items():
        if "replicate" not in v.dims:
            continue
        rest = tuple(probe.sizes[d] for d in v.dims[1:])
        arr = da.zeros((S, R) + rest, dtype=v.dtype, chunks=(1, block) + rest)
        data[name] = (("scenario",) + v.dims, arr, v.attrs)
    pop = probe.population
    population = [to_level(plan, {"population": plan.population}, exp.spec.level, exp.spec.every,
                           time_axis=0)["population"] for plan in plans]
    data["population"] = (("scenario",) + pop.dims, np.stack(population), pop.attrs)
    if "population_by_group" in probe:              # characteristics: residents by group, as population
        grouped = probe.population_by_group
        data["population_by_group"] = (("scenario",) + grouped.dims, np.stack(
            [residents_by_group(plan, exp.spec.level, exp.spec.every) for plan in plans]), grouped.attrs)
    coords = {k: c for k, c in probe.coords.items() if k != "replicate"}
    coords.update(replicate=np.arange(R, dtype=np.int64), scenario=[r.label for r in exp.runs],
                  variant=("scenario", [r.variant for r in exp.runs]),
                  future=("scenario", [r.future for r in exp.runs]),
                  scenario_sha256=("scenario", [r.sha256 for r in exp.runs]))
    ds = xr.Dataset(data, coords=coords)
    spec = exp.spec
    ds.attrs.update({
        "experiment_name": spec.name, "question": spec.question, "description": spec.description,
        "baseline": spec.baseline, "seed": spec.seed, "engine": spec.engine, "replicates": R, "block": block,
        "time_step": spec.every, "stocks_at": probe.attrs["stocks_at"], "wfsim_version": runs.wfsim_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "experiment_file": _shown(exp.path), "experiment_fingerprint": exp.fingerprint(),
        "experiment": json.dumps(resolved(exp), sort_keys=True),
        "scenario_name": ", ".join(r.label for r in exp.runs),
        "demand_definition": probe.attrs.get("demand_definition", ""),
        "level": probe.attrs["level"], "nation": probe.attrs["nation"],
    })
    return ds


def _machine() -> str:
    import platform

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, numba {_version('numba')}, zarr {_version('zarr')}")


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _shown(path: Path | None) -> str:
    """The experiment file as the user would type it (relative to the working folder when inside it)."""
    if path is None:
        return ""
    p = Path(path).absolute()
    return str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p)


def _on_axes(ds: xr.Dataset, axes: tuple[list[str], list[tuple[str, str]]]) -> xr.Dataset:
    """The dataset on the experiment's lever and owner axes: levers a run lacks get zero cost and size,
    owners it lacks zero spend and no budget scaling, and the variables keep their float type even when
    the run has no lever (or no owner) at all."""
    levers, owners = axes
    out = ds.reindex(lever=levers, fill_value=0)
    out = out.assign({k: out[k].astype(ds[k].dtype) for k in ZERO_FILL})
    if not owners:
        return out
    names = [n for n, _ in owners]
    if "spend_by_owner" not in out:           # a run without owners: its levers belong to no named owner
        lead = ("replicate",) if "replicate" in out.dims else ()
        shape = tuple(out.sizes[d] for d in lead) + (out.sizes["time"], len(names))
        out = out.assign({k: (lead + ("time", "owner"), np.full(shape, v, np.float64 if k == "spend_by_owner"
                                                                 else np.float32)) for k, v in OWNER_FILL.items()})
        out = out.assign_coords(owner=names)
        for k in OWNER_FILL:
            out[k].attrs = _owner_attrs(k, ds.attrs)
    else:
        out = out.drop_vars("owner_level").reindex(owner=names, fill_value=OWNER_FILL)
        out = out.assign({k: out[k].astype(ds[k].dtype) for k in OWNER_FILL})
    return out.assign_coords(owner_level=("owner", [lv for _, lv in owners]))


def _owner_attrs(name: str, attrs: dict) -> dict:
    return {"units": UNITS[name].replace("per month", f"per {attrs.get('time_step', 'month')}"),
            "description": DESCRIPTIONS[name]}


def _region_payload(ds: xr.Dataset, label: str, axes) -> xr.Dataset:
    """A block's dataset shaped for its region of the store: scenario axis added, shared coords dropped."""
    ds = _on_axes(ds.drop_vars(["population", "population_by_group"], errors="ignore"), axes) \
        .expand_dims(scenario=[label])
    keep = {"scenario", "replicate"}
    drop = [k for k, c in ds.coords.items() if not keep & set(c.dims) or k in ("scenario", "replicate")]
    out = ds.drop_vars(drop)
    out.attrs = {}
    return out


def prepare(exp: Experiment, out: Path, *, restart: bool = False) -> tuple[Manifest, tuple, list[Check]]:
    """Create the store and manifest, or reopen them to resume after verifying every recorded block (the
    damaged ones are dropped from the manifest, to be computed again); refuse a folder holding another
    experiment, or files of the same names that wfsim did not write. Returns the manifest, the experiment's
    lever and owner axes, and the damaged blocks."""
    store, mpath = out / STORE, out / MANIFEST
    _check_own_files(out)
    plans = _plans(exp)
    axes = _axes(plans)
    old = Manifest.read(mpath)
    if old is not None and not restart and old.get("fingerprint") != exp.fingerprint():
        raise ScenarioError([("--out", f"{out} holds results of a different experiment definition (the experiment or "
                                       "a scenario it uses has changed since it was started); use --restart to "
                                       "discard them, or --out for another folder")], "experiment")
    manifest = Manifest(mpath, exp.fingerprint(), len(blocks(exp)), exp.name)
    if old is not None and not restart and store.exists():
        checks = verify_store(exp, out, old)
        manifest.data.update({k: old[k] for k in ("started", "machine", "arrays") if k in old})
        manifest.data["machine"] = old.get("machine") or f"{_machine()} (recorded when resumed)"
        manifest.data["done"] = {str(c.index): recorded(old)[c.index] for c in checks if c.state == "ok"}
        damaged = [c for c in checks if c.state == "damaged"]
        if damaged:
            manifest.save()             # the damaged blocks are no longer done, even if this run is stopped
        return manifest, axes, damaged
    if out.exists() and restart:
        for p in (store, mpath, out / COMPARISON):
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    spec = exp.spec
    probe = runs.run_replicates(exp.runs[0].scenario, range(0, 1), spec.seed, engine=spec.engine, every=spec.every,
                                level=spec.level)
    _template(exp, probe, plans).to_zarr(store, mode="w", compute=False, consolidated=True, zarr_format=2)
    manifest.data["started"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifest.data["machine"] = _machine()
    manifest.data["arrays"] = block_arrays(open_store(store))
    manifest.save()
    return manifest, axes, []


def _check_own_files(out: Path) -> None:
    """The output folder's store, manifest and comparison, where they exist, must be wfsim's own."""
    for name, ours in ((STORE, is_store), (MANIFEST, is_manifest), (COMPARISON, is_comparison)):
        p = out / name
        if p.exists() and not recognised(ours, p):
            raise ScenarioError([("--out", f"{p} exists and is not a wfsim experiment's {name}; wfsim writes over "
                                           "its own outputs only: choose another --out folder, or move it away")],
                                "experiment")


def verify_store(exp: Experiment, out: Path, manifest: dict | None = None) -> list[Check]:
    """The state of every block of the experiment's store in ``out`` (ok, damaged or missing), reading
    only; a StoreDamaged if the store's metadata cannot be read."""
    store = out / STORE
    manifest = Manifest.read(out / MANIFEST) if manifest is None else manifest
    group = open_store(store, (manifest or {}).get("arrays"))
    return check_blocks(group, blocks(exp), [r.label for r in exp.runs], recorded(manifest))


def run_experiment(exp: Experiment, out: Path, *, workers: int | None = None, dask: str | None = None,
                   restart: bool = False, progress: Callable[[int, int], None] | None = None,
                   on_block: Callable[[Block], None] | None = None, threads: int | None = None) -> dict:
    """Run (or resume) every block not yet in the store; returns timing and counts.

    ``dask``: None for local worker processes, "local" for a dask LocalCluster, or a scheduler address.
    ``threads``: the kernel's threads in each worker (default: this machine's cores shared out over the
    workers, at least one); results never depend on it.
    ``on_block(block)`` is called after each block is safely recorded (used by tests to interrupt).
    """
    out = Path(out)
    manifest, axes, damaged = prepare(exp, out, restart=restart)
    group = open_store(out / STORE)
    todo = [b for b in blocks(exp) if b.index not in manifest.done()]
    total = len(blocks(exp))
    done0 = total_done = len(manifest.done())
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(todo) or 1))
    threads = threads or max(1, cores // workers)
    spec = exp.spec
    scenarios = [r.data() for r in exp.runs]
    needed = {b.run for b in todo}
    # budget control's factors, worked out once here (an expected-path projection per plan year over budget)
    # and handed to the workers with each block
    budgets = [budget_control(r.scenario) if i in needed else None for i, r in enumerate(exp.runs)]
    t0 = time.perf_counter()
    if progress:
        progress(done0, total)

    def args(b: Block) -> tuple:
        return (scenarios[b.run], exp.runs[b.run].scenario.years, b.lo, b.hi, spec.seed, spec.engine, spec.every,
                threads, spec.level, budgets[b.run])

    def finished(b: Block, ds: xr.Dataset, seconds: float) -> None:
        nonlocal total_done
        label = exp.runs[b.run].label
        _region_payload(ds, label, axes).to_zarr(
            out / STORE, region={"scenario": slice(b.run, b.run + 1), "replicate": slice(b.lo, b.hi)})
        manifest.record(b.index, label, b.lo, b.hi, seconds, block_checksum(group, b.run, b.lo, b.hi))
        total_done += 1
        if progress:
            progress(total_done, total)
        if on_block:
            on_block(b)

    if todo:
        if dask is None:
            run_local(todo, args, finished, workers, _timed)
        else:
            _dask(todo, args, finished, workers, dask)
    _consolidate(out / STORE)
    return {"blocks": total, "computed": len(todo), "resumed_from": done0, "seconds": time.perf_counter() - t0,
            "workers": workers, "threads": threads, "damaged": [c.line() for c in damaged],
            "backend": "dask " + dask if dask else ("local process" if workers == 1 else "local processes")}


def _consolidate(store: Path) -> None:
    import zarr

    zarr.consolidate_metadata(str(store))


def _timed(*a):
    t = time.perf_counter()
    ds = compute_block(*a)
    return ds, time.perf_counter() - t


def _dask(todo, args, finished, workers: int, address: str) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ScenarioError([("--dask", "needs dask.distributed: pip install 'wfsim-ics[dask]'")], "experiment") from None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(address, timeout=20)
        except (OSError, TimeoutError, ValueError) as e:
            raise ScenarioError([("--dask", f"cannot reach the scheduler at {address}: {e}")], "experiment") from None
    try:
        pending = iter(todo)
        futures = {}
        for b in pending:
            futures[client.submit(_timed, *args(b), pure=False)] = b
            if len(futures) >= 2 * workers:
                break
        queue = as_completed(list(futures))
        for f in queue:
            b = futures.pop(f)
            finished(b, *f.result())
            f.release()
            nxt = next(pending, None)
            if nxt is not None:
                nf = client.submit(_timed, *args(nxt), pure=False)
                futures[nf] = nxt
                queue.add(nf)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
