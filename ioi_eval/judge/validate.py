"""``problems validate``: judge every reference solution of a package and check its category.

This is how package authors check a package, and the fidelity test of the judge itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..problem.model import Problem, Solution
from .judge import Judge
from .results import JudgeReport, Verdict
from .submission import Submission
from .task_types import TASK_TYPES

EPS = 1e-6


def _some(report: JudgeReport, *verdicts: Verdict) -> bool:
    return any(t.verdict in verdicts for t in report.tests)


def _manager_zero(report: JudgeReport) -> bool:
    # A protocol violation is a test the manager itself scored 0 (WA), or a process killed for it.
    return any(t.verdict in (Verdict.WA, Verdict.RE) and t.score == 0 for t in report.tests)


CATEGORY_RULES: dict[str, tuple[str, Callable[[JudgeReport], bool]]] = {
    "model_solution": ("full score", lambda r: r.score >= r.max_score - EPS),
    "correct": ("full score", lambda r: r.score >= r.max_score - EPS),
    "incorrect": ("less than full score", lambda r: r.score < r.max_score - EPS),
    "failed": ("less than full score", lambda r: r.score < r.max_score - EPS),
    "partially_correct": ("a score strictly between 0 and full",
                          lambda r: EPS < r.score < r.max_score - EPS),
    "time_limit": ("some test TLE", lambda r: _some(r, Verdict.TLE)),
    "memory_limit": ("some test MLE", lambda r: _some(r, Verdict.MLE)),
    "runtime_error": ("some test RE", lambda r: _some(r, Verdict.RE)),
    "protocol_violation": ("some test scored 0 by the manager", _manager_zero),
}


@dataclass
class SolutionCheck:
    """The outcome of validating one reference solution."""

    solution: Solution
    report: JudgeReport
    ok: bool
    problems: list[str]


def check_solution(problem: Problem, solution: Solution, report: JudgeReport) -> SolutionCheck:
    """Compare a solution's report with what its category (and expected.json) promise."""
    issues = []
    if report.has_system_error:
        bad = report.system_errors()[0]
        issues.append(f"judge error on test {bad.name}: {bad.message}")
    if not report.compile.ok:
        issues.append(f"does not compile: {report.compile.message[:300]}")
    rule = CATEGORY_RULES.get(solution.category)
    if rule is not None and not rule[1](report):
        issues.append(f"category {solution.category} expects {rule[0]}, got {report.score:g}/{report.max_score:g} "
                      f"({', '.join(sorted(v.value for v in report.verdicts()))})")
    tolerance = 10 ** -problem.score_precision / 2
    if solution.expected_score is not None and abs(report.score - solution.expected_score) > tolerance:
        issues.append(f"expected score {solution.expected_score:g}, got {report.score:g}")
    return SolutionCheck(solution, report, not issues, issues)


def validate_problem(judge: Judge, problem: Problem,
                     on_result: Callable[[SolutionCheck], None] | None = None,
                     on_judged: Callable[[], None] | None = None) -> list[SolutionCheck]:
    """Judge every reference solution of ``problem`` (concurrently), in package order.

    ``on_judged`` is called as each solution's judging ends (progress); ``on_result`` with each check, in order."""
    takes_code = TASK_TYPES[problem.task_type].takes_code
    subs = [Submission.from_path(sol.path, takes_code) for sol in problem.solutions]
    reports = judge.judge_many([(problem, s) for s in subs],
                               on_report=None if on_judged is None else lambda report: on_judged())
    checks = []
    for sol, sub, report in zip(problem.solutions, subs, reports, strict=True):
        check = check_solution(problem, sol, report)
        if not check.ok and Verdict.SKIPPED in report.verdicts():
            # The verdict a category looks for may sit in a test that skipping never ran.
            report = judge.judge(problem, sub, skip=False)
            check = check_solution(problem, sol, report)
        checks.append(check)
        if on_result is not None:
            on_result(check)
    return checks
