"""The task type protocol (as in CMS): how a submission is prepared and how one test is evaluated."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ioi_box.protocol import Batch, JobResult, Limits, ProcResult, ProcStatus, RunJob

from ...backends.base import Box
from ...errors import JudgeError
from ...problem.model import Problem, TestCase
from ..checkers import Checker, CheckerFailure, FeedbackReader
from ..compiler import PROGRAM, Compiler, CompileUnit
from ..languages import Program, get_language, language_of
from ..profile import JudgeProfile
from ..results import CompileResult, TestResult, Verdict, verdict_for_score
from ..submission import Submission
from .notes import PromptNotes
from .params import TaskParams

PROC_VERDICT = {
    ProcStatus.TLE_CPU: Verdict.TLE,
    ProcStatus.TLE_WALL: Verdict.TLE,
    ProcStatus.MLE: Verdict.MLE,
    ProcStatus.OLE: Verdict.OLE,
    ProcStatus.RE: Verdict.RE,
    ProcStatus.SG: Verdict.RE,
    ProcStatus.XX: Verdict.SE,
}
OUTPUT_CAP = 256 << 20
RERUN_NOTE = "re-run once after a wall-clock limit under load"
STDERR_IN_MESSAGE = 500
STDERR_CAPTURE = 4096


@dataclass
class JudgeContext:
    """What a task type needs to judge one problem: the box, the compiler, files already stored."""

    box: Box
    compiler: Compiler
    problem: Problem
    checker: Checker | None = None
    profile: JudgeProfile = field(default_factory=JudgeProfile)
    # A run that hit the wall-clock limit with its CPU time under the CPU limit was most likely starved by
    # the machine's load, not slow: it is run again this many times (see run()).
    wall_reruns: int = 1
    _blobs: dict[Path, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def blob(self, path: Path) -> str:
        """Store a package file in the box once and return its blob path."""
        with self._lock:
            if path not in self._blobs:
                self._blobs[path] = self.box.put_file(path)
            return self._blobs[path]

    def run(self, job) -> JobResult:
        """Execute one job in the box (every run of a test goes through here).

        A run job where a process hit the wall-clock limit while its CPU time stayed under its CPU limit is run
        again, up to ``wall_reruns`` times: the launcher already discounts time spent waiting for a CPU, so this
        covers what it cannot see (I/O stalls, a machine overcommitted beyond the discount's cap). The result says
        so in its ``note``. A sleeper hits the limit again and stays TLE.
        """
        result = self.box.execute(Batch(jobs=[job])).results[0]
        reruns = 0
        while reruns < self.wall_reruns and isinstance(job, RunJob) and _starved(job, result):
            result = self.box.execute(Batch(jobs=[job])).results[0]
            reruns += 1
        if reruns:
            note = RERUN_NOTE if reruns == 1 else f"re-run {reruns} times after a wall-clock limit under load"
            result = result.model_copy(update={"note": note})
        return result

    def user_limits(self) -> Limits:
        """The problem's limits for contestant processes (wall backstop 2*TL+1 as in CMS).

        Under a wall-clock profile (Piston's ``timeout TL``) the limit is on wall time only.
        """
        tl = self.problem.time_limit
        cpu, wall = (0.0, tl) if self.profile.time == "wall" else (tl, 2 * tl + 1)
        return Limits(cpu_s=cpu, wall_s=wall, memory_bytes=self.problem.memory_limit,
                      output_bytes=OUTPUT_CAP, processes=16, tmp_bytes=64 << 20)

    def trusted_program(self, source: Path, what: str, at: str) -> Program:
        """A package program (checker, manager) ready to run from the inside path ``at``.

        A language that builds a program compiles ``source`` with the sources and headers of its
        folder (its trusted flags); a script (e.g. a Python Kattis validator) runs as it is.
        """
        lang = get_language(language_of(source))
        if not lang.builds_program:
            return Program(argv=lang.run_command(at), files={at: self.blob(source)})
        folder = source.parent
        suffixes = (*lang.suffixes, *lang.header_suffixes)
        files = tuple((p.name, p.read_bytes()) for p in sorted(folder.iterdir())
                      if p.is_file() and p.suffix in suffixes)
        unit = CompileUnit(language=lang.name, files=files, compiled=(source.name,), main=source.name,
                           flags=lang.trusted_flags, trusted=True)
        res, prog = self.compiler.compile(unit)
        if not res.ok or prog is None:
            raise JudgeError(f"the package's {what} ({source}) does not compile:\n{res.message[:2000]}")
        return Program(argv=lang.run_command(at), files={at: prog.files[PROGRAM]})

    def check(self, test: TestCase, output: str, work: str) -> tuple[float, str]:
        """Check ``output`` with the problem's checker; raises CheckerFailure on judge errors."""
        assert self.checker is not None
        expected = self.blob(test.output) if test.output else None
        job = self.checker.job(self.blob(test.input), expected, output, work, test=test.name)
        return self.checker.interpret(self.run(job), test=test.name, read=self.reader(work))

    def reader(self, work: str) -> FeedbackReader:
        """Reads (the head of) a file a trusted program left in the scratch folder ``work``, or None."""
        def read(name: str) -> bytes | None:
            try:
                return self.box.read_bytes(f"{work}/{name}", 1 << 16)
            except (FileNotFoundError, IsADirectoryError):
                return None
        return read


def _starved(job: RunJob, result: JobResult) -> bool:
    """Whether a process of the job hit the wall-clock limit with CPU time under its CPU limit."""
    if result.error or len(result.procs) != len(job.procs):
        return False
    return any(pr.status == ProcStatus.TLE_WALL and pr.cpu_s < proc.limits.cpu_s
               for proc, pr in zip(job.procs, result.procs, strict=True))


def noted(result: TestResult, note: str) -> TestResult:
    """The test's result with the harness's note about its run (e.g. a re-run) added to its message."""
    if not note:
        return result
    message = f"{result.message} ({note})" if result.message else note
    return result.model_copy(update={"message": message})


def failed_run(test: TestCase, pr: ProcResult) -> TestResult:
    """A test whose contestant process did not end normally (score 0).

    For runtime errors the head of the program's stderr is kept (an assertion or a Python
    traceback says more than an exit code when debugging a model's solutions).
    """
    message = pr.message
    if pr.status in (ProcStatus.RE, ProcStatus.SG) and pr.stderr.strip():
        message += f"; stderr: {pr.stderr.strip()[-STDERR_IN_MESSAGE:]}"
    return TestResult(name=test.name, verdict=PROC_VERDICT[pr.status], score=0.0, cpu_s=pr.cpu_s,
                      wall_s=pr.wall_s, memory_bytes=pr.memory_bytes, message=message)


def scored(test: TestCase, score: float, message: str, cpu_s: float = 0.0, wall_s: float = 0.0,
           memory_bytes: int = 0) -> TestResult:
    """A test that ran and was scored by a checker or manager."""
    return TestResult(name=test.name, verdict=verdict_for_score(score), score=score, cpu_s=cpu_s,
                      wall_s=wall_s, memory_bytes=memory_bytes, message=message)


def system_error(test: TestCase, message: str) -> TestResult:
    """A test the judge could not evaluate."""
    return TestResult(name=test.name, verdict=Verdict.SE, score=0.0, message=message)


class Prepared(Protocol):
    """Whatever a task type keeps between compiling a submission and evaluating its tests."""


class TaskType(Protocol):
    """How submissions to a problem are compiled and evaluated, and what a task type knows of itself.

    ``name`` is the package's ``task_type``; ``Params`` its validated ``task_type_params``;
    ``takes_code`` is False when a submission is output files rather than a program (models answer
    with code, so runs skip such problems); ``needs_expected_output`` whether every test needs a
    ``.out`` file; ``harness`` the ``graders/`` program (``grader``/``stub``) that ``compilation``
    may link a submission with.
    """

    name: ClassVar[str]
    Params: ClassVar[type[TaskParams]]
    takes_code: ClassVar[bool]
    needs_expected_output: ClassVar[bool]
    harness: ClassVar[str | None]

    @classmethod
    def load_params(cls, values: dict[str, Any], root: Path, where: Path) -> TaskParams:
        """The package's parameters with this task type's defaults, validated; a bad one is a
        :class:`~ioi_eval.errors.PackageError` naming ``where``. ``root`` is the package folder."""
        ...

    def prompt_notes(self, problem: Problem, language: str) -> PromptNotes:
        """What a prompt in ``language`` says about how a submission to ``problem`` runs."""
        ...

    def setup(self, ctx: JudgeContext) -> None:
        """Compile the package's own programs (checker, manager); called once per problem."""
        ...

    def prepare(self, ctx: JudgeContext, submission: Submission) -> tuple[CompileResult, Prepared | None]:
        """Compile the submission; a CE is a result, not an exception."""
        ...

    def evaluate(self, ctx: JudgeContext, prepared: Prepared, test: TestCase) -> TestResult:
        """Evaluate one test."""
        ...


__all__ = ["CheckerFailure", "JudgeContext", "Prepared", "TaskType", "failed_run", "scored", "system_error"]
