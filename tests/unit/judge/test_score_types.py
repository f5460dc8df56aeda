"""Score types (the multi-submission rule is tested in test_selection.py)."""

from __future__ import annotations

import pytest

from ioi_eval.judge.score_types import get_score_type
from ioi_eval.problem.model import Subtask

ST = Subtask(index=0, name="s", points=30, tests=("a", "b", "c"), threshold=0.5)


@pytest.mark.parametrize(
    ("name", "outcomes", "points"),
    [
        ("GroupMin", [1, 0.5, 1], 15), ("GroupMin", [1, 1, 1], 30), ("GroupMin", [1, 0, 1], 0),
        ("GroupMul", [0.5, 0.5, 1], 7.5), ("Sum", [1, 0, 0.5], 15),
        ("GroupThreshold", [0.2, 0.5, 0.1], 30), ("GroupThreshold", [0.2, 0.6, 0.1], 0),
        ("GroupThreshold", [0.2, 0.0, 0.1], 0),
    ],
)
def test_score_types(name: str, outcomes: list[float], points: float) -> None:
    assert get_score_type(name).subtask_points(ST, outcomes) == pytest.approx(points)


def test_zero_decides() -> None:
    assert get_score_type("GroupMin").zero_decides and not get_score_type("Sum").zero_decides
    with pytest.raises(ValueError, match="unknown score type"):
        get_score_type("Nope")
