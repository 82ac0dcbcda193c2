"""Measurements that need a fresh process: compile time (cold / from cache) and the headline run's
peak memory. Run by ``benchmarks.run`` as ``python -m benchmarks._child TASK JSON-ARGS``; prints one
line ``BENCH_JSON: {...}``.
"""
from __future__ import annotations

import json
import sys
import time

MARK = "BENCH_JSON: "


def _emit(obj: dict) -> None:
    sys.stdout.write(MARK + json.dumps(obj) + "\n")
    sys.stdout.flush()


def compile_task(scenario: str) -> dict:
    """Time ``import sim`` and the first and second ``simulate`` call on a tiny plan.

    The caller sets NUMBA_CACHE_DIR: empty for a cold compile, already filled for "from cache".
    The first call includes compiling (or loading) the kernel; the second is the tiny run alone.
    """
    t0 = time.perf_counter()
    import sim
    from sim.engines.kernel import simulate

    from .common import tiny_plan

    t_import = time.perf_counter() - t0
    plan = tiny_plan(sim.load_scenario(scenario))
    t1 = time.perf_counter()
    simulate(plan, range(2), 0)
    first = time.perf_counter() - t1
    t2 = time.perf_counter()
    simulate(plan, range(2), 0)
    second = time.perf_counter() - t2
    from sim.engines.kernel.jit import package_stamp

    source = package_stamp()[:12]
    return {"import_s": t_import, "first_call_s": first, "second_call_s": second,
            "tiny_staff": int(plan.init_headcount.sum()), "tiny_months": plan.months, "kernel_source": source}


def headline_task(scenario: str, replicates: int, every: str, repeats: int) -> dict:
    """``sim.run(scenario, replicates=…, every=…)`` end to end, after a 1-replicate warm-up that loads
    the compiled kernel from the on-disk cache; peak RSS of the whole process."""
    t0 = time.perf_counter()
    import numba

    import sim

    from .common import current_rss_mb, peak_rss_mb

    sc = sim.load_scenario(scenario)
    t1 = time.perf_counter()
    sim.run(sc, replicates=1, every=every)
    warm = time.perf_counter() - t1
    rss_warm = current_rss_mb()
    peak_warm = peak_rss_mb()
    times, nbytes = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        ds = sim.run(sc, replicates=replicates, every=every)
        times.append(time.perf_counter() - t)
        nbytes = int(ds.nbytes)
        del ds
    return {"times_s": times, "warmup_s": warm, "import_and_load_s": t1 - t0, "rss_after_warmup_mb": rss_warm,
            "peak_rss_after_warmup_mb": peak_warm, "peak_rss_mb": peak_rss_mb(), "dataset_mb": nbytes / 1e6,
            "threads": numba.get_num_threads(), "months": sc.years * 12}


TASKS = {"compile": compile_task, "headline": headline_task}


def main(argv: list[str]) -> None:
    task, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    _emit(TASKS[task](**args))


if __name__ == "__main__":
    main(sys.argv[1:])
