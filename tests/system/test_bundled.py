"""The fidelity test of the judge: every bundled package's reference solutions score exactly as
their category and ``solutions/expected.json`` say."""

from __future__ import annotations

import pytest

from ioi_eval.judge.validate import validate_problem
from ioi_eval.sources.loader import discover, load_problem
from tests.conftest import PROBLEMS

ROOTS = discover(PROBLEMS)


@pytest.mark.slow
@pytest.mark.parametrize("root", ROOTS, ids=[r.name for r in ROOTS])
def test_reference_solutions(judge, root) -> None:
    problem = load_problem(root)
    assert problem.solutions
    assert all(s.expected_score is not None for s in problem.solutions), "expected.json incomplete"
    checks = validate_problem(judge, problem)
    bad = {c.solution.key: c.problems for c in checks if not c.ok}
    assert not bad, bad


OFFICIAL = {"aplusb-CMS.zip": None, "machine-CMS.zip": "model_solution", "message-CMS.zip": "model_solution",
            "sphinx-CMS.zip": "model_solution"}


@pytest.mark.slow
@pytest.mark.real_packages
@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_ioi2024_packages(judge, name: str) -> None:
    """The official IOI 2024 packages judged as they are (secrets, graders, managers, testlib checkers).

    They are fetched for local validation only and never committed: skipped when absent.
    """
    from ioi_eval.judge.submission import Submission
    from ioi_eval.judge.task_types import TASK_TYPES
    from tests.conftest import IOI2024

    path = IOI2024 / name
    if not path.is_file() or path.stat().st_size == 0:
        pytest.skip(f"{path} not fetched")
    problem = load_problem(path)
    only = OFFICIAL[name]
    if only is None:  # small enough to check every reference solution against its category
        checks = validate_problem(judge, problem)
        assert all(c.ok for c in checks), {c.solution.key: c.problems for c in checks if not c.ok}
        return
    for sol in (s for s in problem.solutions if s.category == only):
        report = judge.judge(problem, Submission.from_path(sol.path, TASK_TYPES[problem.task_type].takes_code))
        assert report.score == report.max_score, (sol.key, [t for t in report.tests if t.verdict.value != "AC"][:3])
