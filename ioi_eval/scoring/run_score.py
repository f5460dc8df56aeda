"""Scores of a run: IOI's 50-submission rule per problem, the oracle and the mean single submission.

Problems scored the Codeforces way (``"scoring": "codeforces"``) also get solved / pass@k / partial
fraction (:mod:`ioi_eval.scoring.codeforces`); the IOI figures of the others are unchanged.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..judge.results import JudgeReport
from ..problem.model import Problem
from ..record.metadata import RunMetadata
from ..record.store import RunStore, Sample
from .bootstrap import Interval, bootstrap_ci
from .codeforces import CodeforcesScore, CodeforcesSummary, score_samples, summarise
from .selection import Candidate, mean_single_score, oracle_score, problem_score, samples_score_of, select


class SubtaskScore(BaseModel):
    """Best points on one subtask among the selected submissions."""

    name: str
    points: float
    best: float


class ProblemScore(BaseModel):
    """One problem's scores in a run."""

    problem: str
    max_score: float
    score: float
    oracle: float
    mean_single: float
    mean_single_ci: Interval | None = Field(None, description="95% bootstrap interval of mean_single over samples "
                                                              "(None: no samples)")
    subtasks: list[SubtaskScore]
    generations: int
    failed_generations: int
    no_code: int
    judged: int
    submissions_used: int
    codeforces: CodeforcesScore | None = None  # problems scored the Codeforces way


class RunScore(BaseModel):
    """A run's scores over its problem set."""

    model: str
    total: float
    max_total: float
    oracle_total: float
    mean_single_total: float
    mean_single_total_ci: Interval | None = Field(None, description="95% bootstrap interval of mean_single_total")
    problems: list[ProblemScore]
    codeforces: CodeforcesSummary | None = None
    metadata: RunMetadata | None = Field(None, description="how the run was made (ioi_eval.record.metadata); None "
                                                           "in summaries written before it existed")


def _candidate(sample: Sample, problem: Problem) -> Candidate | None:
    if not sample.done:
        return None
    g, report = sample.generation, sample.report
    return Candidate(
        key=g.key, target_subtask=g.subtask, sample=g.sample, has_code=sample.has_code,
        compiled=bool(report and report.compile.ok),
        subtask_scores=[s.score for s in report.subtasks] if report else [0.0] * len(problem.subtasks),
        samples_score=samples_score_of(report, problem) if report else None,
        length=len(g.reasoning or "") + len(g.text or ""),
    )


def score_run(store: RunStore, problems: dict[str, Problem], model: str, cap: int = 50) -> RunScore:
    """Score every problem of the run from what the store holds."""
    by_problem: dict[str, list[Sample]] = {}
    for sample in store.samples():
        by_problem.setdefault(sample.problem, []).append(sample)
    out = []
    all_groups: list[list[list[float]]] = []
    for code, problem in problems.items():
        samples = by_problem.get(code, [])
        cands = [c for c in (_candidate(s, problem) for s in samples) if c is not None]
        names = [st.name for st in problem.subtasks]
        points = [st.points for st in problem.subtasks]
        chosen = select(cands, names, points, cap=min(cap, problem.max_submissions))
        best = [max((c.subtask_scores[i] for c in chosen), default=0.0) for i in range(len(names))]
        groups = _groups(cands)
        all_groups.append(groups)
        out.append(ProblemScore(
            problem=code, max_score=problem.max_score,
            score=problem_score(chosen, problem.score_precision), oracle=oracle_score(cands),
            mean_single=mean_single_score(cands), mean_single_ci=bootstrap_ci([groups]),
            subtasks=[SubtaskScore(name=n, points=p, best=b) for n, p, b in zip(names, points, best, strict=True)],
            generations=len(samples), failed_generations=sum(1 for s in samples if s.failed),
            no_code=sum(1 for s in samples if s.no_code),
            judged=sum(1 for s in samples if s.judged), submissions_used=len(chosen),
            codeforces=_codeforces(samples) if problem.scoring == "codeforces" else None))
    return RunScore(model=model, total=round(sum(p.score for p in out), 2),
                    max_total=sum(p.max_score for p in out), oracle_total=round(sum(p.oracle for p in out), 2),
                    mean_single_total=round(sum(p.mean_single for p in out), 2),
                    mean_single_total_ci=bootstrap_ci(all_groups), problems=out,
                    codeforces=summarise([p.codeforces for p in out if p.codeforces is not None]))


def _groups(cands: list[Candidate]) -> list[list[float]]:
    """The candidates' points grouped by the prompt they answered (the bootstrap's strata)."""
    groups: dict[str | None, list[float]] = {}
    for c in cands:
        groups.setdefault(c.target_subtask, []).append(c.total)
    return list(groups.values())


def _codeforces(samples: list[Sample]) -> CodeforcesScore | None:
    """Solved / pass@k / partial over a problem's judged samples (no code = a failed sample)."""
    reports: list[JudgeReport | None] = []
    for sample in samples:
        if not sample.done:
            continue
        if sample.judged:
            reports.append(sample.report)
        elif sample.no_code:
            reports.append(None)  # nothing to judge: a failure; rows judged (or extracted) later are left out
    return score_samples(reports) if reports else None
