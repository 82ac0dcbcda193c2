"""Area 6 (education, training and talent): HEE-commissioned training places."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..scenario.types import Number
from .base import Lever, check_name
from .registry import register


@register
class TrainingPlaces(Lever):
    """Change the intake of a programme by a share from ``from`` (e.g. +10% nursing degree places).

    Seed 000, Fig 2 ("clinical education commissioning", "delivery of supply-expansion commitments");
    LTWP: nursing places +34% by 2028/29. Completions follow ``years`` later, less attrition.
    """

    lever: Literal["training_places"]
    programme: str = Field(description="programme whose intake changes")
    change: Number(-1, 10, "share of intake, +0.10 = 10% more starters")

    area = 6
    levels = ("national", "region", "ics", "place")

    def references(self, scenario):
        return super().references(scenario) + check_name(self.programme, scenario.programmes, "programme", "programme")

    def apply(self, plan, scenario) -> None:
        g = plan.programmes.index(self.programme)
        plan.intake[:, g, :] *= 1 + self.change * self.window(plan)
