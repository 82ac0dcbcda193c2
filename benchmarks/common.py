"""Helpers shared by the benchmark driver and its child processes: scenarios, scaling, counting.

Kept free of heavy imports at module level so that a child process can time ``import sim`` itself.
"""
from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The default scenario, in order of preference (the embedded baseline ICS first).
DEFAULT_CANDIDATES = (
    REPO / "sim" / "data" / "baseline_ics.yaml",
    REPO / "configs" / "baseline_ics.yaml",
)
FALLBACK = REPO / "configs" / "examples" / "spec_example.yaml"


def default_scenario() -> tuple[Path, str]:
    """(path, note): the default ICS scenario, or the reference example scenario with a note saying so."""
    for p in DEFAULT_CANDIDATES:
        if p.is_file():
            return p, ""
    return FALLBACK, (f"no baseline ICS found ({', '.join(str(p.relative_to(REPO)) for p in DEFAULT_CANDIDATES)}"
                      f"); using the fallback {FALLBACK.relative_to(REPO)}")


_YEARISH = re.compile(r"^\d{1,4}$")


def _int_keys(obj):
    """JSON dumps turn year-table / age-table keys into strings; turn them back into ints.

    (``scenario_dict`` → ``load_scenario`` does not round-trip year tables on its own: the
    validator wants int keys.) A mapping whose keys are *all* digit strings is treated as a table.
    """
    if isinstance(obj, dict):
        fixed = {k: _int_keys(v) for k, v in obj.items()}
        if fixed and all(isinstance(k, str) and _YEARISH.match(k) for k in fixed):
            return {int(k): v for k, v in fixed.items()}
        return fixed
    if isinstance(obj, list):
        return [_int_keys(v) for v in obj]
    return obj


def _scale_flow(v, f: float):
    """Scale a flow series (constant or year table)."""
    if isinstance(v, dict):
        return {k: x * f for k, x in v.items()}
    return v * f


def _scale_count(v, f: float):
    """Scale a head count (whole number, or {place: whole number}); keep at least 1 where there was any."""
    def one(x):
        return 0 if x == 0 else max(1, int(round(x * f)))
    if isinstance(v, dict):
        return {k: one(x) for k, x in v.items()}
    return one(v)


def scaled_dict(scenario, factor: float = 1.0, years: int | None = None) -> dict:
    """The scenario as a dict with every profession's headcount and recruitment and every programme's
    intake multiplied by ``factor`` (and the horizon replaced by ``years`` if given)."""
    import warnings

    from sim.scenario import scenario_dict

    with warnings.catch_warnings():          # pydantic warns while dumping year tables (int keys)
        warnings.simplefilter("ignore", UserWarning)
        d = _int_keys(copy.deepcopy(scenario_dict(scenario)))
    if years is not None:
        d["years"] = int(years)
    if factor != 1.0:
        for prof in d["professions"].values():
            prof["headcount"] = _scale_count(prof["headcount"], factor)
            rec = prof.get("recruitment") or {}
            for src in ("international", "return_to_practice", "domestic"):
                if rec.get(src) is not None:
                    rec[src] = _scale_flow(rec[src], factor)
        for prog in (d.get("programmes") or {}).values():
            prog["intake"] = _scale_flow(prog["intake"], factor)
    return d


def scaled_scenario(scenario, factor: float = 1.0, name: str | None = None):
    """The scenario with staff, recruitment and intake scaled by ``factor``, validated."""
    import sim

    if factor == 1.0:
        return scenario
    return sim.load_scenario(scaled_dict(scenario, factor), name=name or f"{scenario.name} ×{factor:g}")


CELLS_OVERLAY = REPO / "configs" / "variants" / "ics_groups_bands.yaml"


def merged(base: dict, overlay: dict) -> dict:
    """``base`` with ``overlay`` merged in: mappings key by key, anything else replaced."""
    out = dict(base)
    for k, v in overlay.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def with_overlay(scenario, overlay: Path = CELLS_OVERLAY, name: str | None = None):
    """The scenario with an overlay's sections merged in (configs/variants/ics_groups_bands.yaml: the default
    ICS with characteristics and bands), validated."""
    import sim
    import yaml

    d = merged(scaled_dict(scenario), yaml.safe_load(overlay.read_text(encoding="utf-8")))
    return sim.load_scenario(d, name=name or f"{scenario.name}+{overlay.stem}")


def without_cells(scenario, name: str | None = None):
    """The scenario without characteristics and without any profession's bands, validated."""
    import sim

    d = scaled_dict(scenario)
    d.pop("characteristics", None)
    for prof in d["professions"].values():
        prof.pop("bands", None)
    return sim.load_scenario(d, name=name or f"{scenario.name} without cells")


# Plan fields that are not indexed by month first (everything else of shape [months, ...] is).
_NOT_MONTHLY = {"leave_age_mult", "retire_cdf", "staff_age", "joiner_age", "init_headcount", "rotation_cdf",
                "prog_produces", "prog_trainee_prof", "prog_months", "prog_dropout", "prog_entry_age",
                "init_cohorts", "prog_rotation_cdf"}


def truncated_plan(plan, months: int):
    """The plan cut to its first ``months`` months (a shorter horizon without re-validating the
    scenario, whose year tables and lever dates may lie beyond the shorter horizon)."""
    import dataclasses

    import numpy as np

    if months >= plan.months:
        return plan
    cut = {f.name: getattr(plan, f.name)[:months] for f in dataclasses.fields(plan)
           if f.name not in _NOT_MONTHLY and isinstance(getattr(plan, f.name), np.ndarray)
           and getattr(plan, f.name).shape[:1] == (plan.months,)}
    return dataclasses.replace(plan, months=months, **cut)


def tiny_plan(scenario):
    """The default scenario at 1% of its staff and flows, over its first year: for compile timing."""
    from sim.model.compile import compile_plan

    return truncated_plan(compile_plan(scaled_scenario(scenario, 0.01, name="tiny")), 12)


def agent_months(plan, out) -> int:
    """Sum over replicates and months of staff headcount + trainees not already counted as staff."""
    import numpy as np

    not_in_service = np.asarray(plan.prog_trainee_prof) < 0
    return int(out["headcount"].sum(dtype=np.int64) + out["trainees"][:, :, not_in_service].sum(dtype=np.int64))


def agent_months_per_replicate(plan, out):
    import numpy as np

    not_in_service = np.asarray(plan.prog_trainee_prof) < 0
    R = out["headcount"].shape[0]
    return (out["headcount"].reshape(R, -1).sum(axis=1, dtype=np.int64)
            + out["trainees"][:, :, not_in_service].reshape(R, -1).sum(axis=1, dtype=np.int64))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (10^6 bytes)."""
    try:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / 1e6 if sys.platform == "darwin" else kb * 1024 / 1e6   # bytes on macOS, KiB on Linux
    except ImportError:  # pragma: no cover - Windows
        import psutil

        info = psutil.Process().memory_info()
        return getattr(info, "peak_wset", info.rss) / 1e6


def current_rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 1e6
    except ImportError:
        return float("nan")
