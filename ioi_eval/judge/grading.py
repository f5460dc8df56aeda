"""Scoring a problem by a Kattis test data group tree (``problem.grading``, protocol ``kattis``).

Kattis aggregates a submission's results bottom-up over the folders of ``data/``: a group's grader
reads one ``<verdict> <score>`` line per item (test case or sub-group, in order) on stdin, gets the
group's ``grader_flags`` as arguments, and prints the group's own ``<verdict> <score>``. The root's
score is the problem's. A group with ``grading: custom`` uses the package's grader (compiled once per
problem, run in the box like a checker); the others use Kattis' default grader, computed here.

A grader that fails, prints anything but one ``<verdict> <score>`` line, says ``JE``, or gives a group
a score outside its ``range`` makes that group (and every group above it) SE, naming the grader.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ioi_box.protocol import Proc, ProcStatus, RunJob

from ..problem.model import GradingSpec, KattisGroup, Problem
from .checkers import CHECKER_LIMITS
from .languages import Program
from .results import GroupResult, JudgeReport, TestResult, Verdict

if TYPE_CHECKING:
    from .task_types.base import JudgeContext

GRADER_PATH = "/box/grader"  # where a Kattis grader lies in its box
CAPTURE = 4096
EPS = 1e-6

#: Our verdicts as a Kattis grader reads them (a partially accepted test is accepted with its score).
TO_KATTIS = {Verdict.AC: "AC", Verdict.PA: "AC", Verdict.WA: "WA", Verdict.TLE: "TLE", Verdict.MLE: "MLE",
             Verdict.RE: "RTE", Verdict.OLE: "OLE", Verdict.SE: "JE"}
FROM_KATTIS = {"AC": Verdict.AC, "WA": Verdict.WA, "PE": Verdict.WA, "TLE": Verdict.TLE, "MLE": Verdict.MLE,
               "RTE": Verdict.RE, "OLE": Verdict.OLE, "JE": Verdict.SE, "IF": Verdict.SE}
#: What a grader may print (the format's rule, as problemtools checks it).
GRADER_LINE = re.compile(r"(AC|WA|TLE|RTE|MLE|OLE|JE)\s+(-?[0-9.]+)\s*")
#: The default grader's verdict order, worst first.
WORST_FIRST = ("JE", "IF", "RTE", "MLE", "TLE", "OLE", "WA", "PE", "AC")


class GradingFailure(Exception):
    """A grader failed or broke the protocol (the group is SE)."""


def default_grader(lines: list[tuple[str, float]], flags: tuple[str, ...] | list[str]) -> tuple[str, float]:
    """Kattis' default grader: the verdict and score of a group from its items' lines.

    Score: ``sum`` (default), ``avg``, ``min`` or ``max`` of the scores. Verdict: ``worst_error`` (or
    ``no_errors``, the default: the worst verdict, AC when all are), ``first_error`` or ``always_accept``;
    ``accept_if_any_accepted`` accepts when any item is AC; ``ignore_sample`` (the root only) grades the
    last item alone (the secret group, not the samples). Where flags conflict, the last one counts.
    """
    score_mode, verdict_mode, ignore_sample, any_ok = "sum", "worst_error", False, False
    for flag in flags:
        if flag in ("sum", "avg", "min", "max"):
            score_mode = flag
        elif flag in ("worst_error", "no_errors", "first_error", "always_accept"):
            verdict_mode = flag
        elif flag == "ignore_sample":
            ignore_sample = True
        elif flag == "accept_if_any_accepted":
            any_ok = True
    if ignore_sample:
        if not 1 <= len(lines) <= 2:
            raise GradingFailure(f"ignore_sample needs one or two items (the samples and secret), not {len(lines)}")
        lines = lines[-1:]
    verdicts = [v for v, _ in lines]
    scores = [s for _, s in lines]
    if any_ok and "AC" in verdicts:
        verdict = "AC"
    elif verdict_mode == "first_error":
        verdict = next((v for v in verdicts if v != "AC"), "AC")
    elif verdict_mode == "always_accept":
        verdict = "AC"
    else:
        verdict = min([*verdicts, "AC"], key=WORST_FIRST.index)
    if not scores:
        return verdict, 0.0
    agg = {"sum": sum, "min": min, "max": max, "avg": lambda xs: sum(xs) / len(xs)}[score_mode]
    return verdict, float(agg(scores))


def parse_grader_output(stdout: str, who: str) -> tuple[str, float]:
    """The ``<verdict> <score>`` a grader printed, or :class:`GradingFailure`."""
    m = GRADER_LINE.fullmatch(stdout)
    if m is None:
        raise GradingFailure(f"{who} printed no '<verdict> <score>' line (stdout: {stdout[:120]!r})")
    try:
        score = float(m.group(2))
    except ValueError:
        raise GradingFailure(f"{who} printed a score that is not a number: {m.group(2)[:40]!r}") from None
    if m.group(1) == "JE":
        raise GradingFailure(f"{who} reported a judge error (JE)")
    return m.group(1), score


@dataclass
class KattisGrading:
    """The Kattis group tree of a problem and its grader program (None when every group uses the default)."""

    spec: GradingSpec
    program: Program | None = None

    @classmethod
    def setup(cls, problem: Problem, ctx: JudgeContext) -> KattisGrading:
        """Compile the package's grader (a :class:`~ioi_eval.judge.task_types.base.JudgeContext` does it)."""
        assert problem.grading is not None
        source = problem.grading.source
        program = ctx.trusted_program(source, "grader", GRADER_PATH) if source is not None else None
        return cls(problem.grading, program)

    def report(self, ctx: JudgeContext, report: JudgeReport, problem: Problem) -> JudgeReport:
        """``report`` with its subtask scores, total and groups as the tree grades its tests."""
        if not report.compile.ok:
            return report
        tests = {t.name: t for t in report.tests}
        groups: list[GroupResult] = []
        root = self._group(ctx, self.spec.root, tests, groups)
        by_group = {g.name: g for g in groups}
        subtasks = list(report.subtasks)
        for node in self.spec.root.groups():
            if node.subtask is None:
                continue
            st, res = subtasks[node.subtask], by_group.get(node.name)
            if res is None:  # not graded: an on_reject: break above it stopped first
                subtasks[node.subtask] = st.model_copy(update={"score": 0.0})
                continue
            score = 0.0 if st.points == 0 or res.verdict == Verdict.SE else min(max(res.score, 0.0), st.points)
            status = Verdict.SE if res.verdict == Verdict.SE else st.status
            subtasks[node.subtask] = st.model_copy(update={"score": round(score, problem.score_precision),
                                                           "status": status})
        top = problem.max_score
        if root.verdict != Verdict.SE and not -EPS <= root.score <= top + EPS:
            root = GroupResult(name=root.name, verdict=Verdict.SE, score=0.0,
                               message=f"the root group's score {root.score:g} is outside [0, {top:g}] (the "
                                       "subtasks' points; are the samples counted without ignore_sample?)")
            groups[-1] = root
        total = 0.0 if root.verdict == Verdict.SE else root.score
        return report.model_copy(update={"score": round(total, problem.score_precision), "subtasks": subtasks,
                                         "groups": groups})

    def _group(self, ctx: JudgeContext, group: KattisGroup, tests: dict[str, TestResult],
               out: list[GroupResult]) -> GroupResult:
        lines: list[tuple[str, float]] = []
        failed: str | None = None
        for item in group.items:
            if isinstance(item, str):
                verdict, score = self._test_line(ctx, item, group, tests[item])
                if verdict == "JE":
                    failed = failed or f"test {item} is SE"
            else:
                res = self._group(ctx, item, tests, out)
                verdict, score = TO_KATTIS.get(res.verdict, "JE"), res.score
                if res.verdict == Verdict.SE:
                    failed = failed or f"group {item.name} is SE"
            lines.append((verdict, score))
            if verdict != "AC" and group.on_reject == "break":
                break  # Kattis grades no more items of this group
        result = self._aggregate(ctx, group, lines, failed)
        out.append(result)
        return result

    def _aggregate(self, ctx: JudgeContext, group: KattisGroup, lines: list[tuple[str, float]],
                   failed: str | None) -> GroupResult:
        who = f"grader {self.spec.source.name}" if group.custom and self.spec.source else "default grader"
        if failed is not None:  # as problemtools: a judge error below is the group's, without grading
            return GroupResult(name=group.name, verdict=Verdict.SE, score=0.0, message=failed)
        try:
            if not lines:
                verdict, score = "AC", 0.0
            elif group.custom:
                verdict, score = self._run(ctx, group, lines, who)
            else:
                verdict, score = default_grader(lines, group.flags)
            lo, hi = group.range if group.range is not None else (-math.inf, math.inf)
            if not lo - EPS <= score <= hi + EPS:
                raise GradingFailure(f"{who} gave group {group.name} the score {score:g}, outside its range "
                                     f"[{lo:g}, {hi:g}]")
        except GradingFailure as exc:
            msg = str(exc) if str(exc).startswith(who) else f"{who} on group {group.name}: {exc}"
            return GroupResult(name=group.name, verdict=Verdict.SE, score=0.0, message=msg)
        return GroupResult(name=group.name, verdict=FROM_KATTIS[verdict], score=score,
                           message=f"{who}: {verdict} {score:g}")

    def _test_line(self, ctx: JudgeContext, name: str, group: KattisGroup, res: TestResult) -> tuple[str, float]:
        """The ``<verdict> <score>`` of one test as its group's grader reads it."""
        verdict = TO_KATTIS.get(res.verdict, "JE")  # SKIPPED or CE never reach a grader
        if verdict != "AC":
            return verdict, group.reject_score
        if self.spec.custom_score:  # the validator's score.txt, recovered from the outcome
            top = ctx.problem.checker.test_max.get(name)
            if top is None:
                return "JE", 0.0
            return verdict, res.score * top
        return verdict, group.accept_score * res.score

    def _run(self, ctx: JudgeContext, group: KattisGroup, lines: list[tuple[str, float]],
             who: str) -> tuple[str, float]:
        """Run the package's grader on ``lines`` in the box."""
        assert self.program is not None
        data = "".join(f"{v} {float(s)!r}\n" for v, s in lines).encode()
        work = ctx.box.new_dir()
        try:
            proc = Proc(argv=[*self.program.argv, *group.flags], binds=dict(self.program.files),
                        stdin=ctx.box.put_bytes(data), stdout=f"{work}/grader.out", stderr=f"{work}/grader.err",
                        capture_stdout=CAPTURE, capture_stderr=CAPTURE, limits=CHECKER_LIMITS)
            result = ctx.run(RunJob(procs=[proc]))
        finally:
            ctx.box.remove([work])
        if result.error:
            raise GradingFailure(f"{who} could not run on group {group.name}: {result.error}")
        pr = result.procs[0]
        if pr.status != ProcStatus.OK:
            raise GradingFailure(f"{who} failed on group {group.name}: {pr.message}; stderr: {pr.stderr[:300]!r}")
        return parse_grader_output(pr.stdout, f"{who} on group {group.name}")


def make_grading(problem: Problem, ctx: JudgeContext) -> KattisGrading | None:
    """The problem's grading plug-in, or None when its score is the sum of its subtasks' (score types)."""
    if problem.grading is None:
        return None
    return KattisGrading.setup(problem, ctx)
