"""Lever plugins (policy levers of the ICS People Function, outcome areas 1-8 and 10)."""
from .base import Lever
from .registry import register, registry
from . import adaptive, education, inclusion, recruitment, reform, retention, system  # noqa: F401  (built-in levers register themselves)

__all__ = ["Lever", "register", "registry"]
