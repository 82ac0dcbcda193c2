"""Box 4 ("implement, monitor, refresh"): an action plan that reacts to each replicate's state."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..limits import POUNDS
from ..scenario.errors import shown
from ..scenario.types import Number, Whole
from .base import Lever
from .registry import register


@register
class AdaptivePlan(Lever):
    """Each year at the review month, where a profession's gap exceeds a threshold, raise other levers.

    HEE-ICS 2021, box 4 ("implement, monitor and refresh" closes the planning cycle) and ICS-PF 2021, area 8
    (workforce planning that is "iterative" and "responsive to changing need"). At each review a
    replicate whose gap share (required minus effective FTE, over required FTE, in the month before the
    review) is above ``gap_threshold``, and whose spend on the raised levers over the past twelve months
    is within ``budget_per_year``, scales every lever in ``raise_levers`` up by ``step`` of its
    configured size from the review month on (up to ``max_scale``). The raised levers keep their own
    lags: more nursing places in April start in September and qualify years later. Decisions use only
    that replicate's past, so both engines and ``sim.expected`` take them identically.
    """

    lever: Literal["adaptive_plan"]
    profession: str = Field(description="profession whose gap is reviewed")
    gap_threshold: Number(0, 1, "share of required FTE") = Field(
        0.05, description="raise the levers where the gap share exceeds this")
    raise_levers: list[str] = Field(min_length=1, description="ids (or names) of the levers to raise, "
                                    "from this scenario's action plan")
    step: Number(0, 10, "share of each lever's configured size") = Field(
        0.5, description="added to each raised lever's scale at a review (0.5: half as much again)")
    max_scale: Number(1, 20, "multiple of the configured size") = Field(3.0, description="the scale never exceeds this")
    budget_per_year: Number(0, POUNDS, "£ per year") | None = Field(
        None, description="no raise where the raised levers cost more than this over the past 12 months")
    review_month: Whole(1, 12, "calendar month") = Field(
        4, description="calendar month of the annual review (4: April, the start of the plan year)")

    area = 8

    def references(self, scenario):
        out = super().references(scenario)
        labels = lever_labels(scenario.levers)
        for name in self.raise_levers:
            hits = [i for i, lv in enumerate(scenario.levers) if labels[i] == name or (lv.id is None and lv.lever == name)]
            if not hits:
                out.append(("raise_levers", f"no lever {shown(name)} in this action plan; allowed: "
                                            f"{', '.join(x for x in labels if x != self.label_in(scenario))}"))
            elif any(isinstance(scenario.levers[i], AdaptivePlan) for i in hits):
                out.append(("raise_levers", f"{shown(name)} is an adaptive plan; adaptive plans raise ordinary levers"))
        return out

    def label_in(self, scenario) -> str:
        mine = [i for i, x in enumerate(scenario.levers) if x is self]
        return lever_labels(scenario.levers)[mine[0]] if mine else ""

    def apply(self, plan, scenario) -> None:
        """Nothing up front: the plan tensors change only at reviews (see ``sim.runs.reviews``)."""

    def review_months(self, plan) -> list[int]:
        """Months (index from the start) of the reviews in force: each review month after the first month."""
        due = (plan.calendar_months() == self.review_month) & self.month_mask(plan)
        return [int(t) for t in np.flatnonzero(due) if t > 0]

    def raised(self, labels: list[str], levers) -> list[int]:
        """Indices of the levers this plan raises."""
        return [i for i, lv in enumerate(levers) if labels[i] in self.raise_levers
                or (getattr(lv, "id", None) is None and lv.lever in self.raise_levers)]

    def decide(self, gap_share: np.ndarray, spend: np.ndarray, scale_now: np.ndarray) -> np.ndarray:
        """Boolean per replicate: raise at this review?"""
        ok = (gap_share > self.gap_threshold) & (scale_now + self.step <= self.max_scale + 1e-12)
        if self.budget_per_year is not None:
            ok &= spend <= self.budget_per_year
        return ok


def lever_labels(levers) -> list[str]:
    from ..model.compile import lever_label

    return [lever_label(lv, i, levers) for i, lv in enumerate(levers)]

