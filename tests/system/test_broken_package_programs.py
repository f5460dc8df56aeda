"""A package's own program that does not compile is the package's fault: SE naming the file, never a CE."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ioi_eval.errors import JudgeError
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types import TASK_TYPES
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS


def _towers(tmp_path: Path, grader_cpp: str | None = None, grader_py: str | None = None) -> Path:
    root = tmp_path / "towers"
    shutil.copytree(PROBLEMS / "towers", root)
    if grader_cpp is not None:
        (root / "graders" / "grader.cpp").write_text(grader_cpp)
    if grader_py is not None:
        (root / "graders" / "grader.py").write_text(grader_py)
    return root


def _solution(language: str) -> Path:
    """A correct towers solution in ``language`` (the package's model solution, or its Python one)."""
    solutions = PROBLEMS / "towers" / "solutions"
    return solutions / "model_solution" / "towers.cpp" if language == "cpp" else solutions / "correct" / "towers.py"


@pytest.mark.parametrize(("language", "broken"), [
    ("cpp", {"grader_cpp": "#include \"towers.h\"\nint main() { this is not C++; }\n"}),
    ("python", {"grader_py": "def main(:\n    pass\n"}),
])
def test_a_grader_that_does_not_compile_is_a_judge_error_not_a_ce(judge, tmp_path: Path, language: str,
                                                                  broken: dict) -> None:
    problem = load_problem(_towers(tmp_path, **broken))
    sub = Submission.from_path(_solution(language), TASK_TYPES[problem.task_type].takes_code)
    with pytest.raises(JudgeError, match=r"graders/grader\.(cpp|py) does not compile on its own"):
        judge.judge(problem, sub)


def test_a_contestant_compile_error_with_a_sound_grader_is_still_a_ce(judge, tmp_path: Path) -> None:
    problem = load_problem(_towers(tmp_path))
    bad = tmp_path / "towers.cpp"
    bad.write_text("#include \"towers.h\"\nint this_is_not_cpp(\n")
    report = judge.judge(problem, Submission.from_path(bad, True))
    assert not report.compile.ok and report.score == 0
    assert all(t.verdict.value == "CE" for t in report.tests)
