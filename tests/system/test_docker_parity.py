"""Verdict parity: every bundled problem's reference solutions judged on ``--backend local`` and
``--backend docker`` get identical verdicts and scores (times may differ).

Skipping after a zero depends on which test finishes first, so per-test verdicts are compared on
the tests both backends ran; subtask scores, totals and every test's score are compared in full.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioi_eval.backends.docker_engine import DEFAULT_IMAGE, engine_available, image_exists
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types import TASK_TYPES
from ioi_eval.sources.loader import discover, load_problem
from tests.conftest import PROBLEMS
from tests.fixtures.strict import require

ROOTS = discover(PROBLEMS)


@pytest.fixture(scope="module")
def docker_judge() -> Iterator[Judge]:
    require(engine_available(), "no Docker engine answers (scripts/setup-docker starts one)")
    require(image_exists(DEFAULT_IMAGE), f"the judge image {DEFAULT_IMAGE} is missing (ioi-eval sandbox build)")
    with tempfile.TemporaryDirectory() as cache, Judge(backend="docker", cache_dir=Path(cache)) as j:
        yield j


@pytest.mark.slow
@pytest.mark.parametrize("root", ROOTS, ids=[r.name for r in ROOTS])
def test_local_and_docker_agree(judge, docker_judge: Judge, root: Path) -> None:
    problem = load_problem(root)
    assert problem.solutions
    for sol in problem.solutions:
        sub = Submission.from_path(sol.path, TASK_TYPES[problem.task_type].takes_code)
        local, docker = judge.judge(problem, sub), docker_judge.judge(problem, sub)
        where = f"{problem.code}/{sol.key}"
        assert docker.score == local.score, where
        assert [s.score for s in docker.subtasks] == [s.score for s in local.subtasks], where
        assert docker.compile.ok == local.compile.ok, where
        lt, dt = {t.name: t for t in local.tests}, {t.name: t for t in docker.tests}
        both = [n for n in lt if Verdict.SKIPPED not in (lt[n].verdict, dt[n].verdict)]
        assert both, where
        diff = {n: (lt[n].verdict.value, dt[n].verdict.value) for n in both
                if (lt[n].verdict, lt[n].score) != (dt[n].verdict, dt[n].score)}
        assert not diff, f"{where}: (local, docker) verdicts differ: {diff}"
