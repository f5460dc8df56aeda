"""The CI gate's decision: a run's scores against a baseline, problem by problem.

Rules (documented in the README's "CI gate" section):

* a problem **regresses** when its score falls more than ``max_drop`` points below the baseline's;
  subtasks are reported too, and gate the run only with ``per_subtask`` (a subtask then regresses
  when its best points fall more than ``max_drop`` below the baseline's);
* ``max_total_drop`` (optional) bounds the fall of the total over the problems both sides have;
* ``min_score`` (optional) is a floor on the run's total;
* problems only in the baseline are **missing** (reported, skipped); problems only in the run are
  **new** (reported, nothing to compare); a run sharing no problem with the baseline is an error;
* a failed generation or a submission the judge could not judge (SE) is an **evaluation error**:
  exit 2 unless ``allow_errors`` (the failed items then count as 0 points, as in scoring).

Exit status: 2 on evaluation errors, else 1 on any regression or a total under the floor, else 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..record.config import RunConfig, diff_configs
from ..run.events import RunResult
from ..scoring.run_score import RunScore
from .baseline import Baseline

EPS = 1e-6

#: Config keys expected to differ between a checkpoint and its baseline (not worth a note).
_EXPECTED_DIFFERENCES = ("model", "problem_codes")


class Status(str, Enum):
    """Outcome of one compared item."""

    PASS = "pass"
    REGRESSED = "regressed"
    NEW = "new"
    MISSING = "missing"
    ERROR = "error"


@dataclass
class GatePolicy:
    """How much a run may lose before the gate fails it."""

    max_drop: float = 0.0
    max_total_drop: float | None = None
    min_score: float | None = None
    per_subtask: bool = False
    allow_errors: bool = False


def _delta(baseline: float | None, current: float | None) -> float | None:
    """``current - baseline`` (rounded off float noise), or None when a side is missing."""
    if baseline is None or current is None:
        return None
    return round(current - baseline, 6)


@dataclass
class SubtaskCheck:
    """One subtask of a problem, baseline against run."""

    name: str
    points: float
    baseline: float | None
    current: float | None
    regressed: bool = False

    @property
    def delta(self) -> float | None:
        """Current minus baseline points (None when one side lacks the subtask)."""
        return _delta(self.baseline, self.current)


@dataclass
class ProblemCheck:
    """One problem, baseline against run."""

    problem: str
    max_score: float
    baseline: float | None
    current: float | None
    status: Status
    subtasks: list[SubtaskCheck] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def delta(self) -> float | None:
        """Current minus baseline score (None for new or missing problems)."""
        return _delta(self.baseline, self.current)


@dataclass
class GateResult:
    """The gate's verdict and everything the reports show."""

    policy: GatePolicy
    model: str
    baseline_model: str | None
    problems: list[ProblemCheck]
    total: float
    max_total: float
    compared_baseline_total: float
    compared_current_total: float
    total_regressed: bool = False
    under_floor: bool = False
    errors: list[str] = field(default_factory=list)
    general_errors: list[str] = field(default_factory=list)  # those of no single problem (also in errors)
    notes: list[str] = field(default_factory=list)

    @property
    def compared_delta(self) -> float:
        """Change of the total over the problems both sides have."""
        return round(self.compared_current_total - self.compared_baseline_total, 6)

    @property
    def regressions(self) -> list[ProblemCheck]:
        """Problems that regressed (or, with ``per_subtask``, have a regressed subtask)."""
        return [p for p in self.problems if p.status == Status.REGRESSED]

    @property
    def has_errors(self) -> bool:
        """Evaluation errors that the policy does not allow (``allow_errors`` covers failed items only)."""
        return bool(self.general_errors) or (bool(self.errors) and not self.policy.allow_errors)

    @property
    def exit_code(self) -> int:
        """0 holds, 1 regressed or under the floor, 2 evaluation error."""
        if self.has_errors:
            return 2
        if self.regressions or self.total_regressed or self.under_floor:
            return 1
        return 0

    @property
    def verdict(self) -> str:
        """One word for the summary's title."""
        return {0: "passed", 1: "regressed", 2: "evaluation error"}[self.exit_code]


def run_errors(score: RunScore, result: RunResult) -> dict[str, list[str]]:
    """Evaluation errors per problem: failed generations and submissions the judge could not judge."""
    out: dict[str, list[str]] = {}
    for line in result.judge_errors:  # "problem/subtask/sample: message"
        out.setdefault(line.split("/", 1)[0], []).append(f"judge error: {line}")
    for p in score.problems:
        if p.failed_generations:
            out.setdefault(p.problem, []).append(f"{p.failed_generations} generation(s) failed for good")
        unjudged = p.generations - p.failed_generations - p.no_code - p.judged
        if unjudged > 0 and not any(e.startswith("judge error") for e in out.get(p.problem, [])):
            out.setdefault(p.problem, []).append(f"{unjudged} submission(s) not judged")
    return out


def compare(baseline: Baseline, score: RunScore, result: RunResult, policy: GatePolicy,
            config: RunConfig | None = None) -> GateResult:
    """Compare a scored run with its baseline under ``policy``."""
    errors = run_errors(score, result)
    checks: list[ProblemCheck] = []
    base_sum = cur_sum = 0.0
    for p in score.problems:
        base = baseline.problem(p.problem)
        errs = errors.get(p.problem, [])
        if base is None:
            checks.append(ProblemCheck(p.problem, p.max_score, None, p.score, Status.ERROR if errs else Status.NEW,
                                       [SubtaskCheck(s.name, s.points, None, s.best) for s in p.subtasks if s.points],
                                       errs))
            continue
        base_sum += base.score
        cur_sum += p.score
        base_subs = {s.name: s.best for s in base.subtasks}
        subs = []
        for s in p.subtasks:
            if s.points <= 0:
                continue  # the samples subtask is worth nothing: nothing to gate
            b = base_subs.get(s.name)
            subs.append(SubtaskCheck(s.name, s.points, b, s.best,
                                     regressed=b is not None and s.best < b - policy.max_drop - EPS))
        regressed = p.score < base.score - policy.max_drop - EPS
        if policy.per_subtask:
            regressed = regressed or any(s.regressed for s in subs)
        status = Status.REGRESSED if regressed else Status.PASS
        if errs and not policy.allow_errors:
            status = Status.ERROR
        checks.append(ProblemCheck(p.problem, p.max_score, base.score, p.score, status, subs, errs))
    evaluated = {p.problem for p in score.problems}
    for base in baseline.problems:
        if base.problem not in evaluated:
            checks.append(ProblemCheck(base.problem, base.max_score, base.score, None, Status.MISSING,
                                       [SubtaskCheck(s.name, s.points, s.best, None) for s in base.subtasks
                                        if s.points]))
    gate = GateResult(policy=policy, model=score.model, baseline_model=baseline.model, problems=checks,
                      total=score.total, max_total=score.max_total, compared_baseline_total=round(base_sum, 6),
                      compared_current_total=round(cur_sum, 6),
                      errors=[e for p in checks for e in (f"{p.problem}: {x}" for x in p.errors)])
    if policy.max_total_drop is not None:
        gate.total_regressed = cur_sum < base_sum - policy.max_total_drop - EPS
    if policy.min_score is not None:
        gate.under_floor = score.total < policy.min_score - EPS
    if baseline.problems and not any(c.baseline is not None and c.current is not None for c in checks):
        # a gate that compared nothing must not pass: the baseline is for another problem set
        gate.general_errors.append("no problem of the run is in the baseline: nothing was compared")
        gate.errors += gate.general_errors
    missing = [c.problem for c in checks if c.status == Status.MISSING]
    if missing:
        gate.notes.append(f"in the baseline but not evaluated (skipped): {', '.join(missing)}")
    if config is not None and baseline.run_config:
        changes = [d for d in diff_configs(baseline.run_config, config.stored())
                   if d.split(":", 1)[0].split(".", 1)[0] not in _EXPECTED_DIFFERENCES]
        if changes:
            gate.notes.append("run settings differ from the baseline's: " + "; ".join(changes))
    return gate


def first_run(score: RunScore, result: RunResult, policy: GatePolicy) -> GateResult:
    """The gate without a baseline (``--init-baseline``): only errors and the floor can fail it."""
    empty = Baseline(model="(none)", total=0.0, max_total=0.0, problems=[])
    gate = compare(empty, score, result, policy)
    gate.baseline_model = None
    gate.notes = ["no baseline yet: this run's scores become the baseline"]
    return gate
