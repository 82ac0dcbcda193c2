"""The Pareto frontier of spend, gap and risk: plans no other plan beats on every objective at once."""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = {"spend": "spend_m", "gap": "gap", "risk": "risk"}


def frontier(table: pd.DataFrame, objectives: list[str]) -> list[int]:
    """Rows of ``table`` not dominated (all objectives minimised), in order of spend; a plan repeated
    with the same numbers counts once (its first row)."""
    x = table[[COLUMNS[o] for o in objectives]].to_numpy(float)
    keep = []
    for i in range(len(x)):
        if not np.all(np.isfinite(x[i])):
            continue
        others = np.delete(np.arange(len(x)), i)
        dominated = np.any(np.all(x[others] <= x[i], axis=1) & np.any(x[others] < x[i], axis=1))
        duplicate = np.any(np.all(x[:i] == x[i], axis=1))
        if not dominated and not duplicate:
            keep.append(i)
    return sorted(keep, key=lambda i: (x[i, 0], i))


def spread(front: list[int], table: pd.DataFrame, k: int) -> list[int]:
    """Up to ``k`` frontier rows spread evenly over spend (the cheapest and the dearest included)."""
    if k <= 0 or not front:
        return []
    order = sorted(front, key=lambda i: (table.spend_m.iloc[i], i))
    if len(order) <= k:
        return order
    picks = np.unique(np.round(np.linspace(0, len(order) - 1, k)).astype(int))
    return [order[j] for j in picks]
