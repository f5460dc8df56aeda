"""What every selection strategy shares: the pool of one problem's samples, the protocol, the outcome.

A strategy picks, from the judged samples of one problem, which ones a contestant would submit under a
budget of submissions; the problem's score is then IOI's: per subtask the best points among those
submitted. Each strategy declares the information it uses:

* ``public``: what a contestant has during the contest: the statement, the samples subtask (its inputs and
  expected outputs), inputs it generates itself, and the feedback on submissions it made (IOI shows the full
  result of every submission, so "this subtask is solved" is public once a submission solved it);
* ``hidden``: the result of any test of a scored subtask of a sample it did not submit. A hidden strategy is
  a ceiling, never a contest result, and every table labels it so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from ..judge.results import JudgeReport
from ..problem.model import Problem
from ..record.store import Sample
from ..scoring.selection import Candidate, samples_score_of

Information = Literal["public", "hidden"]
_EPS = 1e-9


@dataclass(frozen=True)
class Entry:
    """One sample of a problem as the strategies see it.

    ``candidate`` is the record today's selection rule takes (scores in points per subtask, samples score,
    length); ``fractions`` the score of each subtask as a fraction in [0, 1] (a 0-point subtask's from its
    tests), as open-r1 keeps them; ``tokens`` the completion's token count when the engine gave one.
    """

    candidate: Candidate
    fractions: tuple[float, ...]
    tokens: int | None = None
    generation_chars: int = 0

    @property
    def key(self) -> str:
        """The sample's key."""
        return self.candidate.key

    @property
    def usable(self) -> bool:
        """It has code that compiled (a contestant would not submit anything else)."""
        return self.candidate.has_code and self.candidate.compiled


@dataclass
class Pool:
    """One problem of one run: its subtasks and every finished sample, plus behaviour on extra inputs.

    ``behaviour`` maps a sample key to its outcome on each extra input (one fingerprint per input, in the
    order of ``inputs_note``'s inputs); it is filled only for strategies that ask for it (``needs_behaviour``).
    """

    problem: str
    names: list[str]
    points: list[float]
    precision: int
    entries: list[Entry]
    samples_index: int | None  # the samples subtask (the first 0-point one); None: the problem has none
    behaviour: dict[str, tuple[str, ...]] = field(default_factory=dict)
    inputs_note: str = ""

    @property
    def candidates(self) -> list[Candidate]:
        """The candidates of every entry, in the pool's order."""
        return [e.candidate for e in self.entries]

    def score(self, chosen: Sequence[Candidate]) -> float:
        """IOI's problem score of the submitted ``chosen``: per subtask the best points, summed (rounded)."""
        best = [0.0] * len(self.names)
        for c in chosen:
            if not (c.has_code and c.compiled):
                continue
            for i, s in enumerate(c.subtask_scores):
                best[i] = max(best[i], s)
        return round(sum(best), self.precision)

    def passes_samples(self, entry: Entry) -> bool:
        """The entry compiled and passed every test of the samples subtask (True when there is none)."""
        if not entry.usable:
            return False
        return self.samples_index is None or entry.fractions[self.samples_index] >= 1.0 - _EPS


@dataclass(frozen=True)
class Outcome:
    """A strategy's result on one problem at one budget.

    ``points`` is the score (for a random strategy, the mean over its draws, with ``low``/``high`` the
    central 95 % of the draws and ``draws`` every draw's score, for intervals over the total); ``submitted``
    the submissions it made (the mean for a random one); ``note`` what the reader should know (a fallback).
    """

    points: float
    submitted: float
    low: float | None = None
    high: float | None = None
    draws: tuple[float, ...] = ()
    note: str = ""


class Strategy(Protocol):
    """One way of choosing submissions. ``information`` says what it uses (see the module's docstring)."""

    name: ClassVar[str]
    information: ClassVar[Information]
    summary: ClassVar[str]
    needs_behaviour: ClassVar[bool]

    def outcome(self, pool: Pool, budget: int | None, seed: int) -> Outcome:
        """The strategy's result on ``pool`` with at most ``budget`` submissions (None: no limit)."""
        ...


def entry_of(sample: Sample, problem: Problem) -> Entry | None:
    """The pool entry of a finished sample (None for a generation not finished or not yet extracted/judged).

    A sample with code but no report yet is left out: its result is not known (``ioi-eval run`` resumes it).
    """
    if not sample.done or sample.judgement is None:
        return None
    if sample.has_code and not sample.judged:
        return None
    g, report = sample.generation, sample.report
    n = len(problem.subtasks)
    candidate = Candidate(
        key=g.key, target_subtask=g.subtask, sample=g.sample, has_code=sample.has_code,
        compiled=bool(report and report.compile.ok),
        subtask_scores=[s.score for s in report.subtasks] if report else [0.0] * n,
        samples_score=samples_score_of(report, problem) if report else None,
        length=len(g.reasoning or "") + len(g.text or ""))
    return Entry(candidate=candidate, fractions=fractions_of(report, problem) if report else (0.0,) * n,
                 tokens=g.completion_tokens, generation_chars=len(g.reasoning or "") + len(g.text or ""))


def fractions_of(report: JudgeReport, problem: Problem) -> tuple[float, ...]:
    """Each subtask's score as a fraction in [0, 1]: points / max, or from the tests for a 0-point subtask."""
    if not report.compile.ok:
        return (0.0,) * len(problem.subtasks)
    tests = {t.name: t.score for t in report.tests}
    out = []
    for st, res in zip(problem.subtasks, report.subtasks, strict=True):
        if st.points > 0:
            out.append(min(1.0, res.score / st.points))
        else:
            out.append(min((tests.get(name, 0.0) for name in st.tests), default=0.0))
    return tuple(out)


def make_pool(problem: Problem, samples: Sequence[Sample]) -> Pool:
    """The pool of ``problem`` from its samples in a run."""
    entries = [e for e in (entry_of(s, problem) for s in samples) if e is not None]
    return Pool(problem=problem.code, names=[st.name for st in problem.subtasks],
                points=[st.points for st in problem.subtasks], precision=problem.score_precision, entries=entries,
                samples_index=next((i for i, st in enumerate(problem.subtasks) if st.points == 0), None))
