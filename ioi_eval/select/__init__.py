"""Test-time selection: which of a run's samples a contestant would submit, strategy by strategy.

``STRATEGIES`` is the only list of strategy names (the command line's choices are derived from it); each is
one small class behind :class:`~ioi_eval.select.base.Strategy` that declares the information it uses.
"""

from __future__ import annotations

from ..errors import SelectError
from .base import Strategy
from .cluster import Cluster
from .default import RoundRobin
from .openr1 import OpenR1
from .oracle import Oracle
from .public_tests import PublicTests
from .random_draw import RandomDraw

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Oracle, OpenR1, RoundRobin, RandomDraw, PublicTests, Cluster)}  # type: ignore[misc]


def get_strategy(name: str) -> Strategy:
    """A strategy by name; :class:`SelectError` naming the known ones otherwise."""
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise SelectError(f"unknown selection strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
