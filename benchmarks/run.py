"""wfsim benchmark suite (the goals are in benchmarks/README.md): ``python -m benchmarks.run [--quick] [--out DIR]``.

Prints a table and writes ``DIR/bench.json`` (default ``benchmarks/out/bench.json``). Every timing is
the median of several repeats; every ratio compares numbers measured in this same run. Nothing here
asserts a timing: goals are shown as met / missed, for people to read.

Groups (see benchmarks/README.md): compile, kernel, headline, scaling (replicates, staff, threads,
horizon), rng (the random-number ceiling) and agents (the ``agents`` engine, when it exists).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit, prange
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.engines.kernel.rng import stream_states, uniform

from ._child import MARK
from .common import (REPO, agent_months, agent_months_per_replicate, default_scenario, scaled_scenario, tiny_plan,
                     truncated_plan)

GOAL_PER_CORE = 1e8            # agent-months per second per core
GOAL_HEADLINE_S = 60.0         # 1,000 replicates × 10 years of the default ICS, on 2 cores
GOAL_PEAK_MB = 4000.0          # peak resident memory of that run
GROUPS = ("compile", "kernel", "headline", "scaling", "rng", "agents", "cells")


@dataclass(frozen=True)
class Sizes:
    """How much each group runs; ``--quick`` shrinks everything for a ~1 minute smoke test.

    Sized for the baseline ICS (~67k staff, ~9M agent-months per replicate, ~0.1 s per replicate
    on 2 cores): the full suite takes ~10 minutes, most of it the headline runs and cold compiles.
    """

    repeats: int                   # repeats of the kernel rows and the RNG ceiling (median reported)
    scaling_repeats: int           # repeats of each scaling row
    cold_repeats: int              # fresh processes with an empty numba cache (each ~25 s on 2 cores)
    cached_repeats: int
    kernel_reps: int               # replicates for the kernel throughput and RNG ceiling rows
    headline_reps: int
    headline_repeats: tuple[int, int]   # (every="month", every="year")
    rep_scaling: tuple[int, ...]
    staff_factors: tuple[float, ...]
    staff_reps: int
    thread_reps: int
    horizon_years: tuple[int, ...]  # 0 = the scenario's own horizon
    horizon_reps: int
    agents_reps: int
    agents_repeats: int
    agents_years: int | None        # None = the scenario's horizon
    agents_kernel_reps: int         # replicates of each interleaved one-thread kernel run for the ratio


FULL = Sizes(repeats=5, scaling_repeats=3, cold_repeats=2, cached_repeats=3, kernel_reps=40, headline_reps=1000,
             headline_repeats=(3, 2), rep_scaling=(8, 32, 128), staff_factors=(0.25, 1.0, 4.0), staff_reps=8,
             thread_reps=32, horizon_years=(1, 5, 0), horizon_reps=8, agents_reps=1, agents_repeats=5,
             agents_years=None, agents_kernel_reps=8)
QUICK = Sizes(repeats=2, scaling_repeats=1, cold_repeats=1, cached_repeats=1, kernel_reps=4, headline_reps=20,
              headline_repeats=(1, 1), rep_scaling=(2, 8), staff_factors=(0.25, 1.0, 4.0), staff_reps=2,
              thread_reps=4, horizon_years=(1, 0), horizon_reps=2, agents_reps=1, agents_repeats=1,
              agents_years=1, agents_kernel_reps=2)


# ------------------------------------------------------------------------------------------------
# the random-number ceiling: one xoshiro256** uniform per agent-month, replicates in parallel
# ------------------------------------------------------------------------------------------------
@njit(parallel=True)
def rng_ceiling(states, counts):
    """Draw ``counts[r]`` uniforms from replicate r's own xoshiro256** state and sum them."""
    R = min(states.shape[0], counts.shape[0])
    sums = np.zeros(R)
    for r in prange(R):
        s = states[r, 0].copy()
        acc = 0.0
        for _ in range(counts[r]):
            acc += uniform(s)
        sums[r] = acc
    return sums.sum()


# ------------------------------------------------------------------------------------------------
# rows
# ------------------------------------------------------------------------------------------------
@dataclass
class Row:
    group: str
    what: str
    parameters: dict
    times_s: list[float] = field(default_factory=list)
    throughput: float | None = None          # units per second, all threads together
    units: str = ""
    threads: int | None = None               # threads the throughput used (for per core)
    extra: dict = field(default_factory=dict)
    skipped: str | None = None
    error: str | None = None

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.times_s) if self.times_s else None

    @property
    def best_s(self) -> float | None:
        return min(self.times_s) if self.times_s else None

    @property
    def per_core(self) -> float | None:
        if self.throughput is None or not self.threads:
            return None
        return self.throughput / self.threads

    def to_json(self) -> dict:
        return {"group": self.group, "what": self.what, "parameters": self.parameters, "median_s": self.median_s,
                "best_s": self.best_s,
                "throughput": self.throughput, "throughput_per_core": self.per_core, "units": self.units,
                "threads": self.threads, "repeats": len(self.times_s), "times_s": self.times_s,
                "extra": self.extra, "skipped": self.skipped, "error": self.error}


def timed(fn, repeats: int):
    """(times, last result) of ``repeats`` calls."""
    times, res = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t)
    return times, res


def child(task: str, args: dict, env: dict | None = None, timeout: float = 1800) -> dict:
    """Run ``benchmarks._child TASK`` in a fresh interpreter and return its JSON answer."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks._child", task, json.dumps(args)], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    raise RuntimeError(f"child {task} exited {proc.returncode} without a result:\n{tail}")


class Suite:
    def __init__(self, sizes: Sizes, scenario_path: Path, note: str, console: Console, log: Console,
                 groups: list[str]):
        import numba

        import sim
        from sim.model.compile import compile_plan

        self.sizes, self.path, self.note = sizes, scenario_path, note
        self.console, self.log = console, log
        self.rows: list[Row] = []
        self.ratios: list[dict] = []
        self.numba = numba
        self.max_threads = numba.config.NUMBA_NUM_THREADS
        self.threads = numba.get_num_threads()
        self.scenario = sim.load_scenario(scenario_path)
        self.seed = self.scenario.seed
        self.compile_plan = compile_plan
        self.plan = compile_plan(self.scenario)
        self.kernel_out = None       # simulate() output of the kernel row, reused by the RNG ceiling
        self.kernel_row: Row | None = None
        self.rng_times: list[float] | None = None
        self.groups = groups

    # -- helpers ------------------------------------------------------------------------------------
    def add(self, row: Row) -> Row:
        self.rows.append(row)
        ms = f"{row.median_s:.3g} s" if row.median_s is not None else escape(row.skipped or row.error or "")
        self.log.print(f"  [dim]{row.group}[/] {row.what} ({_params(row.parameters)}): {ms}", highlight=False)
        return row

    def ratio(self, what: str, value: float | None, detail: str = "") -> None:
        self.ratios.append({"what": what, "value": value, "detail": detail})

    def simulate(self, plan, R: int):
        from sim.engines.kernel import simulate
        return simulate(plan, range(R), self.seed)

    def kernel_rows(self, group: str, what: str, plan, R: int, params: dict, repeats: int | None = None) -> Row:
        times, out = timed(lambda: self.simulate(plan, R), repeats or self.sizes.repeats)
        am = agent_months(plan, out)
        row = Row(group, what, {"replicates": R, "months": plan.months, **params}, times,
                  throughput=am / statistics.median(times), units="agent-months/s", threads=self.numba.get_num_threads(),
                  extra={"agent_months": am, "staff_at_start": int(plan.init_headcount.sum())})
        self.add(row)
        return row

    # -- groups -------------------------------------------------------------------------------------
    def warm_up(self) -> float:
        """Compile (or load from the default on-disk cache) the kernel and the RNG ceiling in this process."""
        t = time.perf_counter()
        self.simulate(tiny_plan(self.scenario), 2)
        rng_ceiling(stream_states(0, range(2)), np.array([10, 10], np.int64))
        return time.perf_counter() - t

    def g_compile(self) -> None:
        s = self.sizes
        args = {"scenario": str(self.path)}
        dirs = []
        try:
            cold = []
            for _ in range(s.cold_repeats):
                d = tempfile.mkdtemp(prefix="wfsim-numba-cold-")
                dirs.append(d)
                cold.append(child("compile", args, env={"NUMBA_CACHE_DIR": d}))
            params = {"plan": "default ICS ×0.01, 1 year, 2 replicates", "cache": "empty NUMBA_CACHE_DIR"}
            self.add(Row("compile", "compile, cold (first simulate() call)", params,
                         [c["first_call_s"] for c in cold], units="s",
                         extra={"import_sim_s": statistics.median(c["import_s"] for c in cold),
                                "tiny_run_s": statistics.median(c["second_call_s"] for c in cold),
                                "tiny_staff": cold[0]["tiny_staff"]}))
            cached = [child("compile", args, env={"NUMBA_CACHE_DIR": dirs[-1]}) for _ in range(s.cached_repeats)]
            self.add(Row("compile", "compile, from cache (first simulate() call)",
                         {**params, "cache": "filled by the cold run"}, [c["first_call_s"] for c in cached], units="s",
                         extra={"import_sim_s": statistics.median(c["import_s"] for c in cached),
                                "tiny_run_s": statistics.median(c["second_call_s"] for c in cached)}))
            changed = sorted({c["kernel_source"] for c in cold + cached} - {cold[-1]["kernel_source"]})
            if changed:
                self.rows[-1].extra["warning"] = ("kernel source changed while compiling (someone edited "
                                                  "sim/engines/kernel/): cached timings include a recompile")
                self.log.print(f"[yellow]warning:[/] {self.rows[-1].extra['warning']}")
            c_cold = statistics.median(c["first_call_s"] for c in cold)
            c_warm = statistics.median(c["first_call_s"] for c in cached)
            self.ratio("compile: cold / from cache", c_cold / c_warm,
                       f"{c_cold:.3g} s vs {c_warm:.3g} s for the first simulate() call")
        finally:
            for d in dirs:
                shutil.rmtree(d, ignore_errors=True)

    def g_kernel(self) -> None:
        """simulate(), its seeding, sim.run() and (with the rng group) the RNG ceiling, interleaved repeat
        by repeat on the same replicates so that load from other work hits them alike."""
        import sim

        s, plan, R = self.sizes, self.plan, self.sizes.kernel_reps
        self.kernel_out = self.simulate(plan, R)
        counts = self._rng_counts()
        states = stream_states(self.seed, range(R))
        k_t, seed_t, run_t, rng_t = [], [], [], []
        ds = None
        for _ in range(s.repeats):
            k_t += timed(lambda: self.simulate(plan, R), 1)[0]
            seed_t += timed(lambda: stream_states(self.seed, range(R)), 1)[0]
            t, ds = timed(lambda: sim.run(self.scenario, replicates=R, seed=self.seed), 1)
            run_t += t
            if "rng" in self.groups:
                rng_t += timed(lambda: rng_ceiling(states, counts), 1)[0]
        am = agent_months(plan, self.kernel_out)
        threads = self.numba.get_num_threads()
        self.kernel_row = self.add(Row("kernel", "kernel simulate(), default ICS", {"replicates": R,
                                       "months": plan.months}, k_t, throughput=am / statistics.median(k_t),
                                       units="agent-months/s", threads=threads,
                                       extra={"agent_months": am, "staff_at_start": int(plan.init_headcount.sum())}))
        self.add(Row("kernel", "  of which seeding (stream_states, Python)", {"replicates": R}, seed_t,
                     throughput=R / statistics.median(seed_t), units="replicates/s"))
        outside = statistics.median(r - k for r, k in zip(run_t, k_t))
        self.add(Row("kernel", "sim.run() in this process, monthly", {"replicates": R}, run_t,
                     throughput=R / statistics.median(run_t), units="replicates/s", threads=threads,
                     extra={"outside_simulate_s": outside, "outside_simulate_share": outside / statistics.median(run_t),
                            "dataset_mb": ds.nbytes / 1e6, "variables": len(ds.data_vars)}))
        if rng_t:
            self.rng_times = rng_t

    def _rng_counts(self) -> np.ndarray:
        return np.ascontiguousarray(agent_months_per_replicate(self.plan, self.kernel_out), dtype=np.int64)

    def g_headline(self) -> None:
        s = self.sizes
        results = {}
        for every, repeats in zip(("month", "year"), s.headline_repeats):
            res = child("headline", {"scenario": str(self.path), "replicates": s.headline_reps, "every": every,
                                     "repeats": repeats})
            results[every] = res
            med = statistics.median(res["times_s"])
            self.add(Row("headline", f"sim.run(), {s.headline_reps} replicates, every={every}",
                         {"replicates": s.headline_reps, "months": res["months"], "every": every,
                          "process": "fresh, kernel loaded from cache"},
                         res["times_s"], throughput=s.headline_reps / med, units="replicates/s",
                         threads=res["threads"],
                         extra={"peak_rss_mb": res["peak_rss_mb"], "rss_after_warmup_mb": res["rss_after_warmup_mb"],
                                "dataset_mb": res["dataset_mb"], "import_and_load_s": res["import_and_load_s"],
                                "warmup_1_replicate_s": res["warmup_s"]}))
        self.ratio("headline: every=month / every=year time",
                   statistics.median(results["month"]["times_s"]) / statistics.median(results["year"]["times_s"]))

    def g_scaling(self) -> None:
        s = self.sizes
        # replicates
        rows = [self.kernel_rows("scaling", f"replicates {R}", self.plan, R, {"scale": "replicates"},
                                 s.scaling_repeats) for R in s.rep_scaling]
        self.ratio(f"replicates: throughput at {s.rep_scaling[-1]} / at {s.rep_scaling[0]}",
                   rows[-1].throughput / rows[0].throughput, "1.0 = linear in replicates")
        # staff
        by_factor = {}
        for f in s.staff_factors:
            plan = self.plan if f == 1.0 else self.compile_plan(scaled_scenario(self.scenario, f))
            by_factor[f] = self.kernel_rows("scaling", f"staff ×{f:g}", plan, s.staff_reps,
                                            {"scale": "staff, recruitment, intake ×" + f"{f:g}"}, s.scaling_repeats)
        if 1.0 in by_factor:
            for f, r in by_factor.items():
                if f != 1.0:
                    self.ratio(f"staff: throughput at ×{f:g} / at ×1", r.throughput / by_factor[1.0].throughput,
                               "1.0 = linear in staff")
        # threads: interleaved so that machine noise hits both alike
        counts = sorted({1, self.max_threads})
        times = {n: [] for n in counts}
        out = None
        try:
            for _ in range(s.scaling_repeats):
                for n in counts:
                    self.numba.set_num_threads(n)
                    t = time.perf_counter()
                    out = self.simulate(self.plan, s.thread_reps)
                    times[n].append(time.perf_counter() - t)
        finally:
            self.numba.set_num_threads(self.threads)
        am = agent_months(self.plan, out)
        trow = {}
        for n in counts:
            trow[n] = self.add(Row("scaling", f"threads {n}", {"replicates": s.thread_reps, "months": self.plan.months,
                                                               "scale": "numba.set_num_threads"},
                                   times[n], throughput=am / statistics.median(times[n]), units="agent-months/s",
                                   threads=n))
        if len(counts) > 1:
            top = counts[-1]
            speedup = trow[top].throughput / trow[1].throughput
            self.ratio(f"threads: speed-up {top} vs 1", speedup, f"parallel efficiency {speedup / top:.0%}")
        else:
            self.ratio("threads: speed-up", None, f"only {self.max_threads} thread available")
        # horizon: the kernel draws each agent's next event when it joins, so cost is not per month
        for y in s.horizon_years:
            years = y or self.scenario.years
            plan = truncated_plan(self.plan, years * 12)
            self.kernel_rows("scaling", f"horizon {years} years", plan, s.horizon_reps,
                             {"scale": "first years of the plan"}, s.scaling_repeats)

    def g_rng(self) -> None:
        R = self.sizes.kernel_reps
        if self.kernel_out is None:
            self.kernel_out = self.simulate(self.plan, R)
        counts = self._rng_counts()
        states = stream_states(self.seed, range(R))
        draws = int(counts.sum())
        if self.rng_times is None:             # the kernel group did not run: time both here, interleaved
            k_t, rng_t = [], []
            for _ in range(self.sizes.repeats):
                k_t += timed(lambda: self.simulate(self.plan, R), 1)[0]
                rng_t += timed(lambda: rng_ceiling(states, counts), 1)[0]
            kernel = draws / statistics.median(k_t)
        else:
            rng_t, kernel = self.rng_times, self.kernel_row.throughput
        row = self.add(Row("rng", "RNG ceiling: 1 xoshiro uniform per agent-month", {
            "replicates": R, "draws": draws, "loop": "prange over replicates, sum of uniforms"},
            rng_t, throughput=draws / statistics.median(rng_t), units="draws/s", threads=self.numba.get_num_threads(),
            extra={"kernel_agent_months_per_s": kernel}))
        self.ratio("kernel agent-months/s ÷ RNG-ceiling draws/s", kernel / row.throughput,
                   "> 1: the kernel beats one draw per agent-month (it draws per event, not per month)")

    def g_agents(self) -> None:
        from sim.engines import simulator

        s = self.sizes
        params = {"replicates": s.agents_reps, "years": s.agents_years or self.scenario.years}
        try:
            sim_agents = simulator("agents")
        except NotImplementedError as e:
            self.add(Row("agents", "agents engine, default ICS", params, skipped=f"not built: {e}"))
            self.ratio("kernel ÷ agents engine, 1 thread each", None, "agents engine not built")
            return
        plan = self.plan if s.agents_years is None else truncated_plan(self.plan, 12 * s.agents_years)
        sim_agents(truncated_plan(tiny_plan(self.scenario), 1), range(1), self.seed)   # warm-up: imports
        a_t, k_t, out, k_out = [], [], None, None
        k_reps = s.agents_kernel_reps
        try:                                   # the kernel on one thread, interleaved, for the ratio
            self.numba.set_num_threads(1)
            for _ in range(s.agents_repeats):
                t, out = timed(lambda: sim_agents(plan, range(s.agents_reps), self.seed), 1)
                a_t += t
                t, k_out = timed(lambda: self.simulate(plan, k_reps), 1)
                k_t += t
        finally:
            self.numba.set_num_threads(self.threads)
        am = agent_months(plan, out)
        k_am = agent_months(plan, k_out)
        row = self.add(Row("agents", "agents engine, default ICS", {**params, "months": plan.months}, a_t,
                           throughput=am / statistics.median(a_t), units="agent-months/s", threads=1,
                           extra={"agent_months": am, "threads_assumed": 1,
                                  "kernel_1_thread_s": statistics.median(k_t), "kernel_replicates": k_reps,
                                  "kernel_agent_months": k_am}))
        k_rate = k_am / statistics.median(k_t)
        self.ratio("kernel ÷ agents engine, 1 thread each", k_rate / row.throughput,
                   f"agent-months/s on one core, same plan: kernel {k_rate:.3g} ({k_reps} replicates in "
                   f"{statistics.median(k_t):.3g} s) vs agents {row.throughput:.3g} ({s.agents_reps} in "
                   f"{row.median_s:.3g} s)")

    def g_cells(self) -> None:
        """Characteristics and bands: the kernel's time with them (configs/variants/ics_groups_bands.yaml merged
        onto the scenario; the default ICS has these already) ÷ without any (the scenario with both sections
        removed), alternating repeat by repeat on the same replicates; and the peak memory of ``sim.run`` of
        ``headline_reps`` replicates (monthly) of each, in fresh processes."""
        import yaml

        from .common import scaled_dict, with_overlay, without_cells

        s, R = self.sizes, self.sizes.kernel_reps
        cells = self.compile_plan(with_overlay(self.scenario))
        plain = self.compile_plan(without_cells(self.scenario))
        self.simulate(cells, 2)                                       # (the same compiled kernel)
        plain_t, cells_t = [], []
        for _ in range(s.repeats):
            plain_t += timed(lambda: self.simulate(plain, R), 1)[0]
            cells_t += timed(lambda: self.simulate(cells, R), 1)[0]
        params = {"replicates": R, "months": self.plan.months}
        self.add(Row("cells", "kernel simulate(), default ICS without characteristics and bands", params, plain_t,
                     units="s",
                     threads=self.numba.get_num_threads()))
        self.add(Row("cells", "kernel simulate(), default ICS + characteristics and bands",
                     {**params, "cells": f"{len(cells.bands)} bands × {len(cells.groups)} groups"}, cells_t, units="s",
                     threads=self.numba.get_num_threads()))
        ratio = statistics.median(cells_t) / statistics.median(plain_t)
        self.ratio("cells: kernel time with ÷ without characteristics and bands", ratio,
                   f"median of {s.repeats}, alternating: {statistics.median(cells_t):.3g} s vs "
                   f"{statistics.median(plain_t):.3g} s for {R} replicates (goal ≤ 2)")
        with tempfile.TemporaryDirectory(prefix="wfsim-cells-") as d:
            paths = {"without": Path(d) / "without.yaml", "with": Path(d) / "with.yaml"}
            for label, scenario in (("without", without_cells(self.scenario)), ("with", with_overlay(self.scenario))):
                paths[label].write_text(yaml.safe_dump(scaled_dict(scenario), sort_keys=False), encoding="utf-8")
            peaks = {}
            for label, scenario in paths.items():
                res = child("headline", {"scenario": str(scenario), "replicates": s.headline_reps, "every": "month",
                                         "repeats": 1})
                peaks[label] = res["peak_rss_mb"]
                self.add(Row("cells", f"sim.run(), {s.headline_reps} replicates, monthly, {label} cells",
                             {"replicates": s.headline_reps, "process": "fresh"}, res["times_s"], units="s",
                             threads=res["threads"], extra={"peak_rss_mb": res["peak_rss_mb"],
                                                            "dataset_mb": res["dataset_mb"]}))
        self.ratio("cells: peak memory of sim.run with ÷ without", peaks["with"] / peaks["without"],
                   f"{peaks['with']:.0f} MB vs {peaks['without']:.0f} MB, {s.headline_reps} replicates monthly")

    # -- goals --------------------------------------------------------------------------------------
    def goals(self) -> list[dict]:
        out = []
        k = self.kernel_row
        one = next((r for r in self.rows if r.what == "threads 1" and r.times_s), None)
        out.append({"goal": f"kernel ≥ {GOAL_PER_CORE:.0e} agent-months/s/core",
                    "value": k.per_core if k else None, "met": (k.per_core >= GOAL_PER_CORE) if k else None,
                    "note": f"all threads ÷ {k.threads}" + (f"; on 1 thread: {one.throughput:.3g}" if one else "")
                    if k else ""})
        head = next((r for r in self.rows if r.group == "headline" and r.parameters.get("every") == "month"
                     and r.times_s), None)
        full = head is not None and head.parameters["replicates"] == 1000
        if head is None:
            note = ""
        elif full:
            note = f"median of {len(head.times_s)}; best {head.best_s:.3g} s"
        else:
            note = (f"not measured (ran {head.parameters['replicates']} replicates; "
                    f"≈{head.median_s * 1000 / head.parameters['replicates']:.3g} s scaled linearly)")
        out.append({"goal": f"1,000 replicates × {self.scenario.years} years < {GOAL_HEADLINE_S:.0f} s",
                    "value": head.median_s if head else None,
                    "met": (head.median_s < GOAL_HEADLINE_S) if full else None, "note": note})
        peak = max((r.extra["peak_rss_mb"] for r in self.rows if "peak_rss_mb" in r.extra), default=None)
        out.append({"goal": f"peak memory < {GOAL_PEAK_MB:.0f} MB", "value": peak,
                    "met": (peak < GOAL_PEAK_MB) if (peak is not None and full) else None,
                    "note": "" if full or peak is None else "quick run: not at full size"})
        return out


def _loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return None


def _params(p: dict) -> str:
    return escape(", ".join(f"{k}={v}" for k, v in p.items()))


def _num(x, digits: int = 3) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}g}"


def render(console: Console, suite: Suite, meta: dict, goals: list[dict]) -> None:
    t = Table(title=f"wfsim benchmarks — {meta['scenario']}" + (" (quick)" if meta["quick"] else ""),
              show_lines=False, header_style="bold")
    for col, kw in (("group", {}), ("what", {}), ("parameters", {"overflow": "fold", "max_width": 48}),
                    ("median s", {"justify": "right"}), ("best s", {"justify": "right"}),
                    ("throughput", {"justify": "right"}),
                    ("per core", {"justify": "right"}), ("units", {}), ("n", {"justify": "right"})):
        t.add_column(col, **kw)
    for r in suite.rows:
        if r.error or r.skipped:
            t.add_row(r.group, r.what, ", ".join(filter(None, [_params(r.parameters), escape(r.error or r.skipped)])),
                      "[red]error[/]" if r.error else "[yellow]skipped[/]", "", "", "", "", "0")
            continue
        extra = ""
        if "peak_rss_mb" in r.extra:
            extra = f", peak RSS={r.extra['peak_rss_mb']:.0f} MB"
        if "import_sim_s" in r.extra:
            extra = f", import sim={r.extra['import_sim_s']:.2g} s, tiny run={r.extra['tiny_run_s']:.2g} s"
        if "outside_simulate_s" in r.extra:
            extra = (f", outside simulate()={r.extra['outside_simulate_s']:.2g} s "
                     f"({r.extra['outside_simulate_share']:.0%})")
        if "warning" in r.extra:
            extra += f" [yellow]({r.extra['warning']})[/]"
        t.add_row(r.group, r.what, _params(r.parameters) + extra, _num(r.median_s), _num(r.best_s), _num(r.throughput),
                  _num(r.per_core), r.units, str(len(r.times_s)))
    console.print(t)

    rt = Table(title="ratios (same run)", header_style="bold")
    rt.add_column("what")
    rt.add_column("value", justify="right")
    rt.add_column("detail")
    for x in suite.ratios:
        rt.add_row(x["what"], _num(x["value"]), x["detail"])
    console.print(rt)

    gt = Table(title="goals (benchmarks/README.md; shown, never asserted)", header_style="bold")
    gt.add_column("goal")
    gt.add_column("measured", justify="right")
    gt.add_column("status")
    for g in goals:
        status = "[green]met[/]" if g["met"] else "[red]missed[/]" if g["met"] is False else "[dim]n/a[/]"
        gt.add_row(g["goal"], _num(g["value"]), status + (f" — {g['note']}" if g["note"] else ""))
    console.print(gt)
    console.print(f"{meta['numba_threads']} numba threads on {meta['cpu_count']} CPUs; 1-minute load average "
                  f"{_num(meta['loadavg_1min_start'], 2)} at the start, {_num(meta['loadavg_1min_end'], 2)} at the end "
                  f"(above the CPU count means other work competed for the cores); total {meta['total_s']:.0f} s",
                  highlight=False)
    if meta.get("note"):
        console.print(f"[yellow]note:[/] {escape(meta['note'])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes and repeats (< ~1 minute): a smoke test")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out", help="directory for bench.json")
    ap.add_argument("--scenario", type=Path, default=None, help="scenario YAML (default: the baseline ICS)")
    ap.add_argument("--only", default=",".join(GROUPS),
                    help=f"comma-separated groups to run, from {', '.join(GROUPS)} (default: all)")
    args = ap.parse_args(argv)
    # sim.run's provenance dumps year tables through pydantic, which warns about int keys each time
    warnings.filterwarnings("ignore", category=UserWarning, module=r"pydantic(\..*)?")
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        ap.error(f"unknown group(s) {', '.join(unknown)}; allowed: {', '.join(GROUPS)}")

    console = Console(width=None if sys.stdout.isatty() else 160)
    log = Console(stderr=True, soft_wrap=True)
    if args.scenario is not None:
        path, note = args.scenario.resolve(), ""
    else:
        path, note = default_scenario()
    if note:
        log.print(f"[yellow]note:[/] {note}")
    sizes = QUICK if args.quick else FULL
    started = time.time()
    t0 = time.perf_counter()
    suite = Suite(sizes, path, note, console, log, groups)
    log.print(f"wfsim benchmarks: {path.name}, {suite.threads} numba threads, "
              f"{os.cpu_count()} CPUs{' (quick)' if args.quick else ''}")
    load_start = _loadavg()
    warm = suite.warm_up()
    log.print(f"  warm-up in this process (default numba cache): {warm:.3g} s")

    failed = 0
    for g in GROUPS:                        # fixed order: the RNG ceiling reuses the kernel row's output
        if g not in groups:
            continue
        log.print(f"[bold]{g}[/]")
        try:
            getattr(suite, f"g_{g}")()
        except Exception as e:  # one broken group must not lose the others
            failed += 1
            traceback.print_exc()
            suite.add(Row(g, f"{g} (failed)", {}, error=f"{type(e).__name__}: {e}"))

    import numba
    meta = {"scenario": str(path.relative_to(REPO) if path.is_relative_to(REPO) else path), "note": note,
            "quick": args.quick, "groups": groups, "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "total_s": time.perf_counter() - t0, "warmup_in_process_s": warm,
            "loadavg_1min_start": load_start, "loadavg_1min_end": _loadavg(),
            "numba_threads": suite.threads, "cpu_count": os.cpu_count(), "numba": numba.__version__,
            "numpy": np.__version__, "python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "processor": platform.processor(),
            "sizes": sizes.__dict__}
    goals = suite.goals()
    render(console, suite, meta, goals)
    args.out.mkdir(parents=True, exist_ok=True)
    dest = args.out / "bench.json"
    dest.write_text(json.dumps({"meta": meta, "rows": [r.to_json() for r in suite.rows], "ratios": suite.ratios,
                                "goals": goals}, indent=2, default=str) + "\n")
    log.print(f"wrote {dest} in {meta['total_s']:.0f} s total")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
