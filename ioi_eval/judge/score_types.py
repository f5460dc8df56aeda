"""CMS score types behind one small interface.

A score type turns the per-test outcomes of a subtask (each in [0, 1]) into the subtask's points.
The judge never knows which one it holds; it only asks :meth:`ScoreType.subtask_points` and
whether a zero outcome already decides the subtask (so its remaining tests may be skipped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, Protocol

from ..problem.model import Subtask


class ScoreType(Protocol):
    """Per-subtask scoring rule."""

    name: ClassVar[str]
    zero_decides: ClassVar[bool]
    """True when one test with outcome 0 makes the whole subtask 0 (skipping is then exact)."""

    def subtask_points(self, subtask: Subtask, outcomes: Sequence[float]) -> float:
        """Points of ``subtask`` given the outcomes of all its tests."""
        ...


class GroupMin:
    """IOI's rule: the subtask's points times the minimum outcome of its tests."""

    name = "GroupMin"
    zero_decides = True

    def subtask_points(self, subtask: Subtask, outcomes: Sequence[float]) -> float:
        return subtask.points * (min(outcomes) if outcomes else 0.0)


class GroupMul:
    """The subtask's points times the product of its tests' outcomes."""

    name = "GroupMul"
    zero_decides = True

    def subtask_points(self, subtask: Subtask, outcomes: Sequence[float]) -> float:
        return subtask.points * (math.prod(outcomes) if outcomes else 0.0)


class GroupThreshold:
    """All-or-nothing: every outcome must be in (0, threshold] (outcome = resource used)."""

    name = "GroupThreshold"
    zero_decides = True

    def subtask_points(self, subtask: Subtask, outcomes: Sequence[float]) -> float:
        threshold = subtask.threshold if subtask.threshold is not None else 1.0
        ok = bool(outcomes) and all(0.0 < o <= threshold for o in outcomes)
        return subtask.points if ok else 0.0


class Sum:
    """Each test is worth an equal share of the subtask's points."""

    name = "Sum"
    zero_decides = False

    def subtask_points(self, subtask: Subtask, outcomes: Sequence[float]) -> float:
        return subtask.points * (sum(outcomes) / len(outcomes) if outcomes else 0.0)


SCORE_TYPES: dict[str, type[ScoreType]] = {c.name: c for c in (GroupMin, GroupMul, GroupThreshold, Sum)}


def get_score_type(name: str) -> ScoreType:
    """The score type registered under ``name``."""
    try:
        return SCORE_TYPES[name]()
    except KeyError:
        raise ValueError(f"unknown score type {name!r}; known: {', '.join(SCORE_TYPES)}") from None
