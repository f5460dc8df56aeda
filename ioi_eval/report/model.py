"""The leaderboard as data: one pydantic model, written as ``leaderboard.json`` and rendered by every format."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..scoring.medals import Award
from ..scoring.bootstrap import Interval

#: Verdict columns in display order. NC: no code could be extracted from the completion. SE: the
#: judge could not judge it (a judge error, retried when the run is resumed).
VERDICTS = ("AC", "PA", "WA", "TLE", "MLE", "RE", "OLE", "CE", "NC", "SE", "SKIPPED")


class SubtaskStats(BaseModel):
    """One subtask of one problem in one run."""

    name: str
    points: float
    best: float = Field(description="best points among the (at most 50) selected submissions")
    oracle: float = Field(description="best points among all judged submissions")
    mean: float = Field(description="mean points of one submission (no code, not compiling: 0)")
    verdicts: dict[str, int] = Field(description="submissions by the verdict that decided this subtask")


class ProblemResult(BaseModel):
    """One problem in one run."""

    problem: str
    max_score: float
    score: float = Field(description="IOI score: best per subtask among the selected submissions, summed")
    oracle: float
    mean_single: float
    mean_single_ci: Interval | None = Field(description="bootstrap interval of mean_single (None: no samples)")
    samples: int = Field(description="finished generations (the samples behind mean_single)")
    generations: int
    failed_generations: int
    no_code: int
    unjudged: int
    submissions_used: int
    subtasks: list[SubtaskStats]
    verdicts: dict[str, int] = Field(description="submissions by overall verdict (see submission_verdict)")
    test_verdicts: dict[str, int] = Field(description="test results by verdict, over all judged submissions")


class Entry(BaseModel):
    """One run (one model) on the leaderboard."""

    id: str = Field(description="unique, file-name-safe; the model page is models/<id>.html")
    rank: int
    label: str
    model: str
    engine: str
    run_dir: str
    per: str
    samples: int = Field(description="samples per prompt")
    language: str
    complete: bool = Field(description="every generation finished and every submission judged")
    notes: list[str] = Field(default_factory=list)
    total: float
    max_total: float
    oracle_total: float
    mean_single_total: float
    mean_single_ci: Interval | None
    submissions_used: int
    award: Award | None
    problems: list[ProblemResult]
    verdicts: dict[str, int]

    def problem(self, code: str) -> ProblemResult | None:
        """This run's result on a problem (None: not in its problem set)."""
        return next((p for p in self.problems if p.problem == code), None)


class SubtaskInfo(BaseModel):
    """A subtask as the runs describe it."""

    name: str
    points: float


class ProblemInfo(BaseModel):
    """A problem of the leaderboard (the union of the runs' problem sets)."""

    code: str
    max_score: float
    subtasks: list[SubtaskInfo]


class Leaderboard(BaseModel):
    """Every run, ranked by total score (then mean single-submission score)."""

    schema_version: int = 1
    confidence: float
    resamples: int
    seed: int
    verdict_order: list[str] = Field(default_factory=lambda: list(VERDICTS))
    problems: list[ProblemInfo]
    entries: list[Entry]
    notes: list[str] = Field(default_factory=list, description="caveats about the whole board")
