"""Reward modes: what the judge runs for a target (a problem or one subtask), and how its report becomes a reward.

Every mode reads the same verdicts of the same strict judge; they differ only in which tests must run and in the
arithmetic. A mode is a small class with ``view(problem, subtask) -> (problem view, skip)`` and
``score(report) -> float``; :data:`MODES` is the only list of their names.

- ``binary``: 1.0 when every test of the target gets full marks, else 0.0. The target's tests form one GroupMin
  group, so judging stops at the first failing test.
- ``partial``: the fraction of the target's tests passed (full marks); every test runs.
- ``ioi``: the target subtask's points (or the whole problem's score) divided by its maximum. A subtask worth 0
  points (the samples) scores 1.0 when all its tests pass.
- ``codeforces``: open-r1's ``cf_code_reward`` scoring over the target's tests: ``pass_fail`` (1.0 when all pass),
  ``partial`` (the fraction passed) or ``weighted_sum`` (pass_fail + 0.1 x fraction, open-r1's default).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from ..errors import RewardConfigError
from ..judge.results import JudgeReport, TestResult, Verdict
from ..problem.model import Problem, Subtask

CfScoring = Literal["pass_fail", "partial", "weighted_sum"]
CF_SCORINGS: tuple[str, ...] = ("pass_fail", "partial", "weighted_sum")


def target_tests(problem: Problem, subtask: Subtask | None) -> tuple[str, ...]:
    """The tests of a target: the subtask's, or every test of the problem."""
    return tuple(subtask.tests) if subtask is not None else tuple(problem.test_order())


def one_group(problem: Problem, subtask: Subtask | None) -> Problem:
    """The target's tests as one GroupMin subtask worth 1 point (judging skips after the first zero)."""
    name = subtask.name if subtask is not None else "all"
    group = Subtask(index=0, name=name, points=1.0, tests=target_tests(problem, subtask))
    # A Kattis group tree (problem.grading) scores the whole problem; the one group here replaces it.
    return problem.model_copy(update={"subtasks": (group,), "score_type": "GroupMin", "scoring": "ioi",
                                      "grading": None})


def only_subtask(problem: Problem, subtask: Subtask | None) -> Problem:
    """The problem reduced to one subtask (its own points and score type), or the problem itself."""
    if subtask is None:
        return problem
    if problem.grading is not None and any(g.custom for g in problem.grading.root.groups()):
        # A custom grader aggregates the whole group tree; one subtask of it has no score of its own.
        raise RewardConfigError(f"{problem.code}: a subtask of a problem scored by a Kattis custom grader cannot "
                                "be judged alone in 'ioi' mode; target the whole problem")
    return problem.model_copy(update={"subtasks": (subtask.model_copy(update={"index": 0}),), "grading": None})


def passed(test: TestResult) -> bool:
    """A test passed: full marks."""
    return test.verdict == Verdict.AC or test.score >= 1.0


def pass_fraction(report: JudgeReport) -> float:
    """The fraction of the report's tests that passed."""
    return sum(passed(t) for t in report.tests) / len(report.tests) if report.tests else 0.0


class BinaryMode:
    """1.0 when every test of the target passes; judging stops at the first failure."""

    name: ClassVar[str] = "binary"

    def view(self, problem: Problem, subtask: Subtask | None) -> tuple[Problem, bool]:
        """The target as one group, judged with skipping."""
        return one_group(problem, subtask), True

    def score(self, report: JudgeReport) -> float:
        """1.0 or 0.0."""
        return 1.0 if report.compile.ok and report.tests and all(passed(t) for t in report.tests) else 0.0


class PartialMode:
    """The fraction of the target's tests passed; every test runs."""

    name: ClassVar[str] = "partial"

    def view(self, problem: Problem, subtask: Subtask | None) -> tuple[Problem, bool]:
        """The target as one group, judged without skipping."""
        return one_group(problem, subtask), False

    def score(self, report: JudgeReport) -> float:
        """Tests passed / tests."""
        return pass_fraction(report)


class IoiMode:
    """The target subtask's points (or the problem's score) over its maximum."""

    name: ClassVar[str] = "ioi"

    def view(self, problem: Problem, subtask: Subtask | None) -> tuple[Problem, bool]:
        """The problem reduced to the target subtask, judged the IOI way (skipping decided subtasks)."""
        return only_subtask(problem, subtask), True

    def score(self, report: JudgeReport) -> float:
        """Score / maximum; a 0-point target is 1.0 when all its tests pass."""
        if report.max_score <= 0:
            return 1.0 if report.tests and all(passed(t) for t in report.tests) else 0.0
        return max(0.0, min(1.0, report.score / report.max_score))


class CodeforcesMode:
    """open-r1's ``cf_code_reward`` modes over the target's tests."""

    name: ClassVar[str] = "codeforces"

    def __init__(self, scoring: str = "weighted_sum") -> None:
        if scoring not in CF_SCORINGS:
            raise RewardConfigError(f"unknown codeforces scoring {scoring!r}; known: {', '.join(CF_SCORINGS)}")
        self.scoring = scoring

    def view(self, problem: Problem, subtask: Subtask | None) -> tuple[Problem, bool]:
        """One group; pass_fail stops at the first failure, the others need every test."""
        return one_group(problem, subtask), self.scoring == "pass_fail"

    def score(self, report: JudgeReport) -> float:
        """pass_fail, partial, or pass_fail + 0.1 x partial."""
        fraction = pass_fraction(report)
        ok = 1.0 if report.tests and fraction >= 1.0 else 0.0
        if self.scoring == "pass_fail":
            return ok
        if self.scoring == "partial":
            return fraction
        return ok + 0.1 * fraction


MODES: dict[str, type] = {m.name: m for m in (BinaryMode, PartialMode, IoiMode, CodeforcesMode)}


def get_mode(name: str, cf_scoring: str = "weighted_sum") -> BinaryMode | PartialMode | IoiMode | CodeforcesMode:
    """The mode registered under ``name``."""
    if name not in MODES:
        raise RewardConfigError(f"unknown reward mode {name!r}; known: {', '.join(MODES)}")
    return CodeforcesMode(cf_scoring) if name == "codeforces" else MODES[name]()
