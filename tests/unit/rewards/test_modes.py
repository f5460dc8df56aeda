"""Reward modes against hand-computed values, on hand-made reports (no box)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioi_eval.errors import RewardConfigError
from ioi_eval.judge.results import CompileResult, JudgeReport, SubtaskResult, TestResult, Verdict
from ioi_eval.judge.task_types.params import TaskParams
from ioi_eval.problem.model import CheckerSpec, Problem, Subtask, TestCase
from ioi_eval.rewards.modes import get_mode


def report(verdicts: list[str], score: float = 0.0, max_score: float = 100.0, compiled: bool = True) -> JudgeReport:
    tests = [TestResult(name=f"t{i}", verdict=Verdict(v), score=1.0 if v == "AC" else (0.5 if v == "PA" else 0.0))
             for i, v in enumerate(verdicts)]
    return JudgeReport(problem="p", score=score, max_score=max_score, compile=CompileResult(ok=compiled),
                       subtasks=[SubtaskResult(name="s", points=max_score, score=score, status=Verdict.AC)],
                       tests=tests)


def problem() -> Problem:
    tests = {n: TestCase(name=n, input=Path(f"/x/{n}.in"), output=Path(f"/x/{n}.out")) for n in ("a", "b", "c", "d")}
    return Problem(code="p", name="p", root=Path("/x"), time_limit=1.0, memory_limit=1 << 28, task_type="Batch",
                   params=TaskParams(), score_type="Sum", tests=tests, checker=CheckerSpec(),
                   subtasks=(Subtask(index=0, name="00-samples", points=0, tests=("a",)),
                             Subtask(index=1, name="01-small", points=40, tests=("a", "b")),
                             Subtask(index=2, name="02-full", points=60, tests=("a", "b", "c", "d"))))


@pytest.mark.parametrize(("mode", "verdicts", "score", "expected"), [
    ("binary", ["AC", "AC", "AC", "AC"], 100, 1.0),
    ("binary", ["AC", "WA", "SKIPPED", "SKIPPED"], 40, 0.0),
    ("binary", ["AC", "PA", "AC", "AC"], 50, 0.0),          # partial credit on one test is not a pass
    ("partial", ["AC", "WA", "AC", "TLE"], 40, 0.5),        # 2 of 4 passed
    ("partial", ["AC", "PA", "AC", "AC"], 90, 0.75),        # PA is not passed
    ("ioi", ["AC", "AC", "WA", "AC"], 40, 0.4),             # 40 of 100 points
    ("ioi", ["AC", "AC", "AC", "AC"], 100, 1.0),
    ("codeforces", ["AC", "AC", "WA", "AC"], 0, 0.075),     # weighted_sum: 0 + 0.1 x 3/4
    ("codeforces", ["AC", "AC", "AC", "AC"], 0, 1.1),       # 1 + 0.1 x 1
])
def test_mode_scores(mode: str, verdicts: list[str], score: float, expected: float) -> None:
    assert get_mode(mode).score(report(verdicts, score)) == pytest.approx(expected)


@pytest.mark.parametrize(("scoring", "expected"), [("pass_fail", 0.0), ("partial", 0.75), ("weighted_sum", 0.075)])
def test_codeforces_scorings(scoring: str, expected: float) -> None:
    assert get_mode("codeforces", scoring).score(report(["AC", "AC", "WA", "AC"])) == pytest.approx(expected)


def test_compile_error_is_zero_in_every_mode() -> None:
    ce = report(["CE", "CE"], compiled=False)
    assert [get_mode(m).score(ce) for m in ("binary", "partial", "ioi", "codeforces")] == [0.0] * 4


def test_zero_point_subtask_in_ioi_mode() -> None:
    assert get_mode("ioi").score(report(["AC"], 0, max_score=0)) == 1.0
    assert get_mode("ioi").score(report(["WA"], 0, max_score=0)) == 0.0


def test_views_run_only_the_target() -> None:
    p = problem()
    small = p.subtasks[1]
    view, skip = get_mode("binary").view(p, small)
    assert skip and view.test_order() == ["a", "b"] and view.score_type == "GroupMin" and view.max_score == 1
    view, skip = get_mode("partial").view(p, None)
    assert not skip and view.test_order() == ["a", "b", "c", "d"]
    view, skip = get_mode("ioi").view(p, small)
    assert skip and [s.name for s in view.subtasks] == ["01-small"] and view.max_score == 40
    assert view.score_type == "Sum"  # the problem's own scoring stays
    assert get_mode("ioi").view(p, None)[0] is p
    assert get_mode("codeforces", "pass_fail").view(p, None)[1] is True
    assert get_mode("codeforces").view(p, None)[1] is False


def test_unknown_modes_fail_clearly() -> None:
    with pytest.raises(RewardConfigError, match=r"unknown reward mode 'exact'.*binary"):
        get_mode("exact")
    with pytest.raises(RewardConfigError, match="unknown codeforces scoring"):
        get_mode("codeforces", "sum")


def test_test_cases_that_are_not_json_are_a_clear_error() -> None:
    from ioi_eval.rewards.targets import _test_cases

    with pytest.raises(RewardConfigError, match="test_cases is not valid JSON"):
        _test_cases({"test_cases": "[{not json"})
