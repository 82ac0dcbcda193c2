"""Golden outputs: a digest of every shipped scenario's, plan's and analytic config's dataset, per engine.

A change meant to keep behaviour (a refactor, a speed-up) must keep every digest; a change of results
is deliberate, says so in its commit, and records the new digests with::

    .venv/bin/python tests/golden.py --update

The digests cover every data variable and coordinate (values, dtype, dims), not the attributes that
name the run (``created``, ``wfsim_version``). The agents engine is slow, so it runs a shorter horizon
(``AGENT_YEARS``) on fewer replicates; the kernel runs each config's full horizon.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).with_name("golden_hashes.json")
DEFAULT = ROOT / "sim" / "data" / "baseline_ics.yaml"
SCENARIOS = [DEFAULT, ROOT / "configs" / "baseline_ics.yaml", ROOT / "configs" / "region.yaml",
             ROOT / "configs" / "examples" / "spec_example.yaml",
             *sorted((ROOT / "configs" / "analytic").glob("*.yaml"))]
PLANS = sorted((ROOT / "configs" / "levers").glob("*.yaml"))
ENGINES = ("kernel", "agents", "expected")
KERNEL_REPLICATES = 3
AGENT_REPLICATES = 2
AGENT_YEARS = 2
SEED = 20261130


def digest(ds) -> str:
    """sha256 over every variable and coordinate of a dataset: name, dims, dtype, shape and bytes."""
    h = hashlib.sha256()
    for name in sorted(ds.variables):
        v = ds.variables[name]
        values = np.asarray(v.values)
        if values.dtype.kind in "OU":
            data = json.dumps([str(x) for x in values.ravel()]).encode()
        else:
            data = np.ascontiguousarray(values).tobytes()
        h.update(f"{name}|{','.join(v.dims)}|{values.dtype.str}|{values.shape}|".encode())
        h.update(data)
    return h.hexdigest()


def cases() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(case id, engine, scenario path, plan paths) for every golden case."""
    out = []
    for path in SCENARIOS:
        for engine in ENGINES:
            out.append((f"{path.relative_to(ROOT)}:{engine}", engine, str(path), ()))
    for plan in PLANS:
        for engine in ENGINES:
            out.append((f"{DEFAULT.relative_to(ROOT)}+{plan.relative_to(ROOT)}:{engine}", engine, str(DEFAULT),
                        (str(plan),)))
    return out


def run_case(engine: str, scenario: str, plans: tuple[str, ...]):
    """The dataset of one golden case (fixed seed and replicates, so the digest depends only on the code)."""
    import sim
    from sim.engines.agents import options

    scn = sim.load_scenario(scenario, plans=plans)
    if engine == "expected":
        return sim.expected(scn)
    if engine == "kernel":
        return sim.run(scn, replicates=KERNEL_REPLICATES, seed=SEED, engine="kernel")
    with options(workers=1):
        return sim.run(scn, replicates=AGENT_REPLICATES, seed=SEED, engine="agents",
                       years=min(AGENT_YEARS, scn.years))


def recorded() -> dict[str, str]:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="write the digests of this code to golden_hashes.json")
    ap.add_argument("--engine", choices=ENGINES, action="append", help="only these engines (default: all)")
    args = ap.parse_args(argv)
    old = recorded() if RECORD.exists() else {}
    new = dict(old)
    changed = 0
    for key, engine, scenario, plans in cases():
        if args.engine and engine not in args.engine:
            continue
        d = digest(run_case(engine, scenario, plans))
        same = old.get(key) == d
        changed += not same
        print(f"{'same   ' if same else 'CHANGED'} {key}", flush=True)
        new[key] = d
    if args.update:
        RECORD.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {RECORD}")
    print(f"{changed} of the cases run differ from the record")
    return 0 if args.update or not changed else 1


if __name__ == "__main__":
    sys.exit(main())
