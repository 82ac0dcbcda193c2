"""What a plan is judged on, replicate by replicate, and how replicates and futures combine.

The same functions judge a plan in the search (a few replicates, the search seed) and on fresh
replicates (the evaluation experiment's store), so the two sets of numbers mean the same thing.

* **extra spend**: the plan's spend minus the base scenario's, replicate by replicate (common random
  numbers), from the start to ``objective.to``, discounted to the start at ``discount_rate`` a year
  (each plan year's spend by (1 + r)^-y, y = 0 for the first); £ million.
* **P(goal)**: the share of replicates meeting a goal (the scenario's goal metrics, ``sim.results.metrics``).
* **gap**: the mean of the gap goal's metric; **risk**: the share of replicates missing at least one
  constrained goal.

Across futures (``robust``): ``mean`` pools them (each equally likely); ``worst`` takes the worst
future for each number (most spend, least probability); ``cvar`` averages the worst ``alpha`` share of
the pooled replicates for spend and gap, and judges a chance constraint P(x ≤ b) ≥ p by the mean of
the worst 1 − p share of x (CVaR ≤ b, a conservative stand-in for the probability: it also asks how far
the misses fall short).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats

from ..results.metrics import goal_value, period_index
from ..vocabulary import step_of


@dataclass
class Outcome:
    """One plan under one future: spend [R] (£) and each goal's metric [goal, R]."""
    spend: np.ndarray
    values: np.ndarray


def outcome(ds: xr.Dataset, goals, *, spend: str, discount_rate: float, to: str) -> Outcome:
    """Per-replicate spend and goal values of a results dataset with a replicate dimension."""
    t = period_index(ds, to)
    cost = ds.cost.isel(time=slice(0, t + 1))
    cost = cost.sel(kind="levers") if spend == "levers" else cost.sum("kind")
    first = ds.time.values[0].astype("datetime64[M]")
    years = (ds.time.values[:t + 1].astype("datetime64[M]") - first).astype(int) // 12
    factor = xr.DataArray((1.0 + discount_rate) ** -years.astype(float), dims="time")
    total = (cost * factor).sum("time").values.astype(float)
    values = np.stack([goal_value(ds, g).values.astype(float) for g in goals]) if goals else \
        np.zeros((0, total.shape[0]))
    return Outcome(total, values)


def met(goal, x: np.ndarray) -> np.ndarray:
    return x <= goal.max if goal.max is not None else x >= goal.min


def wilson_lower(k: float, n: int, confidence: float) -> float:
    """Lower end of the one-sided Wilson score interval for a share k/n (the share itself at 0.5)."""
    if n == 0:
        return 0.0
    z = float(stats.norm.ppf(confidence))
    p = k / n
    if z <= 0:
        return p
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float((centre - spread) / (1 + z * z / n))


def cvar(x: np.ndarray, alpha: float, upper: bool = True) -> float:
    """Mean of the worst ``alpha`` share of ``x`` (the largest when ``upper``, else the smallest)."""
    s = np.sort(np.asarray(x, float))
    if upper:
        s = s[::-1]
    k = max(1, int(np.ceil(alpha * len(s) - 1e-9)))
    return float(s[:k].mean())


@dataclass
class Measures:
    """A plan's numbers, combined across futures, and each future's own."""
    spend: float                    # £ million extra spend
    gap: float                      # mean of the gap goal's metric (nan without one)
    risk: float                     # share of replicates missing at least one constrained goal
    probability: list[float]        # per constraint: P(goal met)
    slack: list[float]              # per constraint: ≤ 0 where the search counts it as met
    futures: dict[str, dict]        # future → {spend, gap, risk, probability}

    @property
    def feasible(self) -> bool:
        return all(s <= 0 for s in self.slack)

    def as_dict(self) -> dict:
        return {"spend": self.spend, "gap": self.gap, "risk": self.risk, "probability": self.probability,
                "slack": self.slack, "futures": self.futures}


def combine(plan: dict[str, Outcome], base: dict[str, Outcome], problem, *, confidence: float) -> Measures:
    """The plan's measures against the base scenario (paired replicate by replicate in each future)."""
    goals, spec = problem.goals, problem.spec
    n_con = len(spec.constraints)
    robust = spec.robust
    extra = {f: (plan[f].spend - base[f].spend) / 1e6 for f in plan}
    hit = {f: np.array([met(goals[c], plan[f].values[c]) for c in range(n_con)]).reshape(n_con, -1) for f in plan}
    miss = {f: ~hit[f].all(axis=0) if n_con else np.zeros(len(extra[f]), bool) for f in plan}
    gap = {f: plan[f].values[problem.gap_goal] if problem.gap_goal >= 0 else np.full(len(extra[f]), np.nan)
           for f in plan}
    per = {f: {"spend": float(extra[f].mean()), "gap": float(np.mean(gap[f])), "risk": float(miss[f].mean()),
               "probability": [float(x) for x in hit[f].mean(axis=1)]} for f in plan}
    pooled = lambda d: np.concatenate([d[f] for f in plan], axis=-1)  # noqa: E731
    if robust.measure == "worst":
        spend = max(v["spend"] for v in per.values())
        gap_v = max(v["gap"] for v in per.values())
        risk = max(v["risk"] for v in per.values())
        prob = [min(v["probability"][c] for v in per.values()) for c in range(n_con)]
        slack = [spec.constraints[c].probability - min(
            wilson_lower(hit[f][c].sum(), hit[f].shape[1], confidence) for f in plan) for c in range(n_con)]
    else:
        h = pooled(hit) if n_con else np.zeros((0, 0), bool)
        risk = float(pooled(miss).mean())
        prob = [float(h[c].mean()) for c in range(n_con)]
        if robust.measure == "mean":
            spend = float(pooled(extra).mean())
            gap_v = float(np.mean(pooled(gap)))
            slack = [spec.constraints[c].probability - wilson_lower(h[c].sum(), h.shape[1], confidence)
                     for c in range(n_con)]
        else:                                           # cvar
            spend = cvar(pooled(extra), robust.alpha)
            g = problem.goals[problem.gap_goal] if problem.gap_goal >= 0 else None
            gap_v = cvar(pooled(gap), robust.alpha, upper=g is None or g.max is not None) if g else float("nan")
            slack = []
            for c in range(n_con):
                goal, x = goals[c], pooled({f: plan[f].values[c] for f in plan})
                tail = 1.0 - spec.constraints[c].probability
                if tail <= 0:                           # probability 1: every replicate must meet the goal
                    slack.append(0.0 if h[c].all() else float((~h[c]).mean()))
                elif goal.max is not None:
                    slack.append(cvar(x, tail) - goal.max)
                else:
                    slack.append(goal.min - cvar(x, tail, upper=False))
    if spec.objective.budget is not None:
        slack.append(spend - spec.objective.budget / 1e6)      # the budget, after the constraints
    return Measures(float(spend), float(gap_v), float(risk), prob, [float(s) for s in slack], per)
