"""The optimisation's figure: every plan the search tried by spend against risk and gap, the Pareto frontier
(or the chosen plan) picked out, and the plans re-run on fresh replicates beside the hand-written ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .pareto import frontier

FRESH = "#d62728"
COMPARED = "#1f77b4"


def pareto_figure(trials: pd.DataFrame, front: list[int], best: int | None, fresh: pd.DataFrame | None = None,
                  *, gap_label: str = "gap goal's metric (mean)", title: str = "") -> Figure:
    """Two panels, extra spend (£m) against risk (share of replicates missing a goal) and against the gap:
    grey dots are the search's trials (search replicates), black dots the frontier (the step line is the
    panel's own two-way trade-off), the star is the chosen plan; open red circles are plans re-run on fresh replicates, blue squares the compared plans."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axes = [fig.add_subplot(1, 2, k + 1) for k in range(2)]
    for ax, col, label in zip(axes, ("risk", "gap"), ("risk: share of replicates missing a goal", gap_label)):
        ax.scatter(trials.spend_m, trials[col], s=12, color="#9a9a9a", alpha=0.6, label="search trials")
        if front:
            f = trials.iloc[front]
            ax.scatter(f.spend_m, f[col], s=16, color="black", label="Pareto frontier (search)")
            pair = trials.iloc[frontier(trials, ["spend", col])]      # this panel's own trade-off, as a step
            ax.step(pair.spend_m, pair[col], where="post", color="black", lw=1)
        if best is not None:
            ax.scatter([trials.spend_m.iloc[best]], [trials[col].iloc[best]], marker="*", s=180, color="gold",
                       edgecolor="black", zorder=5, label="chosen plan (search)")
        if fresh is not None and len(fresh):
            own = fresh[fresh.variant.str.match(r"^(optimised|pareto_\d+)$")]
            other = fresh[~fresh.variant.isin(own.variant) & (fresh.variant != "baseline")]
            ax.scatter(own.spend_m, own[col], s=70, facecolor="none", edgecolor=FRESH, lw=1.5, zorder=6,
                       label="chosen plans (fresh replicates)")
            ax.scatter(other.spend_m, other[col], marker="s", s=40, color=COMPARED, zorder=6,
                       label="hand-written plans (fresh replicates)")
            for _, r in other.iterrows():
                ax.annotate(r.variant, (r.spend_m, r[col]), textcoords="offset points", xytext=(4, 4), fontsize=8,
                            color=COMPARED)
        ax.set_xlabel("extra spend against the base scenario, £ million")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if col == "risk":
            ax.set_ylim(-0.03, 1.03)
    finite = np.isfinite(trials.gap.to_numpy(float))
    if not finite.any():
        axes[1].set_visible(False)
    axes[0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
