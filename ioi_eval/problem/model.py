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


class KattisGroup(BaseModel):
    """A Kattis test data group, for a problem scored by Kattis graders (``problem.json`` ``grading``).

    ``items`` are its test cases (CMS test names) and sub-groups in Kattis order; ``custom`` says whether
    the package's grader or the default grader aggregates them, called with ``flags``; a test scores
    ``accept_score`` when accepted and ``reject_score`` otherwise, unless the validator gave it a score;
    with ``on_reject: break`` the items after the first one not accepted are not graded. ``range``
    bounds the group's score (None: unbounded); ``subtask`` is the index of the subtask the group's
    score becomes, if any.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str
    custom: bool = False
    flags: tuple[str, ...] = ()
    accept_score: float = 1.0
    reject_score: float = 0.0
    on_reject: Literal["break", "continue"] = "break"
    range: tuple[float, float] | None = None
    subtask: int | None = None
    items: tuple[KattisGroup | str, ...] = ()

    def groups(self) -> list[KattisGroup]:
        """This group and every group below it, depth first."""
        out = [self]
        for item in self.items:
            if isinstance(item, KattisGroup):
                out += item.groups()
        return out

    def tests(self) -> list[str]:
        """Every test name below this group, once, in order."""
        seen: dict[str, None] = {}
        for item in self.items:
            for t in ([item] if isinstance(item, str) else item.tests()):
                seen.setdefault(t, None)
        return list(seen)


class GradingSpec(BaseModel):
    """How a problem's score is made from its tests' results, where it is not a sum of subtask scores.

    ``kattis``: the group tree ``root`` (Kattis' ``data`` folder) is aggregated bottom-up by the
    Kattis default grader or the package's grader ``source`` (``group_grader/grader.cpp`` or ``.py``);
    the root's score is the problem's score and each group that is a subtask gives its score.
    ``custom_score``: the validator's ``score.txt`` is a test's score (its outcome times the test's
    ``checker.test_max``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    protocol: Literal["kattis"] = "kattis"
    source: Path | None = None
    custom_score: bool = False
    root: KattisGroup


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
    grading: GradingSpec | None = Field(None, description="the score from a group tree (Kattis graders), not a sum "
                                                          "of subtask scores")

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
