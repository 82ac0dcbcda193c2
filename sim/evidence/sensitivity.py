"""Global sensitivity analysis: which uncertain inputs drive an output (SALib's Morris and Sobol methods).

A sensitivity file::

    name: nurse_gap_drivers
    scenario: ../configs/baseline_ics.yaml     # relative to this file, or 'default'
    method: sobol                              # or morris
    samples: 256                               # Sobol: base sample N (N × (inputs + 2) runs); Morris: trajectories
    engine: kernel                             # or expected (the mean field, no replicates)
    replicates: 50                             # Monte Carlo replicates per run (kernel)
    seed: 1
    screen: {trajectories: 20, keep: 4}        # optional: Morris on the mean field first; Sobol on the kept inputs
    inputs:
      professions.registered_nurse.leave_rate: {low: 0.07, high: 0.11}
      professions.registered_nurse.recruitment.international: {low: 0.5, high: 1.5, scale: true}
    outputs:
      - {metric: gap_share, profession: registered_nurse, at: 2031-03}
      - {metric: spend, at: 2031-03}

Every Monte Carlo run uses the same seed, so replicate r of every design point uses the random streams
keyed by (seed, r): common random numbers, and differences between design points are the inputs' doing.
"""
from __future__ import annotations

from ..vocabulary import package_version

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Callable, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field, model_validator

from .. import runs
from ..scenario import ScenarioError
from ..scenario import scenario_sha256

from .design import (Distribution, Model, apply, check_paths, check_ranges, load_study, scenario_at, unit_of)
from .outputs import Output, evaluate, last_month, output_problems

Progress = Callable[[int, int, str], None]


class Screen(Model):
    """Morris screening on the mean field before the Monte Carlo Sobol analysis."""
    trajectories: Annotated[int, Field(ge=2, le=10_000, strict=True)] = 20
    levels: Annotated[int, Field(ge=2, le=20, strict=True)] = 4
    keep: Annotated[int, Field(ge=1, strict=True)] = 5


class SensitivitySpec(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="used for the output folder")
    description: str = ""
    scenario: str = "default"
    method: Literal["sobol", "morris"] = "sobol"
    samples: Annotated[int, Field(ge=2, le=1_000_000, strict=True)] = 256
    levels: Annotated[int, Field(ge=2, le=20, strict=True)] = 4
    engine: Literal["kernel", "expected"] = "kernel"
    replicates: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 50
    seed: Annotated[int, Field(ge=0, strict=True)] = 0
    conf_level: Annotated[float, Field(gt=0, lt=1)] = 0.95
    resamples: Annotated[int, Field(ge=10, le=100_000, strict=True)] = 200
    screen: Screen | None = None
    inputs: dict[str, Distribution] = Field(min_length=1)
    outputs: list[Output] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self):
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples: Sobol sequences need a power of 2 (e.g. 128, 256, 512); got {self.samples}")
        if self.screen is not None and self.method != "sobol":
            raise ValueError("screen: screening is a first stage before a Sobol analysis (method: sobol)")
        if self.screen is not None and all(o.metric == "goal" for o in self.outputs):
            raise ValueError("screen: the mean field gives no goal probabilities; add an output that is not a goal")
        return self


@dataclass(frozen=True)
class Sensitivity:
    spec: SensitivitySpec
    path: Path | None
    scenario: object
    data: dict


@dataclass
class SensitivityResult:
    table: pd.DataFrame          # tidy: one row per stage, output, input and statistic (S1, ST, mu_star, …)
    dataset: xr.Dataset          # the same indices as arrays (output × input)
    design: pd.DataFrame         # every run: stage, input values, output values


def load_sensitivity(source) -> Sensitivity:
    """Validate a sensitivity file (or dict) against its scenario; ScenarioError lists every problem."""
    label, spec, base, scenario, sdata = load_study(source, SensitivitySpec, "sensitivity")
    problems = output_problems(spec.outputs, scenario)
    if problems:
        raise ScenarioError(problems, label)
    check_paths(sdata, spec.inputs, "inputs", label)
    check_ranges(sdata, spec.inputs, "inputs", label)
    return Sensitivity(spec, Path(source) if isinstance(source, (str, Path)) else None, scenario, sdata)


def evaluate_design(sdata: dict, inputs: dict[str, Distribution], X: np.ndarray, outputs: list[Output], scenario,
                    *, engine: str, replicates: int, seed: int, progress=None) -> np.ndarray:
    """Each output at each design point (rows of ``X``, in the inputs' own units).

    Monte Carlo runs share ``seed``: common random numbers across the design.
    """
    years = math.ceil((last_month(outputs, scenario) + 1) / 12)
    Y = np.empty((len(X), len(outputs)))
    for i, x in enumerate(X):
        try:
            point = scenario_at(sdata, inputs, x, name=scenario.name)
        except ScenarioError as e:
            where = ", ".join(f"{p} = {v:g}" for p, v in zip(inputs, x))
            raise ScenarioError([(f"inputs ({where})", f"{p}: {m}") for p, m in e.problems], "sensitivity") from None
        ds = runs.expected(point, years=years) if engine == "expected" else \
            runs.run(point, replicates=replicates, seed=seed, years=years)
        Y[i] = evaluate(ds, outputs, point)
        if progress:
            progress(i + 1, len(X))
    return Y


def _problem(names: list[str]) -> dict:
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def _to_values(inputs: dict[str, Distribution], U: np.ndarray) -> np.ndarray:
    """Unit-cube points to the inputs' own units (each through its distribution's quantile function)."""
    return np.column_stack([d.ppf(U[:, j]) for j, d in enumerate(inputs.values())])


def _seed(seed: int, k: int) -> int:
    """A non-zero seed for SALib derived from the file's (SALib treats 0 as 'no seed')."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0]) + 1


def morris(problem_inputs: dict[str, Distribution], outputs, run, *, trajectories: int, levels: int, seed: int,
           conf_level: float, resamples: int, progress=None):
    """Morris elementary effects on the unit scale (μ*: mean absolute change in the output for a move
    across the input's whole range), and the design."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = _problem(list(problem_inputs))
    U = sample.sample(problem, trajectories, num_levels=levels, seed=_seed(seed, 1))
    X = _to_values(problem_inputs, U)
    Y = run(X, progress)
    stats = {}
    for j, o in enumerate(outputs):
        r = analyze.analyze(problem, U, Y[:, j], num_resamples=resamples, conf_level=conf_level,
                            num_levels=levels, seed=_seed(seed, 2))
        stats[o.label] = {k: np.asarray(r[k], float) for k in ("mu", "mu_star", "sigma", "mu_star_conf")}
    return stats, X, Y


def sobol(problem_inputs: dict[str, Distribution], outputs, run, *, samples: int, seed: int, conf_level: float,
          resamples: int, progress=None):
    """Sobol first-order and total indices (Saltelli sampling, bootstrap confidence intervals)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = _problem(list(problem_inputs))
    U = sample.sample(problem, samples, calc_second_order=False, scramble=True, seed=_seed(seed, 3))
    X = _to_values(problem_inputs, U)
    Y = run(X, progress)
    stats = {}
    for j, o in enumerate(outputs):
        if np.ptp(Y[:, j]) == 0:            # the output does not move: no variance to share out
            nan = np.full(len(problem_inputs), np.nan)
            stats[o.label] = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
            continue
        r = analyze.analyze(problem, Y[:, j], calc_second_order=False, num_resamples=resamples,
                            conf_level=conf_level, seed=_seed(seed, 4))
        stats[o.label] = {k: np.asarray(r[k], float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    return stats, X, Y


def kept_inputs(stats: dict, names: list[str], keep: int) -> list[str]:
    """The ``keep`` inputs with the largest μ* relative to the largest of each output (best over outputs)."""
    score = np.zeros(len(names))
    for s in stats.values():
        top = np.nanmax(s["mu_star"]) if np.any(s["mu_star"] > 0) else 1.0
        score = np.maximum(score, np.nan_to_num(s["mu_star"] / top))
    order = sorted(range(len(names)), key=lambda i: (-score[i], i))
    return [names[i] for i in sorted(order[:keep])]


def run_sensitivity(sa: Sensitivity, progress: Progress | None = None) -> SensitivityResult:
    """Screen (optionally) and analyse; the tidy table, the dataset and the design of every run."""
    spec, inputs = sa.spec, dict(sa.spec.inputs)
    stage_rows, design_parts = [], []

    def runner(data, ins, outs, engine):
        def run(X, prog):
            return evaluate_design(data, ins, X, outs, sa.scenario, engine=engine, replicates=spec.replicates,
                                   seed=spec.seed, progress=prog)
        return run

    def step(stage):
        return (lambda done, total: progress(done, total, stage)) if progress else None

    data = sa.data
    if spec.screen is not None:
        outs = [o for o in spec.outputs if o.metric != "goal"]
        stats, X, Y = morris(inputs, outs, runner(data, inputs, outs, "expected"),
                             trajectories=spec.screen.trajectories, levels=spec.screen.levels, seed=spec.seed,
                             conf_level=spec.conf_level, resamples=spec.resamples, progress=step("screen"))
        stage_rows.append(("screen", "morris", "expected", list(inputs), outs, stats))
        design_parts.append(_design("screen", inputs, outs, X, Y))
        keep = kept_inputs(stats, list(inputs), spec.screen.keep)
        held = {p: d for p, d in inputs.items() if p not in keep}
        data = apply(data, held, [d.ppf(0.5) for d in held.values()])    # dropped inputs at their medians
        inputs = {p: inputs[p] for p in keep}
    run = runner(data, inputs, spec.outputs, spec.engine)
    if spec.method == "morris":
        stats, X, Y = morris(inputs, spec.outputs, run, trajectories=spec.samples, levels=spec.levels, seed=spec.seed,
                             conf_level=spec.conf_level, resamples=spec.resamples, progress=step("main"))
    else:
        stats, X, Y = sobol(inputs, spec.outputs, run, samples=spec.samples, seed=spec.seed,
                            conf_level=spec.conf_level, resamples=spec.resamples, progress=step("main"))
    stage_rows.append(("main", spec.method, spec.engine, list(inputs), spec.outputs, stats))
    design_parts.append(_design("main", inputs, spec.outputs, X, Y))
    table = _table(stage_rows, spec, sa.spec.inputs)
    return SensitivityResult(table, _dataset(table, sa), pd.concat(design_parts, ignore_index=True))


def _design(stage, inputs, outputs, X, Y) -> pd.DataFrame:
    df = pd.DataFrame(X, columns=list(inputs))
    for j, o in enumerate(outputs):
        df[o.label] = Y[:, j]
    df.insert(0, "stage", stage)
    return df


INDEX_MEANING = {"S1": "first-order Sobol index (share of output variance)",
                 "ST": "total Sobol index (share of output variance, interactions included)",
                 "mu_star": "Morris μ*: mean |elementary effect| (output units over the input's whole range)",
                 "mu": "Morris μ: mean elementary effect (output units over the input's whole range)",
                 "sigma": "Morris σ: spread of elementary effects (output units; interactions, non-linearity)"}


def _table(stages, spec: SensitivitySpec, all_inputs: dict[str, Distribution]) -> pd.DataFrame:
    rows = []
    for stage, method, engine, names, outs, stats in stages:
        runs = "mean field" if engine == "expected" else f"kernel × {spec.replicates} replicates"
        for o in outs:
            s = stats[o.label]
            for index in ("S1", "ST") if method == "sobol" else ("mu_star", "mu", "sigma"):
                conf = s.get(f"{index}_conf")
                for i, name in enumerate(names):
                    rows.append({"stage": stage, "method": method, "runs": runs, "output": o.label,
                                 "output_units": o.units, "input": name,
                                 "input_units": unit_of(name, all_inputs[name]), "statistic": index,
                                 "value": s[index][i], "conf": np.nan if conf is None else conf[i],
                                 "conf_level": spec.conf_level})
    return pd.DataFrame(rows)


def _dataset(table: pd.DataFrame, sa: Sensitivity) -> xr.Dataset:
    spec = sa.spec
    outputs = [o.label for o in spec.outputs]
    names = list(spec.inputs)
    data = {}
    for (stage, index), rows in table.groupby(["stage", "statistic"], sort=False):
        for col, suffix in (("value", ""), ("conf", "_conf")):
            if col == "conf" and rows["conf"].isna().all():
                continue
            a = np.full((len(outputs), len(names)), np.nan)
            for _, r in rows.iterrows():
                a[outputs.index(r.output), names.index(r.input)] = r[col]
            key = f"{index}{suffix}" if stage == "main" else f"screen_{index}{suffix}"
            meaning = INDEX_MEANING[index] + (f", ±half-width of its {spec.conf_level:.0%} bootstrap interval"
                                              if suffix else "")
            units = "share of variance" if index in ("S1", "ST") else "output units"
            data[key] = (("output", "input"), a, {"description": meaning, "units": units})
    coords = {"output": outputs, "input": names,
              "output_units": ("output", [o.units for o in spec.outputs]),
              "input_units": ("input", [unit_of(p, d) for p, d in spec.inputs.items()]),
              "input_distribution": ("input", [d.describe() for d in spec.inputs.values()])}
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({
        "sensitivity_name": spec.name, "method": spec.method, "engine": spec.engine,
        "replicates": spec.replicates if spec.engine == "kernel" else 0, "samples": spec.samples,
        "seed": spec.seed, "screen": json.dumps(spec.screen.model_dump() if spec.screen else None),
        "conf_level": spec.conf_level, "scenario_name": sa.scenario.name,
        "scenario_sha256": scenario_sha256(sa.scenario), "spec": json.dumps(spec.model_dump(mode="json")),
        "sensitivity_file": str(sa.path or ""), "wfsim_version": package_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "common_random_numbers": "every Monte Carlo run uses the same seed: replicate r uses streams keyed by "
                                 "(seed, r) at every design point",
    })
    return ds


RESULT = "sensitivity.nc"


def write_sensitivity(result: SensitivityResult, folder: Path) -> list[Path]:
    """Write the table (CSV), the dataset (netCDF), every run (CSV) and the figure (PNG)."""
    from .plots import sensitivity_figure

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "sensitivity.csv", folder / RESULT, folder / "design.csv", folder / "sensitivity.png"]
    result.table.to_csv(paths[0], index=False, float_format="%.6g")
    result.dataset.to_netcdf(paths[1], engine="h5netcdf")
    result.design.to_csv(paths[2], index=False, float_format="%.8g")
    fig = sensitivity_figure(result.dataset)
    fig.savefig(paths[3], dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return paths
