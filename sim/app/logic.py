"""What the web app does, as plain functions (no Streamlit): find scenarios and action plans, turn the
page's choices into an experiment (the scenario as it is against the scenario with the chosen levers),
run it into a results folder, and list the folders there to browse.

A run of the app *is* a small experiment (``sim.experiments``): the same zarr store, manifest and
``comparison.csv`` as ``wfsim experiment``, so its paired comparison, report and figures are the
experiment layer's own, and ``wfsim report`` or ``wfsim plot`` work on it too. Its folder is named after
the experiment's fingerprint, so running the same choices again reuses the stored results.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import load_scenario
from ..experiments import MANIFEST, STORE, comparison, load_experiment, open_experiment, run_experiment
from ..scenario import ScenarioError, shipped
from ..vocabulary import DEFAULT_SCENARIO

RESULTS = Path("results")                      # as the CLI: results/ under the working folder
APP_RUNS = "app"                               # the app's runs go to results/app/<scenario>-<fingerprint>/
BASELINE, WITH_LEVERS = "baseline", "with_levers"
EVERY = ("year", "quarter", "month")


def shipped_scenarios() -> dict[str, Path]:
    """Label → file of the scenarios that come with wfsim: the embedded default ICS, the region, the
    reference example and the small closed-form (analytic) configs."""
    return {"default: illustrative ICS of 1.5m people (embedded)": DEFAULT_SCENARIO, **shipped.scenarios()}


def shipped_plans() -> dict[str, Path]:
    """Name → file of the shipped action plans (portfolios of levers for the default ICS)."""
    return shipped.action_plans()


def example_files() -> list[Path]:
    """Shipped files with lever configurations, whose values start the lever forms."""
    return list(shipped.action_plans().values()) + list(shipped.experiments().values())


def save_upload(name: str, data: bytes, root: Path = RESULTS) -> Path:
    """Keep an uploaded scenario under results/app/uploads/<hash>/ (so runs of it can be reopened)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name).strip("._") or "scenario"
    if not safe.endswith((".yaml", ".yml")):
        safe += ".yaml"
    folder = root / APP_RUNS / "uploads" / hashlib.sha256(data).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / safe).is_file():          # the page reruns on every click: write once
        (folder / safe).write_bytes(data)
    return folder / safe


def read_scenario(path: Path):
    """The validated scenario, or ScenarioError whose ``lines()`` are what ``wfsim validate`` prints."""
    return load_scenario(Path(path))


def months(scenario) -> list[str]:
    """Every month of the scenario's horizon, YYYY-MM."""
    y, m = map(int, scenario.start.split("-"))
    out = []
    for i in range(12 * scenario.years):
        yy, mm = divmod(m - 1 + i, 12)
        out.append(f"{y + yy}-{mm + 1:02d}")
    return out


def geography(scenario) -> dict[str, list[str]]:
    """The names a lever's ``where`` may use, by level: the regions, their ICSs, places and the providers a
    place lists (a place's implicit provider has its name, so it is the place)."""
    names = scenario.geography.names()
    places = set(names["place"])
    return {"region": names["region"], "ics": names["ics"], "place": names["place"],
            "provider": [n for n in names["provider"] if n not in places]}


def unique_ids(levers: list[dict], scenario) -> list[dict]:
    """The app names each lever after itself; where the scenario's plan already uses that id, add a
    suffix so results keep one lever coordinate each."""
    taken = {lv.id or lv.lever for lv in scenario.levers}
    out = []
    for lv in levers:
        lid, n = lv["id"], 2
        while lid in taken:
            lid, n = f"{lv['id']}_{n}", n + 1
        taken.add(lid)
        out.append({**lv, "id": lid})
    return out


def experiment_spec(scenario_path: Path, scenario, *, levers: list[dict], plans: list[Path], replicates: int,
                    seed: int, years: int, every: str) -> dict:
    """The page's choices as an experiment file would write them: the baseline (the scenario as it is)
    and, when any lever or action plan is chosen, ``with_levers``, paired replicate by replicate."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"app-{scenario.name}").strip("-")
    variants = {BASELINE: {"description": "the scenario as it is"}}
    chosen = [lv["id"] for lv in levers] + [Path(p).stem for p in plans]
    if chosen:
        variants[WITH_LEVERS] = {"description": "with " + ", ".join(chosen),
                                 "levers": levers, "plans": [str(Path(p).resolve()) for p in plans]}
    return {"name": name, "question": f"What do {', '.join(chosen) or 'no levers'} do to the gap between supply "
                                      f"and demand of {scenario.name}, with what certainty, at what cost?",
            "scenario": str(Path(scenario_path).resolve()), "replicates": int(replicates), "seed": int(seed),
            "years": int(years), "every": every, "block": block_size(int(replicates)), "variants": variants}


def block_size(replicates: int) -> int:
    """Replicates per block: about ten blocks a run, so progress moves in tenths (results do not
    depend on it: replicate r always uses the random streams of (seed, r))."""
    return max(10, -(-replicates // 10))


def prepare(spec: dict, root: Path = RESULTS):
    """(experiment, its folder): validated as ``wfsim experiment`` would (ScenarioError otherwise)."""
    exp = load_experiment(spec)
    return exp, Path(root) / APP_RUNS / f"{exp.name}-{exp.fingerprint()[:12]}"


def run(exp, folder: Path, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run (or reuse) the experiment in this process and write its comparison.csv, as the CLI does.
    One worker process: the kernel's threads use every core, and the compiled kernel stays warm
    between runs of the app."""
    run_experiment(exp, folder, workers=1, progress=progress)
    table = comparison(open_experiment(folder))
    table.to_csv(folder / "comparison.csv", index=False, float_format="%.6g")
    return table


def list_experiments(root: Path = RESULTS) -> list[Path]:
    """Experiment folders (a results.zarr with its manifest) under ``root``, newest first."""
    root = Path(root)
    if (root / STORE).is_dir():
        return [root]
    found = [p.parent for p in root.glob(f"*/{STORE}")] + [p.parent for p in root.glob(f"{APP_RUNS}/*/{STORE}")]
    found = [p for p in found if (p / MANIFEST).is_file()]
    return sorted(found, key=lambda p: (p / MANIFEST).stat().st_mtime, reverse=True)
