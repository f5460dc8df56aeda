"""IOI's submission limit: which of N generated solutions a contestant would have submitted.

At IOI a contestant may submit at most 50 times per problem and scores, on each subtask, the best
result among those submissions. With many generations per subtask we simulate a contestant's
choice as open-r1 did (``huggingface/ioi`` ``run_tests/selection_simulator.py``), without its bug:

1. Drop candidates with no code or that do not compile.
2. Group the rest by target subtask (whole-problem prompts: one group) and rank each group by the
   score on the samples subtask (the 0-point one, which a contestant sees), then the length of the
   reasoning and answer (longer first), then the sample index (for determinism).
3. Visit the groups round-robin, from the hardest subtask (the last, i.e. the full problem) down to
   the first, the whole-problem group first in each round, taking the best remaining candidate of
   each. A subtask already solved (full points) by a selected submission is skipped (open-r1 kept
   indices in its "solved" set and checked names, so it never skipped), as are 0-point subtasks.
4. Stop at ``cap`` submissions or when every group is exhausted or solved; fill the slots left with
   the best remaining candidates by global rank: samples score, length, harder target (as open-r1),
   then sample index.

IOI feedback shows the full result of every submission, so using the hidden tests' results to know
which subtasks are solved is what a contestant knows too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..judge.results import JudgeReport
from ..problem.model import Problem

_EPS = 1e-9


class Candidate(BaseModel):
    """One generated solution of a problem, as judged."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="unique id of the generation, e.g. 'towers/03-full/7'")
    target_subtask: str | None = Field(description="the subtask the prompt targeted; None: the whole problem")
    sample: int = Field(0, description="sample index within its prompt")
    has_code: bool = Field(description="code was extracted from the completion")
    compiled: bool = Field(description="the submission compiled (report.compile.ok)")
    subtask_scores: list[float] = Field(
        default_factory=list, description="points earned on each subtask of the problem, in subtask order")
    samples_score: float | None = Field(
        None, description="fraction in [0, 1] of the samples (0-point) subtask; None: no such subtask")
    length: int = Field(0, description="length of the reasoning and answer (tokens or characters)")

    @property
    def total(self) -> float:
        """The points of this submission alone (0 without code)."""
        return float(sum(self.subtask_scores)) if self.has_code and self.compiled else 0.0


def samples_score_of(report: JudgeReport, problem: Problem) -> float | None:
    """The fraction (0 to 1) a report earns on the problem's samples subtask (its first 0-point one).

    Computed from the tests (the minimum of their scores; a test missing from the report counts 0),
    since a 0-point subtask's points are always 0. None when the problem has no 0-point subtask.
    """
    samples = next((st for st in problem.subtasks if st.points == 0), None)
    if samples is None:
        return None
    if not report.compile.ok:
        return 0.0
    scores = {t.name: t.score for t in report.tests}
    return min((scores.get(name, 0.0) for name in samples.tests), default=0.0)


def _rank_key(c: Candidate) -> tuple[float, int, int, str]:
    """Sort key: samples score (high first), length (long first), sample, key."""
    return (-(c.samples_score or 0.0), -c.length, c.sample, c.key)


def _solved(c: Candidate, points: Sequence[float]) -> list[int]:
    """Indices of the subtasks (with points) that ``c`` gets full points on."""
    return [i for i, (s, p) in enumerate(zip(c.subtask_scores, points, strict=True)) if p > 0 and s >= p - _EPS]


def round_robin(queues: dict[int | None, deque[Candidate]], subtask_points: Sequence[float],
                cap: int) -> tuple[list[Candidate], list[int | None]]:
    """Rounds of one pick per queue until ``cap`` or no queue can give: whole-problem prompts (key None) first,
    then the subtasks (key: index) from the hardest down; a solved subtask's queue (and the whole-problem one once
    every subtask is solved) is passed over. Picks are taken off the queues, which keep the rest; returns the
    picks and the visiting order of a round."""
    order: list[int | None] = [None] if None in queues else []
    order += [i for i in range(len(subtask_points) - 1, -1, -1) if i in queues]
    solved = [p <= 0 for p in subtask_points]  # a 0-point subtask has nothing to win
    selected: list[Candidate] = []
    while len(selected) < cap:
        progressed = False
        for g in order:
            if len(selected) >= cap:
                break
            queue = queues[g]
            if not queue or (g is None and all(solved)) or (g is not None and solved[g]):
                continue
            pick = queue.popleft()
            selected.append(pick)
            progressed = True
            for i in _solved(pick, subtask_points):
                solved[i] = True
        if not progressed:
            break
    return selected, order


def select(candidates: Iterable[Candidate], subtask_names: list[str], subtask_points: list[float],
           cap: int = 50) -> list[Candidate]:
    """The candidates a contestant submits (at most ``cap``), in submission order.

    ``subtask_names`` and ``subtask_points`` describe the problem's subtasks in order; each usable
    candidate's ``subtask_scores`` must follow that order. Raises ValueError for a candidate whose
    target is not a subtask of the problem or whose scores do not match the subtasks.
    """
    if len(subtask_names) != len(subtask_points):
        raise ValueError("subtask_names and subtask_points differ in length")
    if cap <= 0:
        return []
    index = {name: i for i, name in enumerate(subtask_names)}
    usable: list[Candidate] = []
    for c in candidates:
        if not (c.has_code and c.compiled):
            continue
        if c.target_subtask is not None and c.target_subtask not in index:
            raise ValueError(f"{c.key}: target subtask {c.target_subtask!r} is not one of {subtask_names}")
        if len(c.subtask_scores) != len(subtask_names):
            raise ValueError(f"{c.key}: {len(c.subtask_scores)} subtask scores for {len(subtask_names)} subtasks")
        usable.append(c)

    groups: dict[int | None, deque[Candidate]] = {}
    for c in sorted(usable, key=_rank_key):
        groups.setdefault(None if c.target_subtask is None else index[c.target_subtask], deque()).append(c)
    selected, _ = round_robin(groups, subtask_points, cap)

    if len(selected) < cap:
        hardness = {name: i for i, name in enumerate(subtask_names)}
        rest = [c for q in groups.values() for c in q]
        rest.sort(key=lambda c: (-(c.samples_score or 0.0), -c.length,
                                 -(len(subtask_names) if c.target_subtask is None else hardness[c.target_subtask]),
                                 c.sample, c.key))
        selected.extend(rest[: cap - len(selected)])
    return selected


def _best_per_subtask(candidates: Iterable[Candidate]) -> list[float]:
    best: list[float] = []
    for c in candidates:
        if not (c.has_code and c.compiled):
            continue
        for i, s in enumerate(c.subtask_scores):
            if i < len(best):
                best[i] = max(best[i], s)
            else:
                best.append(s)
    return best


def problem_score(selected: Iterable[Candidate], precision: int = 2) -> float:
    """IOI's problem score: per subtask the best points among ``selected``, summed (rounded)."""
    return round(sum(_best_per_subtask(selected)), precision)


def oracle_score(all_candidates: Iterable[Candidate], precision: int = 2) -> float:
    """The problem score if every candidate were submitted (no limit)."""
    return problem_score(all_candidates, precision)


def mean_single_score(all_candidates: Iterable[Candidate], precision: int = 2) -> float:
    """The mean points of one submission; candidates without code (or not compiling) count 0."""
    cands = list(all_candidates)
    if not cands:
        return 0.0
    return round(sum(c.total for c in cands) / len(cands), precision)
