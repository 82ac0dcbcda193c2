"""The files that come with wfsim, found by name: the example scenarios, the action plans and the experiments.

They ship inside the package (``sim/data``), so ``pip install wfsim-ics`` has them and ``wfsim run --plan
train`` works without a source checkout. In the repository, ``sim/data/configs`` and ``sim/data/experiments``
are links to the top-level ``configs/`` and ``experiments/`` folders, so each file exists once; the wheel
carries copies. A name is looked up only when no file of that name exists, so paths keep working.
"""
from __future__ import annotations

from pathlib import Path

from ..vocabulary import DATA, DEFAULT_SCENARIO, SHIPPED_CONFIGS, SHIPPED_EXPERIMENTS, SHIPPED_PLANS


def _by_stem(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def action_plans() -> dict[str, Path]:
    """Name → file of the shipped action plans (portfolios of levers for the default ICS)."""
    return _by_stem(SHIPPED_PLANS)


def experiments() -> dict[str, Path]:
    """Name → file of the shipped experiments."""
    return _by_stem(SHIPPED_EXPERIMENTS)


def scenarios() -> dict[str, Path]:
    """Label (its path in the repository, ``configs/region.yaml``) → file of every shipped scenario but the
    embedded default: the region, the reference example and the small closed-form (analytic) configs."""
    out = {}
    for folder in (SHIPPED_CONFIGS, SHIPPED_CONFIGS / "examples", SHIPPED_CONFIGS / "analytic"):
        for p in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
            if p.name != DEFAULT_SCENARIO.name:
                out[p.relative_to(DATA).as_posix()] = p
    return out


def _named(text: str | Path, shipped: dict[str, Path], base: Path | None) -> Path:
    p = Path(text)
    path = p if p.is_absolute() or base is None else base / p
    if path.exists() or p.suffix or p.parent != Path("."):
        return path
    return shipped.get(p.name, path)


def action_plan(text: str | Path, base: Path | None = None) -> Path:
    """The action plan ``text`` names: the file at that path (relative to ``base`` if given) when it exists,
    else, for a bare name without a suffix (``train``), the shipped plan of that name; else the path, which
    the reader then reports as not found (with :func:`not_found`)."""
    return _named(text, action_plans(), base)


def experiment(text: str | Path) -> Path:
    """The experiment ``text`` names: a file, else a shipped experiment's bare name (``hee_supply_levers``)."""
    return _named(text, experiments(), None)


def not_found(what: str, path: Path, shipped: dict[str, Path]) -> str:
    """The message for a file that is neither there nor a shipped name."""
    return f"file not found: {path} (or name a shipped {what}: {', '.join(shipped) or 'none'})"
