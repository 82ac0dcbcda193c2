"""Experiment runner benchmark: peak memory and time against the number of runs ("memory is
bounded", a goal in benchmarks/README.md; the runner's peak memory must not grow with the number of variants).

Each row runs `wfsim experiment` in a fresh process on the default ICS with monthly output (the
largest blocks), 1 worker process (so the driver is the only process and its peak RSS is the whole
runner's), and reads the process's peak resident memory from the kernel's accounting (ru_maxrss).

    python -m benchmarks.experiments [--runs 2,4,8] [--replicates 100] [--block 50]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def experiment(n_runs: int, replicates: int, block: int) -> dict:
    variants = {"baseline": {}}
    for i in range(1, n_runs):               # n−1 different retention strengths: distinct runs, same layout
        variants[f"retention_{i}"] = {"levers": [{"lever": "retention", "id": f"r{i}", "profession": "registered_nurse",
                                                  "leave_rate_multiplier": round(1 - 0.02 * i, 3)}]}
    return {"name": f"bench_{n_runs}", "question": "runner memory against the number of runs",
            "scenario": "default", "replicates": replicates, "seed": 1, "years": 10, "every": "month",
            "block": block, "variants": variants}


def measure(n_runs: int, replicates: int, block: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exp.yaml"
        path.write_text(yaml.safe_dump(experiment(n_runs, replicates, block)))
        code = ("import resource, sys; from sim.cli import main; sys.argv = ['wfsim', 'experiment', sys.argv[1], "
                "'--out', sys.argv[2], '--workers', '1', '-q']\n"
                "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
                "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code, str(path), str(Path(tmp) / "out")], cwd=REPO,
                             capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - t
        rss_kb = int(next(l for l in out.stdout.splitlines() if l.startswith("MAXRSS")).split()[1])
        store = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*") if f.is_file())
    return {"runs": n_runs, "replicates": replicates, "block": block, "peak_rss_mb": rss_kb / 1024,
            "seconds": seconds, "store_mb": store / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="2,4,8")
    ap.add_argument("--replicates", type=int, default=100)
    ap.add_argument("--block", type=int, default=50)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    a = ap.parse_args()
    rows = [measure(int(n), a.replicates, a.block) for n in a.runs.split(",")]
    print(f"experiment runner, default ICS, 10 years monthly output, {a.replicates} replicates per run, blocks of "
          f"{a.block}, 1 worker process")
    print(f"{'runs':>5} {'peak RSS MB':>12} {'time s':>8} {'store MB':>9} {'RSS / first':>12}")
    for r in rows:
        print(f"{r['runs']:>5} {r['peak_rss_mb']:>12.0f} {r['seconds']:>8.1f} {r['store_mb']:>9.1f} "
              f"{r['peak_rss_mb'] / rows[0]['peak_rss_mb']:>12.2f}")
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "experiments.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
