"""England at scale (issue 13): ``python -m benchmarks.england [--replicates N] [--quick] [--dask N] [--out DIR]``.

Each row runs ``wfsim experiment`` end to end in a fresh process on an experiment file written from
``experiments/england_ltwp.yaml`` with one variant (England as shipped, or with the LTWP plan): N replicates
× 15 years, yearly output at ICS level, blocks of replicates streamed into a zarr store. Reported: wall time,
the peak memory of the whole process tree (the driver and its worker processes together, sampled with
psutil every 0.1 s: ``/usr/bin/time`` and ``ru_maxrss`` give only the largest single process),
replicates × years, and agent-months per second (agent-months per replicate counted on one replicate
simulated here, by provider and month, times N).

``--dask N``: the same baseline experiment on N replicates with local worker processes, then with ``--dask local``
at 1 worker using every core for the kernel's threads (the default), and at 1 and 2 workers of one thread each
(``--threads 1``), each store's data variables compared bit for bit with the local run's: the scaling from 1 to 2
Dask workers at equal threads per worker, and the proof that neither backend nor thread count changes results.

Nothing is asserted: the machine is shared; the footer prints the load average before and after.
Results go to ``DIR/england.json`` (default ``benchmarks/out/``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from sim.vocabulary import STORE

from .common import REPO

EXPERIMENT = REPO / "experiments" / "england_ltwp.yaml"
GOAL_S = 600.0          # 1,000 replicates × 15 years of England, yearly, ICS level: ≤ 10 minutes
GOAL_MB = 8000.0        # ... and ≤ 8 GB peak memory


def experiment_file(folder: Path, variant: str, replicates: int, block: int) -> Path:
    """A copy of experiments/england_ltwp.yaml with one variant and ``replicates`` replicates."""
    spec = yaml.safe_load(EXPERIMENT.read_text(encoding="utf-8"))
    base = EXPERIMENT.parent
    spec["scenario"] = str((base / spec["scenario"]).resolve())
    chosen = spec["variants"][variant] or {}
    if "plans" in chosen:
        chosen = {**chosen, "plans": [str((base / p).resolve()) for p in chosen["plans"]]}
    spec.update(name=f"bench_england_{variant}", replicates=replicates, block=block, baseline=variant,
                variants={variant: chosen})
    spec.pop("compare", None)
    path = folder / f"england_{variant}_{replicates}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


class TreeMemory:
    """Peak resident memory of a process and all its descendants, summed, sampled every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.1):
        import psutil

        self.root, self.every, self.peak = psutil.Process(pid), every, 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            if total > self.peak:
                self.peak, self.peak_processes = total, len(procs)
            self._stop.wait(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 1e6


def run_experiment(path: Path, out: Path, extra: list[str]) -> dict:
    """``wfsim experiment PATH --out OUT EXTRA`` in a fresh process: wall time, peak tree memory."""
    cmd = [sys.executable, "-m", "sim.cli", "experiment", str(path), "--out", str(out), "--restart", *extra]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "120"})
    memory = TreeMemory(proc.pid)
    output, _ = proc.communicate()
    wall = time.perf_counter() - t
    peak = memory.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{output[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    return {"wall_s": wall, "peak_mb": peak, "processes_at_peak": memory.peak_processes,
            "block_s": [b["seconds"] for b in manifest["done"].values()]}


def agent_months_per_replicate(variant: str) -> int:
    """Agent-months (staff + trainees not in service, summed over providers and months) of replicate 0."""
    import sim
    from sim.engines.kernel import simulate
    from sim.model.compile import compile_plan

    from .common import agent_months

    plans = [EXPERIMENT.parent / p for p in (yaml.safe_load(EXPERIMENT.read_text())["variants"][variant] or {})
             .get("plans", [])]
    scenario = sim.load_scenario(REPO / "configs" / "england.yaml", plans=plans)
    plan = compile_plan(scenario)
    return agent_months(plan, simulate(plan, range(1), scenario.seed))


def same_data(a: Path, b: Path) -> tuple[bool, list[str]]:
    """Whether two experiment folders' zarr stores hold bit-identical data variables (and which differ)."""
    import numpy as np
    import xarray as xr

    x, y = xr.open_zarr(a / STORE), xr.open_zarr(b / STORE)
    differ = [k for k in sorted(set(x.data_vars) | set(y.data_vars))
              if k not in x or k not in y or x[k].dtype != y[k].dtype
              or not np.array_equal(x[k].values, y[k].values, equal_nan=x[k].dtype.kind == "f")]
    return not differ, differ


AT = ("2031-03", "2037-03", "2041-03")
FIGURE_PROFESSIONS = ("registered_nurse", "gp")


def figures(folder: Path, variants=("baseline", "ltwp")) -> dict:
    """The national gaps (FTE; median and 5th-95th percentile over replicates) of registered nurses and GPs
    at the end of March 2031, 2037 and 2041, and the plan's spend by owner level per plan year, from the
    stores ``--keep`` left in ``folder`` (``<variant>_local``)."""
    import numpy as np
    import xarray as xr

    from sim.results.levels import area_dim
    from sim.results.metrics import period_index

    out = {"gaps": [], "spend": []}
    for variant in variants:
        ds = xr.open_zarr(folder / f"{variant}_local" / STORE).isel(scenario=0).load()
        area = area_dim(ds)
        for prof in FIGURE_PROFESSIONS:
            gap = ds.gap_fte.sel(profession=prof).sum(area, dtype="float64")
            demand = ds.demand_fte.sel(profession=prof).sum(area, dtype="float64")
            for when in AT:
                t = period_index(ds, when)
                g = gap.isel(time=t).values
                d = demand.isel(time=t).values
                p5, p50, p95 = np.percentile(g, [5, 50, 95])
                out["gaps"].append({"variant": variant, "profession": prof, "at": when, "gap_p50": p50,
                                    "gap_p5": p5, "gap_p95": p95, "gap_share_p50": float(np.median(g / d)),
                                    "replicates": int(ds.sizes["replicate"])})
        if "spend_by_owner" in ds:
            spend = ds.spend_by_owner.groupby("owner_level").sum("owner")
            for level in spend.owner_level.values:
                by_year = spend.sel(owner_level=level).median("replicate").values
                out["spend"].append({"variant": variant, "owner_level": str(level),
                                     "by_plan_year_gbp_m": [round(float(x) / 1e6, 1) for x in by_year],
                                     "total_gbp_m": round(float(by_year.sum()) / 1e6, 1),
                                     "years": [str(t)[:7] for t in ds.time.values.astype("datetime64[M]")]})
            if "budget_scale" in ds:
                scale = ds.budget_scale.isel(replicate=0)
                out["budget_scale_min"] = {str(o): float(scale.sel(owner=o).min()) for o in scale.owner.values}
    return out


def print_figures(fig: dict) -> None:
    print("| variant | profession | at | gap FTE, median [5th to 95th] | median gap / demand |")
    print("|---|---|---|---|---|")
    for r in fig["gaps"]:
        print(f"| {r['variant']} | {r['profession']} | {r['at']} | {r['gap_p50']:,.0f} [{r['gap_p5']:,.0f} to "
              f"{r['gap_p95']:,.0f}] | {r['gap_share_p50']:.1%} |")
    for r in fig["spend"]:
        print(f"spend, {r['variant']}, {r['owner_level']}: £{r['total_gbp_m']:,.1f}m over the horizon; by plan year "
              f"(£m) {r['by_plan_year_gbp_m']}")
    if "budget_scale_min" in fig:
        print(f"budget control's smallest factor by owner: {fig['budget_scale_min']}")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=1000, help="replicates of each England row (default 1000)")
    ap.add_argument("--variants", default="baseline,ltwp", help="variants of england_ltwp.yaml to time")
    ap.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    ap.add_argument("--block", type=int, default=50, help="replicates per block (default 50)")
    ap.add_argument("--dask", type=int, default=0, metavar="N",
                    help="also time --dask local at 1 and 2 workers on N replicates and compare the stores")
    ap.add_argument("--figures", type=Path, default=None, metavar="DIR",
                    help="only print the national gaps and spend by owner level from stores kept in DIR")
    ap.add_argument("--quick", action="store_true", help="20 replicates and --dask 8: a smoke test")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="write the experiments' folders (zarr stores) under DIR and keep them (default: a "
                         "temporary folder, removed)")
    args = ap.parse_args(argv)
    if args.figures:
        fig = figures(args.figures.resolve())
        print_figures(fig)
        (args.figures / "figures.json").write_text(json.dumps(fig, indent=1))
        return 0
    if args.quick:
        args.replicates, args.dask = 20, args.dask or 8
    args.out.mkdir(parents=True, exist_ok=True)
    rows, started = [], load()
    cores = os.cpu_count() or 1
    workers = ["--workers", str(args.workers)] if args.workers else []
    with tempfile.TemporaryDirectory(prefix="wfsim-bench-england-") as tmp:
        tmp = Path(tmp)
        if args.keep:
            tmp = args.keep.resolve()
            tmp.mkdir(parents=True, exist_ok=True)
        variants = [v for v in args.variants.split(",") if v]
        for variant in variants:
            path = experiment_file(tmp, variant, args.replicates, args.block)
            print(f"england {variant}: {args.replicates} replicates (load {load()}) ...", flush=True)
            res = run_experiment(path, tmp / f"{variant}_local", workers)
            am = agent_months_per_replicate(variant) * args.replicates
            rows.append({"row": f"england {variant}", "backend": f"local processes ({args.workers or cores})",
                         "replicates": args.replicates, "years": 15, "every": "year", "level": "ics",
                         "wall_s": res["wall_s"], "peak_mb": res["peak_mb"], "agent_months": am,
                         "agent_months_per_s": am / res["wall_s"], "median_block_s": sorted(res["block_s"])[
                             len(res["block_s"]) // 2], "block": args.block, "load_after": load()})
            _print(rows[-1])
        if args.dask:
            path = experiment_file(tmp, "baseline", args.dask, max(1, min(args.block, args.dask // 4)))
            ref = tmp / "dask_ref"
            res = run_experiment(path, ref, workers)
            rows.append(_dask_row("local processes", cores, args.dask, res, True, threads=1))
            _print(rows[-1])
            # 1 worker with the kernel's threads on every core (the default), then 1 and 2 workers of one
            # thread each: the scaling from 1 to 2 workers at equal threads per worker
            for n, threads in ((1, None), (1, 1), (2, 1)):
                out = tmp / f"dask_{n}_{threads or 'all'}"
                extra = ["--threads", str(threads)] if threads else []
                res = run_experiment(path, out, ["--dask", "local", "--workers", str(n), *extra])
                same, differ = same_data(ref, out)
                rows.append(_dask_row("dask local", n, args.dask, res, same, differ,
                                      threads or max(1, cores // n)))
                _print(rows[-1])
    meta = {"load_start": started, "load_end": load(), "cores": cores, "goal_s": GOAL_S, "goal_mb": GOAL_MB}
    (args.out / "england.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    if args.keep and all((args.keep / f"{v}_local").exists() for v in ("baseline", "ltwp")):
        print_figures(figures(args.keep.resolve()))
    dask = {(r["workers"], r["threads"]): r["wall_s"] for r in rows if r["backend"] == "dask local"}
    if (1, 1) in dask and (2, 1) in dask:
        print(f"dask speed-up 1 → 2 workers of one thread each: {dask[1, 1] / dask[2, 1]:.2f}×")
    if (1, cores) in dask and (2, 1) in dask:
        print(f"dask speed-up 1 worker × {cores} threads → 2 workers × 1 thread: {dask[1, cores] / dask[2, 1]:.2f}×")
    for r in rows:
        if r["row"].startswith("england") and r["replicates"] >= 1000:
            met = r["wall_s"] <= GOAL_S and r["peak_mb"] <= GOAL_MB
            print(f"goal ({r['row']}): ≤ {GOAL_S:.0f} s and ≤ {GOAL_MB:.0f} MB: {'met' if met else 'missed'}")
    print(f"load average (1, 5, 15 min) at start {started}, at end {meta['load_end']}; {cores} cores")
    return 0


def _dask_row(backend: str, workers: int, replicates: int, res: dict, same: bool, differ=(), threads: int = 1) -> dict:
    return {"row": "england baseline", "backend": backend, "workers": workers, "threads": threads,
            "replicates": replicates,
            "years": 15, "every": "year", "level": "ics", "wall_s": res["wall_s"], "peak_mb": res["peak_mb"],
            "identical_to_local": same, "differ": list(differ), "load_after": load()}


def _print(r: dict) -> None:
    rate = f", {r['agent_months_per_s']:.3g} agent-months/s" if "agent_months_per_s" in r else ""
    same = "" if "identical_to_local" not in r else f", identical to local: {r['identical_to_local']}"
    workers = f" {r['workers']} workers × {r['threads']} threads" if "workers" in r else ""
    print(f"| {r['row']} | {r['backend']}{workers} | {r['replicates']} × {r['years']} y | {r['wall_s']:.1f} s | "
          f"{r['peak_mb']:.0f} MB{rate}{same} | load {r['load_after']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
