"""The in-memory model of a problem package (what the loader produces, what the judge consumes).

Task types are plug-ins of the judge: a problem names its task type and holds that type's parameters,
but what they mean is the task type's business (``ioi_eval/judge/task_types``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ioi_box.protocol import Comparator
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

ScoringName = Literal["ioi", "codeforces"]

SOLUTION_CATEGORIES = (
    "model_solution", "correct", "incorrect", "partially_correct", "time_limit", "memory_limit",
    "runtime_error", "protocol_violation", "failed",
)


class TestCase(BaseModel):
    """One test: its input and expected output files."""

    model_config = ConfigDict(frozen=True)
    __test__ = False  # not a pytest class

    name: str
    input: Path
    output: Path | None


class Subtask(BaseModel):
    """A group of tests worth ``points``; tests are shared between subtasks."""

    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    points: float
    tests: tuple[str, ...]
    threshold: float | None = Field(None, description="GroupThreshold parameter")
    score_type: str | None = Field(None, description="overrides the problem's score type for this subtask (a name "
                                                     "of ioi_eval.judge.score_types.SCORE_TYPES)")


class CheckerSpec(BaseModel):
    """How outputs are checked: a package checker (CMS, testlib or Kattis protocol) or a standard one.

    For the Kattis protocol (``validator input answer feedback_dir [args] < output``, exit 42/43),
    ``args`` are the validator flags, ``test_args`` per-test replacements of them, and a
    ``score.txt`` is read as a fraction of ``test_max[test]`` (``score_file: absolute``) or as a
    multiplier in [0, 1] (``multiplier``); a ``score_multiplier.txt`` is always a multiplier. A test whose
    maximum is 0 (a sample, worth no points) is accepted whatever ``score.txt`` says.

    ``source`` is ``checker/checker.cpp`` (compiled) or ``checker/checker.py`` (run by python3).
    """

    model_config = ConfigDict(frozen=True)

    source: Path | None = None
    protocol: Literal["cms", "testlib", "kattis"] = "cms"
    standard: Comparator = "white_diff"
    abs_tol: float = 1e-6
    rel_tol: float = 1e-6
    args: tuple[str, ...] = ()
    test_args: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    score_file: Literal["absolute", "multiplier"] = "multiplier"
    test_max: dict[str, float] = Field(default_factory=dict)


class Solution(BaseModel):
    """A reference solution shipped in ``solutions/<category>/``."""

    model_config = ConfigDict(frozen=True)

    category: str
    path: Path
    expected_score: float | None = None

    @property
    def key(self) -> str:
        """``<category>/<file>``, the key used in ``solutions/expected.json``."""
        return f"{self.category}/{self.path.name}"


class Problem(BaseModel):
    """A loaded problem package."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    root: Path
    time_limit: float
    memory_limit: int
    score_precision: int = 2
    task_type: str = Field(description="a name in the task-type registry (judge/task_types), checked by the loader")
    params: SerializeAsAny[BaseModel] = Field(
        description="the task type's validated ``Params`` (a judge/task_types/params.py TaskParams)")
    score_type: str = Field("GroupMin", description="a name of ioi_eval.judge.score_types.SCORE_TYPES")
    subtasks: tuple[Subtask, ...]
    tests: dict[str, TestCase]
    checker: CheckerSpec
    grader_files: tuple[Path, ...] = ()
    statement: str | None = None
    solutions: tuple[Solution, ...] = ()
    max_submissions: int = 50
    scoring: ScoringName = Field("ioi", description="how a run scores it: IOI subtasks or Codeforces solved/pass@k")
    defines: tuple[str, ...] = Field((), description="macros defined in contestant C++ compiles, e.g. ONLINE_JUDGE")

    @property
    def max_score(self) -> float:
        """Total points of the problem."""
        return float(sum(s.points for s in self.subtasks))

    @property
    def graders_dir(self) -> Path:
        """The package's ``graders/`` folder."""
        return self.root / "graders"

    def grader(self, name: str) -> Path | None:
        """A file of ``graders/`` by name, if the package has it."""
        p = self.graders_dir / name
        return p if p.is_file() else None

    def test_order(self) -> list[str]:
        """Every test used by some subtask, once, in subtask order."""
        seen: dict[str, None] = {}
        for st in self.subtasks:
            for t in st.tests:
                seen.setdefault(t, None)
        return list(seen)
