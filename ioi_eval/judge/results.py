"""Judging records: verdicts, per-test and per-subtask results, and the report of a submission."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class Verdict(str, Enum):
    """Per-test verdicts. SE is a judge failure and is never turned into a silent 0."""

    AC = "AC"
    PA = "PA"
    WA = "WA"
    TLE = "TLE"
    MLE = "MLE"
    RE = "RE"
    OLE = "OLE"
    CE = "CE"
    SKIPPED = "SKIPPED"
    SE = "SE"


def verdict_for_score(score: float) -> Verdict:
    """AC for full marks, PA for a fraction, WA for zero."""
    if score >= 1.0:
        return Verdict.AC
    return Verdict.PA if score > 0.0 else Verdict.WA


class TestResult(BaseModel):
    """The result of one test (run + check)."""

    __test__ = False  # not a pytest class

    name: str
    verdict: Verdict
    score: float = Field(0.0, ge=0.0, le=1.0)
    cpu_s: float = 0.0
    wall_s: float = 0.0
    memory_bytes: int = 0
    message: str = ""


class SubtaskResult(BaseModel):
    """Points of one subtask and the verdict that decided them."""

    name: str
    points: float
    score: float
    status: Verdict


class GroupResult(BaseModel):
    """A test data group as its grader aggregated it (problems scored by a Kattis group tree)."""

    name: str
    verdict: Verdict
    score: float = Field(description="the group's score in the package's units, as its grader gave it")
    message: str = ""


class CompileResult(BaseModel):
    """Outcome of compiling the submission."""

    ok: bool
    message: str = ""
    cached: bool = False
    cpu_s: float = 0.0
    wall_s: float = 0.0


class JudgeReport(BaseModel):
    """Everything the judge says about one submission to one problem (the ``--json`` output)."""

    problem: str
    score: float
    max_score: float
    compile: CompileResult
    subtasks: list[SubtaskResult]
    tests: list[TestResult]
    groups: list[GroupResult] = Field(default_factory=list, description="the graded groups, bottom-up (Kattis "
                                                                         "grading only)")

    def system_errors(self) -> list[TestResult | GroupResult]:
        """The tests that could not be judged (SE), then the groups whose grading failed."""
        return [t for t in self.tests if t.verdict == Verdict.SE] + [g for g in self.groups if g.verdict == Verdict.SE]

    @property
    def has_system_error(self) -> bool:
        """Whether any test could not be judged (the score is then not trustworthy)."""
        return bool(self.system_errors())

    def verdicts(self) -> set[Verdict]:
        """The distinct verdicts among the tests."""
        return {t.verdict for t in self.tests}


class ReportText:
    """A judge report as a run records it: its JSON (what the run store keeps), with the few facts a run reads
    before storing it (score, maximum, the first SE), so that the driver of a cluster need not parse 100 test
    results per submission only to write them back as JSON. :attr:`report` parses it on demand (once).

    Made by :meth:`of` from a report, or by the Ray judge actors on their node (:func:`facts`) and sent as is."""

    __slots__ = ("_report", "json", "max_score", "score", "system_error")

    def __init__(self, json: str, score: float, max_score: float, system_error: tuple[str, str] | None = None,
                 report: JudgeReport | None = None) -> None:
        self.json = json
        self.score = score
        self.max_score = max_score
        #: (test or group name, message) of the first test that could not be judged (SE); None when all were
        self.system_error = system_error
        self._report = report

    @classmethod
    def of(cls, report: JudgeReport) -> ReportText:
        """The text of a report at hand (keeps it: :attr:`report` costs nothing)."""
        score, max_score, system_error = facts(report)
        return cls(report.model_dump_json(), score, max_score, system_error, report)

    @property
    def report(self) -> JudgeReport:
        """The report itself, parsed on first use."""
        if self._report is None:
            self._report = JudgeReport.model_validate_json(self.json)
        return self._report

    @property
    def has_system_error(self) -> bool:
        """Whether any test could not be judged (as :attr:`JudgeReport.has_system_error`)."""
        return self.system_error is not None


def facts(report: JudgeReport) -> tuple[float, float, tuple[str, str] | None]:
    """(score, max score, (name, message) of its first SE or None): what :class:`ReportText` carries."""
    errors = report.system_errors()
    return report.score, report.max_score, (errors[0].name, errors[0].message) if errors else None
