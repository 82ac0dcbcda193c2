"""The agents engine against the kernel on the same scenario: agent-months per second and their ratio.

``python -m benchmarks.agents [--quick]`` prints the rows; ``agent_rows(quick)`` returns them as dicts
(what, params, median_s, throughput, units, repeats, plus per_core, threads, agent_months).

Both engines run the same compiled plan, in the same process, one after the other: the default ICS
over its 10 years (about 9 million agent-months per replicate; the agents engine takes ~25 s a
replicate), or with ``--quick`` the default ICS ×0.02 over 2 years (headcounts, recruitment flows and
intakes scaled down). An agent-month is one person present in one month (benchmarks/README.md). The agents
engine runs one replicate at a time in-process (1 core); the kernel runs its replicates on all numba
threads, and its per-core figure divides by their number. The ratio compares per-core throughputs.
"""
from __future__ import annotations

import argparse
import statistics
import time

from .common import agent_months, default_scenario, scaled_scenario, truncated_plan

SEED = 20260401
FULL = {"scale": 1.0, "years": 10, "agents_reps": 1, "agents_repeats": 2, "kernel_reps": 40, "kernel_repeats": 5}
QUICK = {"scale": 0.02, "years": 2, "agents_reps": 1, "agents_repeats": 1, "kernel_reps": 50, "kernel_repeats": 2}


def _timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def bench_plan(quick: bool):
    """(plan, description): the default ICS scaled down, over the first years of its horizon."""
    import sim
    from sim.model.compile import compile_plan

    size = QUICK if quick else FULL
    path, note = default_scenario()
    scenario = scaled_scenario(sim.load_scenario(path), size["scale"], name=f"default ICS ×{size['scale']:g}")
    plan = truncated_plan(compile_plan(scenario), 12 * size["years"])
    return plan, f"{path.name} ×{size['scale']:g}, {size['years']} years" + (f" ({note})" if note else "")


def agent_rows(quick: bool) -> list[dict]:
    """Rows: the kernel and the agents engine on the same plan, then the ratio of their per-core speeds."""
    import numba

    from sim.engines.agents import simulate as agents_simulate
    from sim.engines.kernel import simulate as kernel_simulate

    size = QUICK if quick else FULL
    plan, scenario = bench_plan(quick)
    threads = numba.get_num_threads()
    rows = []

    kernel_simulate(plan, range(2), SEED)                               # warm-up: load the compiled kernel
    times, out = _timed(lambda: kernel_simulate(plan, range(size["kernel_reps"]), SEED), size["kernel_repeats"])
    am = agent_months(plan, out)
    med = statistics.median(times)
    kernel = {"what": "kernel simulate()", "params": {"scenario": scenario, "replicates": size["kernel_reps"]},
              "median_s": med, "throughput": am / med, "units": "agent-months/s", "repeats": len(times),
              "per_core": am / med / threads, "threads": threads, "agent_months": am}
    rows.append(kernel)

    times, out = _timed(lambda: agents_simulate(plan, range(size["agents_reps"]), SEED, workers=1),
                        size["agents_repeats"])
    am = agent_months(plan, out)
    med = statistics.median(times)
    agents = {"what": "agents simulate(), 1 process",
              "params": {"scenario": scenario, "replicates": size["agents_reps"], "workers": 1},
              "median_s": med, "throughput": am / med, "units": "agent-months/s", "repeats": len(times),
              "per_core": am / med, "threads": 1, "agent_months": am}
    rows.append(agents)

    if not quick:                                                       # replicates in 2 worker processes
        reps = 2 * size["agents_reps"]
        times, out = _timed(lambda: agents_simulate(plan, range(reps), SEED, workers=2), 1)
        am = agent_months(plan, out)
        rows.append({"what": "agents simulate(), 2 processes",
                     "params": {"scenario": scenario, "replicates": reps, "workers": 2},
                     "median_s": times[0], "throughput": am / times[0], "units": "agent-months/s", "repeats": 1,
                     "per_core": am / times[0] / 2, "threads": 2, "agent_months": am})

    rows.append({"what": "ratio: kernel per core ÷ agents engine per core",
                 "params": {"scenario": scenario, "goal": "kernel ≥ 1,000× faster (issue 5)"},
                 "median_s": None, "throughput": kernel["per_core"] / agents["per_core"], "units": "×",
                 "repeats": min(kernel["repeats"], agents["repeats"])})
    return rows


def print_rows(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="agents engine vs kernel, same plan")
    for col in ("what", "parameters", "median s", "throughput", "per core", "units", "n"):
        t.add_column(col, justify="right" if col in ("median s", "throughput", "per core", "n") else "left")
    for r in rows:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        t.add_row(r["what"], params, "" if r["median_s"] is None else f"{r['median_s']:.3f}",
                  f"{r['throughput']:,.4g}" if r["units"] != "×" else f"{r['throughput']:,.0f}",
                  f"{r['per_core']:,.4g}" if "per_core" in r else "", r["units"], str(r["repeats"]))
    Console(width=160).print(t)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small run for a smoke test")
    print_rows(agent_rows(ap.parse_args(argv).quick))


if __name__ == "__main__":
    main()
