"""The leaderboard as data: one pydantic model, written as ``leaderboard.json`` and rendered by every format."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..record.metadata import ProblemSetIdentity, RunMetadata
from ..scoring.bootstrap import Interval
from ..scoring.medals import Award

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
    rank: int | None = Field(description="1 = best among complete runs; None: an incomplete run, not ranked")
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
    metadata: RunMetadata | None = Field(None, description="how the run was made (None: a store without a config)")

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
    name: str | None = None
    task_type: str | None = None
    time_limit: float | None = Field(None, description="seconds")
    memory_limit: int | None = Field(None, description="bytes")
    statement: str | None = Field(None, description="Markdown, as the package ships it")


class Leaderboard(BaseModel):
    """Every run, ranked by total score (then mean single-submission score)."""

    schema_version: int = 2
    ioi_eval_version: str = Field(description="the version that built this board")
    generated_at: datetime
    problem_sets: list[ProblemSetIdentity] = Field(default_factory=list, description="the runs' problem sets, "
                                                                                     "each once")
    confidence: float
    resamples: int
    seed: int
    verdict_order: list[str] = Field(default_factory=lambda: list(VERDICTS))
    problems: list[ProblemInfo]
    entries: list[Entry]
    notes: list[str] = Field(default_factory=list, description="caveats about the whole board")

    @property
    def ranked(self) -> list[Entry]:
        """The complete runs, best first."""
        return [e for e in self.entries if e.rank is not None]

    @property
    def unranked(self) -> list[Entry]:
        """The incomplete runs (listed apart, not ranked)."""
        return [e for e in self.entries if e.rank is None]

    def set_versions(self) -> dict[str, list[str]]:
        """Each problem set's name and its versions (content digests, short) among the runs."""
        out: dict[str, list[str]] = {}
        for p in self.problem_sets:
            versions = out.setdefault(p.name, [])
            if p.version and p.version not in versions:
                versions.append(p.version)
        return out

    @property
    def title(self) -> str:
        """The board's title: its problem set(s) and, where the runs agree on one, its version."""
        if not self.problem_sets:
            return "Leaderboard"
        names = ", ".join(name + (f" @ {v[0]}" if len(v) == 1 else "") for name, v in self.set_versions().items())
        return f"{names} leaderboard"
