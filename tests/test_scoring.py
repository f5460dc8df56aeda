"""Score types and the multi-submission rule."""

from __future__ import annotations

import pytest

from ioi_eval.judge.results import CompileResult, JudgeReport, SubtaskResult, Verdict
from ioi_eval.problem.model import Subtask
from ioi_eval.scoring import best_of_submissions, get_score_type

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


def _report(scores: list[float]) -> JudgeReport:
    return JudgeReport(problem="p", score=sum(scores), max_score=100, compile=CompileResult(ok=True),
                       subtasks=[SubtaskResult(name=str(i), points=50, score=s, status=Verdict.AC)
                                 for i, s in enumerate(scores)], tests=[])


def test_best_of_submissions_takes_best_subtask_each() -> None:
    reports = [_report([50, 0]), _report([0, 50]), _report([10, 10])]
    assert best_of_submissions(reports) == 100
    assert best_of_submissions(reports, cap=1) == 50
    assert best_of_submissions([]) == 0
    with pytest.raises(ValueError):
        best_of_submissions(reports, cap=0)
