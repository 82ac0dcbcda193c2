"""Optimisation files: a base scenario and its futures, a candidate action plan whose lever sizes and timing
are decision variables, an objective, and goals that must be met with a stated probability.

An optimisation YAML (``configs/optimise/*.yaml``)::

    name: nurse_gap_cheapest
    question: What is the cheapest plan that closes the registered-nurse gap to 5% by March 2031 with 80%
      probability?
    scenario: default                  # or a scenario YAML, relative to this file
    futures:                           # optional, as in experiment files (set / levers / plans)
      central: {}
      high_demand: {set: {population.growth.85+: 0.04}}
    levers:                            # the candidate action plan, written as in an action-plan file
      - {lever: training_places, id: nursing_places, programme: nursing_degree, change: 0.0, from: 2027-04}
      - {lever: retention, id: nurse_retention, profession: registered_nurse, leave_rate_multiplier: 1.0}
    decisions:                         # what the search chooses: a field of a lever above, within bounds
      places: {lever: nursing_places, field: change, low: 0, high: 0.5, step: 0.01}
      places_start: {lever: nursing_places, field: from, low: 2026-09, high: 2029-09, step: 12}
      retention: {lever: nurse_retention, field: leave_rate_multiplier, low: 0.75, high: 1.0,
                  linked: {cost_per_head_per_year: {at_low: 250, at_high: 0}}}
    objective: {minimise: spend, spend: all, discount_rate: 0.035}
    constraints:                       # chance constraints: P(goal met) >= probability
      - {goal: Registered-nurse gap at most 5% of demand by March 2031, probability: 0.8}
      - {metric: gap_share, profession: registered_nurse, where: Riverside, by: 2031-03, max: 0.08,
         probability: 0.7}
    robust: {measure: worst}           # across futures: mean (default), worst, or cvar with alpha
    search: {trials: 120, batch: 4, replicates: 100, seed: 1, confidence: 0.9}
    evaluate: {replicates: 1000, seed: 2}
    compare: [../levers/train.yaml, ../levers/retain.yaml]   # hand-written plans to set the result against

``minimise`` is ``spend`` (cheapest plan meeting the constraints), ``gap`` (smallest expected value of the
gap goal within ``objective.budget``), or a list of two or three of ``spend``, ``gap`` and ``risk`` (the
Pareto frontier; ``risk`` is the probability of missing the goals).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..scenario import ScenarioError
from ..scenario.loading import read_yaml, validation_problems
from ..scenario.types import YearMonth
from ..vocabulary import DEFAULT_ENGINE, DEFAULT_SCENARIO, ENGINES, YEAR_MONTH, absolute_month

Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
MONTH_FIELDS = ("from", "until")            # lever fields holding a month: decisions on them move a start or end
OBJECTIVES = ("spend", "gap", "risk")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Linked(Model):
    """Another field of the same lever that moves with the decision, linearly between its values at the
    decision's low and high ends (typically a cost that grows with the lever's size)."""
    at_low: float = Field(description="the field's value when the decision is at low")
    at_high: float = Field(description="the field's value when the decision is at high")


class Decision(Model):
    """One decision variable: a field of a lever of the candidate plan, within [low, high]."""
    lever: str = Field(min_length=1, description="id (or, if it has none, name) of a lever in ``levers``")
    field: str = Field(min_length=1, description="a number parameter of that lever, ramp_months, or from/until "
                                                 "(a month)")
    low: float | str = Field(description="lowest value (a month YYYY-MM for from/until)")
    high: float | str = Field(description="highest value (a month YYYY-MM for from/until)")
    step: float | None = Field(None, gt=0, description="grid step (months for from/until); default: continuous, "
                                                       "or 1 for whole numbers and months")
    integer: bool = Field(False, description="whole numbers only (automatic for whole-number lever fields)")
    linked: dict[str, Linked] = Field({}, description="fields of the same lever set in proportion to this one")

    @model_validator(mode="after")
    def _bounds(self):
        month = self.field in MONTH_FIELDS
        for end in ("low", "high"):
            v = getattr(self, end)
            if month and not (isinstance(v, str) and YEAR_MONTH.fullmatch(v)):
                raise ValueError(f"{end}: {self.field} is a month; expected YYYY-MM, got {v!r}")
            if not month and (isinstance(v, str) or not math.isfinite(v)):
                raise ValueError(f"{end}: expected a number for {self.field}; got {v!r}")
        return self

    @property
    def is_month(self) -> bool:
        return self.field in MONTH_FIELDS

    def span(self) -> tuple[float, float]:
        """(low, high) as numbers (months as absolute month numbers)."""
        if self.is_month:
            return float(absolute_month(self.low)), float(absolute_month(self.high))
        return float(self.low), float(self.high)


class GoalSpec(Model):
    """A goal: a scenario goal by name, or written out as a scenario goal is."""
    goal: str | None = Field(None, min_length=1, description="name of one of the scenario's goals")
    metric: Literal["gap_share", "vacancy_rate", "annual_cost", "headcount", "effective_fte"] | None = None
    by: YearMonth | None = None
    profession: str | None = None
    where: str | None = None
    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _one_way(self):
        written = [k for k in ("metric", "by", "profession", "where", "max", "min") if getattr(self, k) is not None]
        if self.goal is not None and written:
            raise ValueError(f"give either goal (a scenario goal's name) or metric, by, max/min; not both "
                             f"(also given: {', '.join(written)})")
        if self.goal is None:
            missing = [k for k in ("metric", "by") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"a goal needs goal: NAME, or metric and by; missing {', '.join(missing)}")
            if (self.max is None) == (self.min is None):
                raise ValueError("give exactly one of max or min")
        return self


class Constraint(GoalSpec):
    probability: float = Field(gt=0, le=1, description="the share of replicates that must meet the goal")


class Objective(Model):
    minimise: Literal[OBJECTIVES] | list[Literal[OBJECTIVES]] = Field(
        "spend", description="spend, gap, or a list of two or three of spend, gap and risk (Pareto frontier)")
    spend: Literal["all", "levers"] = Field(
        "all", description="all: every £ the workforce costs (staff, bank and agency, training, levers); "
                           "levers: the action plan's own costs")
    discount_rate: float = Field(0.0, ge=0, le=0.2, description="per year (HM Treasury Green Book: 0.035)")
    to: YearMonth | None = Field(None, description="spend is counted from the start to this month; default: "
                                                   "the horizon's last month")
    gap: GoalSpec | None = Field(None, description="the goal whose expected value is 'gap'; default: the first "
                                                   "constraint's")
    budget: float | None = Field(None, description="most extra spend (£, against the base scenario) allowed")

    @model_validator(mode="after")
    def _shape(self):
        if isinstance(self.minimise, list):
            if not 2 <= len(self.minimise) <= 3 or len(set(self.minimise)) != len(self.minimise):
                raise ValueError("minimise: a list names two or three different objectives of spend, gap, risk")
        elif self.minimise == "gap" and self.budget is None:
            raise ValueError("budget: minimise gap needs a budget (most extra spend, £)")
        elif self.minimise == "risk":
            raise ValueError("minimise: risk alone is not an objective; use a list such as [spend, risk]")
        return self

    @property
    def pareto(self) -> bool:
        return isinstance(self.minimise, list)

    @property
    def names(self) -> list[str]:
        return list(self.minimise) if self.pareto else [self.minimise]


class Robust(Model):
    """How the futures (and replicates) combine: their mean, the worst future, or the CVaR tail."""
    measure: Literal["mean", "worst", "cvar"] = "mean"
    alpha: float = Field(0.2, gt=0, le=1, description="cvar: the tail share averaged (0.2: the worst 20% of "
                                                      "replicates across futures)")


class Search(Model):
    sampler: Literal["tpe", "nsga2", "random"] = "tpe"
    trials: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 100
    batch: Annotated[int, Field(ge=1, le=256, strict=True)] = Field(
        4, description="trials proposed at once and run in parallel; the search depends on it, not on workers")
    replicates: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 100
    seed: Annotated[int, Field(ge=0, strict=True)] = 0
    confidence: float = Field(0.9, ge=0.5, lt=1, description="chance constraints are judged in the search on "
                              "the lower end of a one-sided Wilson interval at this confidence (0.5: the share)")
    engine: Literal[ENGINES] = DEFAULT_ENGINE


class Evaluate(Model):
    replicates: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] = 1000
    seed: Annotated[int, Field(ge=0, strict=True)] | None = Field(None, description="default: search seed + 1")
    block: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 250
    pareto_points: Annotated[int, Field(ge=0, le=50, strict=True)] = Field(
        6, description="multi-objective: frontier plans re-run on fresh replicates, spread over spend")


class OptimisationSpec(Model):
    name: Label = Field(description="used for the output folder")
    question: str = Field(min_length=1)
    description: str = ""
    scenario: str = Field("default", description="base scenario YAML relative to this file, or 'default'")
    futures: dict[Label, dict] = Field({}, description="as an experiment's futures: {set, levers, plans}")
    levers: list[dict] = Field(min_length=1, description="the candidate action plan")
    decisions: dict[Label, Decision] = Field(min_length=1)
    objective: Objective = Objective()
    constraints: list[Constraint] = []
    robust: Robust = Robust()
    search: Search = Search()
    evaluate: Evaluate = Evaluate()
    compare: list[str] = Field([], description="action-plan files (relative to this file) to compare with")

    @model_validator(mode="after")
    def _consistent(self):
        if self.objective.minimise == "spend" and not self.constraints and self.objective.budget is None:
            raise ValueError("constraints: minimising spend needs at least one constraint (else the answer is "
                             "the smallest plan)")
        if self.objective.pareto and ({"gap", "risk"} & set(self.objective.names)) and not self.constraints \
                and self.objective.gap is None:
            raise ValueError("constraints: gap and risk are judged on the constraints' goals; give at least one")
        if self.objective.minimise == "gap" and not self.constraints and self.objective.gap is None:
            raise ValueError("objective.gap: minimise gap needs objective.gap or a constraint to name the goal")
        if self.evaluate.seed is not None and self.evaluate.seed == self.search.seed:
            raise ValueError("evaluate.seed: must differ from search.seed, so plans are judged on fresh replicates")
        for name, d in self.decisions.items():
            lo, hi = d.span()
            if not lo < hi:
                raise ValueError(f"decisions.{name}.high: the bounds are reversed or equal: low {d.low} must be "
                                 f"below high {d.high}")
            if d.step is not None and d.step > hi - lo:
                raise ValueError(f"decisions.{name}.step: {d.step:g} is wider than the range {d.low} to {d.high}")
        return self

    @property
    def fresh_seed(self) -> int:
        return self.evaluate.seed if self.evaluate.seed is not None else self.search.seed + 1


def _problems(e: ValidationError) -> list[tuple[str, str]]:
    """pydantic's problems; a model-level message that starts with a field path names that field."""
    out = []
    for where, msg in validation_problems(e):
        head, _, rest = msg.partition(": ")
        if rest and " " not in head and (head.split(".")[0] in OptimisationSpec.model_fields or
                                         head in Decision.model_fields or head in Objective.model_fields):
            where = f"{where}.{head}" if where and head.split(".")[0] not in OptimisationSpec.model_fields else head
            msg = rest
        out.append((where, msg))
    return out


def load_optimisation(source) -> tuple[OptimisationSpec, Path, Path]:
    """(spec, folder of the file, base scenario path); ScenarioError names each problem's field."""
    label = str(source) if isinstance(source, (str, Path)) else "optimisation"
    data = read_yaml(source) if isinstance(source, (str, Path)) else source
    if not isinstance(data, dict):
        raise ScenarioError([("", "an optimisation is a mapping with name, question, levers, decisions, …")], label)
    try:
        spec = OptimisationSpec.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(_problems(e), label) from None
    base = Path(source).absolute().parent if isinstance(source, (str, Path)) else Path.cwd()
    scenario = DEFAULT_SCENARIO if spec.scenario == "default" else (
        Path(spec.scenario) if Path(spec.scenario).is_absolute() else base / spec.scenario)
    problems = [] if scenario.is_file() else [("scenario", f"scenario file not found: {scenario}")]
    for i, plan in enumerate(spec.compare):
        p = Path(plan) if Path(plan).is_absolute() else base / plan
        if not p.is_file():
            problems.append((f"compare.{i}", f"action plan not found: {p}"))
    if problems:
        raise ScenarioError(problems, label)
    return spec, base, scenario
