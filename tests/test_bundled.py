"""The fidelity test of the judge: every bundled package's reference solutions score exactly as
their category and ``solutions/expected.json`` say."""

from __future__ import annotations

import pytest

from ioi_eval.problem.loader import discover, load_problem
from ioi_eval.validate import validate_problem

from .conftest import PROBLEMS

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
