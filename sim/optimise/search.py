"""The search: optuna proposes plans in batches, worker processes run them, chance constraints judge them.

Why optuna: its TPE sampler handles continuous, whole-number and stepped variables together and takes
constraints (a trial is feasible when every constraint value is ≤ 0), so a chance constraint is a
constraint, not a penalty; the same study runs single-objective or multi-objective (TPE or NSGA-II,
both with constraints); ask-and-tell lets us run each batch in our own worker processes; and its
journal file keeps every finished trial, so an interrupted search resumes where it stopped. pymoo's
algorithms want a whole population per step and have no store to resume from; nevergrad handles noise
well but takes only cheap constraints or penalties.

Noise: every trial runs the same replicates with the same seed (common random numbers), so two plans
differ only by what the plans do, and the search's numbers are a deterministic function of the plan.
The optimiser's luck on those replicates is then removed by re-running the chosen plans on fresh ones
(``evaluate`` in the optimisation file). Chance constraints are judged in the search on the lower end of
a Wilson interval (``search.confidence``), so plans that only just pass on the search's replicates are
not preferred to ones that pass with room to spare.

Reproducible: the sampler is re-seeded at every batch from (seed, trials finished), and a trial's numbers
depend only on its plan, so the same file gives the same trials whatever the number of workers, and a
resumed search continues exactly as an uninterrupted one would.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .. import runs
from ..scenario import ScenarioError
from .measures import Measures, Outcome, combine, outcome
from .problem import Problem, snap, with_plan

JOURNAL = "trials.journal"
TRIALS = "trials.csv"
STUDY = "optimisation"


@dataclass(frozen=True)
class Setting:
    """What a worker needs to judge a plan (picklable)."""
    seed: int
    replicates: int
    years: int
    every: str
    engine: str
    goals: tuple
    spend: str
    discount_rate: float
    to: str
    threads: int | None = None


def setting(problem: Problem, *, seed: int, replicates: int, threads: int | None = None) -> Setting:
    o = problem.spec.objective
    return Setting(seed, replicates, problem.years, problem.every, problem.spec.search.engine, problem.goals,
                   o.spend, o.discount_rate, problem.spend_to, threads)


def simulate(bases: dict[str, dict], levers: list[dict], s: Setting) -> dict[str, Outcome]:
    """A plan's outcomes under each future (a pure function of its arguments: what a worker runs)."""
    if s.threads and s.engine == "kernel":
        import numba

        numba.set_num_threads(min(s.threads, numba.config.NUMBA_NUM_THREADS))
    out = {}
    for future, data in bases.items():
        scenario = runs.load_scenario({**data, "levers": list(data.get("levers", [])) + levers})
        scenario = runs.with_horizon(scenario, s.years)
        ds = runs.run_replicates(scenario, range(s.replicates), s.seed, engine=s.engine, every=s.every)
        out[future] = outcome(ds, s.goals, spend=s.spend, discount_rate=s.discount_rate, to=s.to)
    return out


@dataclass
class SearchResult:
    """Every finished trial (one row each, in the order finished) and the best ones."""
    trials: pd.DataFrame
    best: int | None                    # row of the chosen plan (None: no plan meets the constraints)
    front: list[int] = field(default_factory=list)    # rows on the Pareto frontier (multi-objective)
    points: list[dict] = field(default_factory=list)  # each row's decision values (search units)
    base: dict = field(default_factory=dict)          # the base scenario's outcomes (futures → Outcome)


def fingerprint(problem: Problem) -> str:
    """What must match for a stored search to be resumed."""
    spec = problem.spec.model_dump(mode="json", exclude={"evaluate", "compare", "question", "description"})
    spec["search"].pop("trials")            # more (or fewer) trials continue the same search
    key = {"spec": spec, "bases": problem.bases}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def _study(problem: Problem, out: Path, restart: bool):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    path = out / JOURNAL
    if restart:
        path.unlink(missing_ok=True)
    storage = JournalStorage(JournalFileBackend(str(path)))
    fp = fingerprint(problem)
    names = problem.spec.objective.names
    study = optuna.create_study(storage=storage, study_name=STUDY, load_if_exists=True,
                                directions=["minimize"] * len(names))
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", fp)
    elif stored != fp:
        raise ScenarioError([("--out", f"{out} holds a search of a different optimisation (the file or its scenario "
                                       "changed since it was started); use --restart to discard it, or --out for "
                                       "another folder")], "optimise")
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)      # cut short by an interruption: redone
    return study


def _sampler(problem: Problem, seed: int):
    import optuna

    s = problem.spec.search
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if s.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if s.sampler == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(2 * s.batch, 8))
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                          n_startup_trials=10)


def _suggest(trial, problem: Problem) -> dict:
    point = {}
    for v in problem.variables:
        high = snap(v, v.high)
        if v.kind == "float":
            point[v.name] = trial.suggest_float(v.name, v.low, high, step=v.step)
        else:
            point[v.name] = trial.suggest_int(v.name, int(v.low), int(high), step=int(v.step or 1))
    return point


def _params(problem: Problem, point: dict) -> dict:
    """A point as optuna's parameters (whole numbers and months as int)."""
    return {v.name: (float(point[v.name]) if v.kind == "float" else int(point[v.name])) for v in problem.variables}


def _key(point: dict) -> str:
    return json.dumps({k: round(float(x), 12) for k, x in sorted(point.items())})


def _values(problem: Problem, m: Measures) -> list[float]:
    return [getattr(m, name) for name in problem.spec.objective.names]


def run_search(problem: Problem, out: Path, *, workers: int | None = None, restart: bool = False,
               progress: Callable[[int, int], None] | None = None,
               on_batch: Callable[[int], None] | None = None) -> SearchResult:
    """Run (or resume) the search until ``search.trials`` trials have finished; returns every trial."""
    import optuna

    spec = problem.spec.search
    out = Path(out)
    study = _study(problem, out, restart)
    complete = optuna.trial.TrialState.COMPLETE
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, spec.batch))
    threads = max(1, cores // workers) if workers > 1 else None
    s = setting(problem, seed=spec.seed, replicates=spec.replicates, threads=threads)
    skip = len(problem.spec.constraints) if problem.spec.objective.pareto else 0
    pool = None
    if workers > 1:
        import multiprocessing as mp

        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
    before = _children()
    try:
        base = _run(pool, [(problem.bases, [], s)])[0]
        done = {_key(t.user_attrs["point"]): t.user_attrs["measures"] for t in study.get_trials(states=(complete,))}
        n = len(study.get_trials(states=(complete,)))
        if progress:
            progress(n, spec.trials)
        waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
        if n == 0 and not waiting:
            study.enqueue_trial(_params(problem, problem.written()))
        while n < spec.trials:
            study.sampler = _sampler(problem, spec.seed * 100_003 + n)
            trials = [study.ask() for _ in range(min(spec.batch, spec.trials - n))]
            points = [_suggest(t, problem) for t in trials]
            todo = list(dict.fromkeys(_key(p) for p in points if _key(p) not in done))
            first = {_key(p): p for p in points}
            outcomes = _run(pool, [(problem.bases, problem.plan_levers(first[k]), s) for k in todo])
            for k, o in zip(todo, outcomes):
                done[k] = combine(o, base, problem, confidence=spec.confidence).as_dict()
            for t, p in zip(trials, points):
                m = Measures(**done[_key(p)])
                t.set_user_attr("point", p)
                t.set_user_attr("measures", m.as_dict())
                for i, v in enumerate(m.slack[skip:]):      # multi-objective: the goals are objectives, not
                    t.set_constraint(str(i), v)             # constraints (only a budget binds)
                study.tell(t, _values(problem, m))
            n += len(trials)
            if progress:
                progress(n, spec.trials)
            if on_batch:
                on_batch(n)
    except BaseException:
        if pool is not None:
            for proc in _children() - before:
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    if pool is not None:
        pool.shutdown()
    return collect(problem, study, base)


def _children() -> set:
    import multiprocessing as mp

    return set(mp.active_children())


def _run(pool, jobs: list[tuple]) -> list[dict[str, Outcome]]:
    if pool is None:
        return [simulate(*j) for j in jobs]
    return list(pool.map(_simulate_star, jobs))


def _simulate_star(job: tuple) -> dict[str, Outcome]:
    return simulate(*job)


def collect(problem: Problem, study, base: dict) -> SearchResult:
    """The finished trials as a table, the chosen plan and the Pareto frontier."""
    import optuna

    from .pareto import frontier

    trials = sorted(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)),
                    key=lambda t: t.datetime_complete)
    rows, points = [], []
    names = [f"P({i + 1})" for i in range(len(problem.spec.constraints))]
    for t in trials:
        m = Measures(**t.user_attrs["measures"])
        p = t.user_attrs["point"]
        row = {"trial": t.number, **problem.shown(p), "spend_m": m.spend, "gap": m.gap, "risk": m.risk,
               **dict(zip(names, m.probability)), "feasible": m.feasible}
        for f, v in m.futures.items():
            if len(m.futures) > 1:
                row.update({f"spend_m@{f}": v["spend"], f"gap@{f}": v["gap"]})
                row.update({f"{n}@{f}": x for n, x in zip(names, v["probability"])})
        rows.append(row)
        points.append(p)
    table = pd.DataFrame(rows)
    best, front = None, []
    if len(table):
        objective = problem.spec.objective
        if objective.pareto:
            front = frontier(table, objective.names)
            # the plan written out: the cheapest frontier plan the search judges to meet the constraints
            ok = [i for i in front if table.feasible.iloc[i]]
            best = min(ok, key=lambda i: (table.spend_m.iloc[i], i)) if ok else None
        else:
            feasible = np.flatnonzero(table.feasible.values)
            if len(feasible):
                col = "spend_m" if objective.minimise == "spend" else "gap"
                best = int(min(feasible, key=lambda i: (table[col].iloc[i], i)))
    return SearchResult(table, best, front, points, base)


def write_trials(result: SearchResult, out: Path) -> Path:
    path = Path(out) / TRIALS
    result.trials.to_csv(path, index=False, float_format="%.6g")
    return path


def judge(problem: Problem, levers: list[dict], *, seed: int, replicates: int) -> Measures:
    """One plan's measures on ``replicates`` replicates of ``seed`` (in this process), against the base."""
    s = setting(problem, seed=seed, replicates=replicates)
    for f in problem.futures:
        with_plan(problem, f, levers)                 # a bad plan is bad input, named here
    return combine(simulate(problem.bases, levers, s), simulate(problem.bases, [], s), problem,
                   confidence=problem.spec.search.confidence)
