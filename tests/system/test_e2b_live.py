"""The E2B backend against the real service: runs only when ``E2B_API_KEY`` is set (a plain skip otherwise:
CI has no E2B account, so this is not a strict facility).

It needs the judge template (``ioi-eval sandbox build --e2b``; another name via ``IOI_EVAL_E2B_TEMPLATE``)
and checks: the parity of every bundled package's reference solutions between the local backend and
E2B (same verdict per test, same scores), and the whole adversarial suite judged on E2B.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioi_eval.adversarial import run_suite
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.validate import validate_problem
from ioi_eval.sources.loader import discover, load_problem
from tests.conftest import PROBLEMS

pytestmark = pytest.mark.skipif(not os.environ.get("E2B_API_KEY"), reason="E2B_API_KEY is not set")

ROOTS = discover(PROBLEMS)
WORKERS = int(os.environ.get("IOI_EVAL_E2B_TEST_WORKERS", "8"))


@pytest.fixture(scope="module")
def e2b_judge() -> Iterator[Judge]:
    with tempfile.TemporaryDirectory() as cache, Judge(backend="e2b", workers=WORKERS, cache_dir=Path(cache)) as j:
        yield j


def _outcome(report) -> tuple:
    return (report.score, report.compile.ok, [(t.name, t.verdict, round(t.score, 6)) for t in report.tests])


@pytest.mark.slow
@pytest.mark.parametrize("root", ROOTS, ids=[r.name for r in ROOTS])
def test_parity_with_local(judge, e2b_judge: Judge, root: Path) -> None:
    """Every reference solution: the same verdict per test and the same score as the local backend."""
    problem = load_problem(root)
    remote = validate_problem(e2b_judge, problem)
    local = validate_problem(judge, problem)
    bad = {c.solution.key: c.problems for c in remote if not c.ok}
    assert not bad, bad
    for r, loc in zip(remote, local, strict=True):
        assert _outcome(r.report) == _outcome(loc.report), r.solution.key


@pytest.mark.slow
def test_adversarial_suite_on_e2b() -> None:
    results = run_suite("e2b", workers=4)
    failed = {r.name: r.problems for r in results if not r.held}
    assert not failed, failed
