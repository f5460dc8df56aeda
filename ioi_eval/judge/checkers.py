"""Output checkers behind one interface: standard comparators and CMS, testlib or Kattis-protocol programs.

A checker builds the job that checks one output (run inside the box) and interprets its result
as a score in [0, 1] and a message. A checker that crashes, times out or prints nonsense raises
:class:`CheckerFailure`: the test is then SE, never WA.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ioi_box.protocol import CompareJob, JobResult, Limits, Proc, ProcStatus, RunJob

from ..problem.model import CheckerSpec
from .languages import Program
from .profile import JudgeProfile

CHECKER_PATH = "/box/checker"  # where a checker program lies in its box
VALIDATOR_PATH = "/box/validator"  # where a Kattis output validator lies in its box
CHECKER_LIMITS = Limits(cpu_s=10, wall_s=21, memory_bytes=2 << 30, output_bytes=64 << 20, processes=16)
CAPTURE = 4096

TRANSLATIONS = {
    "translate:success": "Output is correct",
    "translate:partial": "Output is partially correct",
    "translate:wrong": "Output isn't correct",
}


#: Reads a file the checker left in the test's scratch folder (None when it wrote none).
FeedbackReader = Callable[[str], "bytes | None"]


class CheckerFailure(Exception):
    """The checker itself failed (judge error, reported as SE)."""


class Checker(Protocol):
    """Checks one contestant output against the expected one."""

    def job(self, input_blob: str, expected_blob: str | None, output: str, work: str,
            test: str = "") -> RunJob | CompareJob:
        """The job that checks ``output`` (a box path) of test ``test``; ``work`` is a scratch folder."""
        ...

    def interpret(self, result: JobResult, test: str = "", read: FeedbackReader | None = None) -> tuple[float, str]:
        """Score in [0, 1] and message, or raise :class:`CheckerFailure`; ``read`` reads files left in ``work``."""
        ...


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def cms_message(stderr: str) -> str:
    """The contestant message of a CMS-protocol program (first stderr line, translated)."""
    line = _first_line(stderr)
    return TRANSLATIONS.get(line, line)


def parse_cms_outcome(stdout: str, who: str) -> float:
    """The float on the first stdout line of a CMS checker or manager, validated."""
    line = _first_line(stdout)
    try:
        value = float(line)
    except ValueError:
        raise CheckerFailure(f"{who} printed no score (first stdout line: {line[:80]!r})") from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise CheckerFailure(f"{who} printed a score outside [0, 1]: {line[:80]!r}")
    return value


def proc_failure(result: JobResult, who: str) -> ProcStatus | None:
    """Raise CheckerFailure for a box error; return the status of the (single) process."""
    if result.error:
        raise CheckerFailure(f"{who} could not run: {result.error}")
    return result.procs[0].status if result.procs else None


@dataclass
class StandardChecker:
    """A built-in comparator run in-process by the executor (no process per test).

    ``comparator`` (a judge profile's) replaces the package's standard checker when set.
    """

    spec: CheckerSpec
    comparator: str | None = None

    def job(self, input_blob: str, expected_blob: str | None, output: str, work: str,
            test: str = "") -> CompareJob:
        if expected_blob is None:
            raise CheckerFailure("the test has no expected output to compare with")
        return CompareJob(comparator=self.comparator or self.spec.standard, expected=expected_blob, output=output,
                          abs_tol=self.spec.abs_tol, rel_tol=self.spec.rel_tol)

    def interpret(self, result: JobResult, test: str = "", read: FeedbackReader | None = None) -> tuple[float, str]:
        if result.error or result.compare is None:
            raise CheckerFailure(f"comparison failed: {result.error}")
        ok = result.compare.score >= 1.0
        msg = "Output is correct" if ok else "Output isn't correct"
        detail = result.compare.message
        return result.compare.score, f"{msg}: {detail}" if detail and not ok else msg


@dataclass
class ProgramChecker:
    """A package checker in the CMS protocol or the testlib protocol.

    ``program`` starts the checker from :data:`CHECKER_PATH` (a compiled checker, or a script run by
    its interpreter).
    """

    program: Program
    protocol: str = "cms"
    extra_args: tuple[str, ...] = ()

    def job(self, input_blob: str, expected_blob: str | None, output: str, work: str, test: str = "") -> RunJob:
        binds = {**self.program.files, "/box/input.txt": input_blob, "/box/output.txt": output}
        if expected_blob is not None:
            binds["/box/correct.txt"] = expected_blob
        else:
            binds["/box/correct.txt"] = input_blob  # CMS passes a path even when there is no answer
        if self.protocol == "testlib":
            args = ["/box/input.txt", "/box/output.txt", "/box/correct.txt"]
        else:
            args = ["/box/input.txt", "/box/correct.txt", "/box/output.txt"]
        proc = Proc(argv=[*self.program.argv, *args, *self.extra_args], binds=binds,
                    stdout=f"{work}/checker.out", stderr=f"{work}/checker.err",
                    capture_stdout=CAPTURE, capture_stderr=CAPTURE, limits=CHECKER_LIMITS)
        return RunJob(procs=[proc])

    def interpret(self, result: JobResult, test: str = "", read: FeedbackReader | None = None) -> tuple[float, str]:
        status = proc_failure(result, "checker")
        pr = result.procs[0]
        if self.protocol == "testlib":
            return testlib_outcome(pr.status, pr.exit_code, pr.stderr, pr.message)
        if status != ProcStatus.OK:
            raise CheckerFailure(f"checker failed: {pr.message}; stderr: {pr.stderr[:300]!r}")
        return parse_cms_outcome(pr.stdout, "checker"), cms_message(pr.stderr)


def testlib_outcome(status: ProcStatus, code: int | None, stderr: str, message: str,
                    who: str = "checker") -> tuple[float, str]:
    """Score and message of a testlib checker or interactor from its exit code (0/1/2/4/8/7, else SE)."""
    text = stderr.strip()
    if status not in (ProcStatus.OK, ProcStatus.RE):
        raise CheckerFailure(f"{who} failed: {message}; stderr: {text[:300]!r}")
    if code == 0:
        return 1.0, text or "ok"
    if code in (1, 2, 4, 8):  # WA, PE, dirt (PE) and unexpected EOF (PE)
        return 0.0, text or "wrong answer"
    if code == 7:
        m = re.search(r"points\s+([-+0-9.eE]+)", text)
        if not m:
            raise CheckerFailure(f"testlib {who} exited 7 without 'points X' on stderr: {text[:200]!r}")
        try:
            value = float(m.group(1))
        except ValueError:
            raise CheckerFailure(f"testlib {who} exited 7, points not a number: {m.group(1)[:80]!r}") from None
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise CheckerFailure(f"testlib {who} gave points outside [0, 1]: {m.group(1)}")
        return value, text
    raise CheckerFailure(f"testlib {who} failed (exit code {code}): {text[:300]!r}")


KATTIS_ACCEPT, KATTIS_REJECT = 42, 43
FEEDBACK = "/feedback"


def _feedback_number(read: FeedbackReader, name: str) -> float | None:
    data = read(name)
    if data is None:
        return None
    text = data.decode(errors="replace").strip()
    try:
        value = float(text.split()[0]) if text else math.nan
    except ValueError:
        value = math.nan
    if math.isnan(value) or value < 0:
        raise CheckerFailure(f"validator wrote an invalid {name}: {text[:80]!r}")
    return value


def kattis_args(spec: CheckerSpec, test: str) -> list[str]:
    """The Kattis validator flags of ``test`` (its group's, else the problem's)."""
    return list(spec.test_args.get(test, spec.args))


def kattis_outcome(spec: CheckerSpec, test: str, status: ProcStatus, code: int | None, stderr: str,
                   read: FeedbackReader | None, who: str = "output validator") -> tuple[float, str]:
    """Score and message of a Kattis-protocol validator run (exit 42 accept, 43 reject).

    An accepted test scores ``score_multiplier.txt``, or ``score.txt`` (a multiplier, or a score
    divided by the test's maximum, as ``spec.score_file`` says), or 1; a rejected one 0. The
    message is the head of ``judgemessage.txt`` (else ``teammessage.txt``).
    """
    if status not in (ProcStatus.OK, ProcStatus.RE):
        raise CheckerFailure(f"{who} failed ({status.value}); stderr: {stderr.strip()[:300]!r}")
    if code not in (KATTIS_ACCEPT, KATTIS_REJECT):
        raise CheckerFailure(f"{who} exited {code} (42 accepts, 43 rejects); stderr: {stderr.strip()[:300]!r}")
    note = ""
    if read is not None:
        for name in ("judgemessage.txt", "teammessage.txt"):
            data = read(name)
            if data and data.strip():
                note = _first_line(data.decode(errors="replace"))[:200]
                break
    if code == KATTIS_REJECT:
        if read is not None and read("score.txt") is not None:  # problemtools: a judge error
            raise CheckerFailure(f"{who} wrote score.txt but rejected the output (exit 43)")
        return 0.0, f"Output isn't correct: {note}" if note else "Output isn't correct"
    value = 1.0
    if read is not None:
        multiplier = _feedback_number(read, "score_multiplier.txt")
        score = _feedback_number(read, "score.txt")
        if multiplier is not None:
            value = multiplier
        elif score is not None and spec.score_file == "multiplier":
            value = score
        elif score is not None:
            top = spec.test_max.get(test)
            if top is None:
                raise CheckerFailure(f"{who} wrote score.txt but test {test!r} has no maximum score")
            if top == 0.0:  # a test worth no points (a sample): accepted, whatever its score
                note = f"score {score:g}, in a group worth no points" + (f"; {note}" if note else "")
                return 1.0, f"Output is correct: {note}"
            value = score / top
        if value > 1.0 + 1e-9:
            raise CheckerFailure(f"{who} gave a score above the test's maximum ({value:g} of 1)")
    value = min(value, 1.0)
    msg = "Output is correct" if value >= 1.0 else "Output is partially correct"
    return value, f"{msg}: {note}" if note else msg


@dataclass
class KattisValidator:
    """A Kattis output validator: ``validator input answer feedback_dir [args] < output``.

    ``program`` starts the validator from :data:`VALIDATOR_PATH`.
    """

    program: Program
    spec: CheckerSpec

    def job(self, input_blob: str, expected_blob: str | None, output: str, work: str, test: str = "") -> RunJob:
        binds = {**self.program.files, "/box/input.txt": input_blob,
                 "/box/answer.txt": expected_blob if expected_blob is not None else input_blob}
        # The feedback folder is the test's scratch folder; contestants never get it writable.
        proc = Proc(argv=[*self.program.argv, "/box/input.txt", "/box/answer.txt", f"{FEEDBACK}/",
                          *kattis_args(self.spec, test)],
                    binds=binds, rw_binds={FEEDBACK: work}, stdin=output, stdout=f"{work}/validator.out",
                    stderr=f"{work}/validator.err", capture_stderr=CAPTURE, limits=CHECKER_LIMITS)
        return RunJob(procs=[proc])

    def interpret(self, result: JobResult, test: str = "", read: FeedbackReader | None = None) -> tuple[float, str]:
        proc_failure(result, "output validator")
        pr = result.procs[0]
        return kattis_outcome(self.spec, test, pr.status, pr.exit_code, pr.stderr, read)


class TrustedPrograms(Protocol):
    """Where a checker program comes from (a :class:`~ioi_eval.judge.task_types.base.JudgeContext`)."""

    def trusted_program(self, source: Path, what: str, at: str) -> Program:
        """The package program ``source`` ready to run from the inside path ``at``."""
        ...


def make_checker(spec: CheckerSpec, profile: JudgeProfile, programs: TrustedPrograms) -> Checker:
    """The checker of a problem: its checker program (Kattis validator, CMS or testlib checker), else
    the standard comparison (replaced by the judge profile's comparator where it has one)."""
    if spec.source is None:
        return StandardChecker(spec, profile.comparator)
    if spec.protocol == "kattis":
        return KattisValidator(programs.trusted_program(spec.source, "checker", VALIDATOR_PATH), spec)
    return ProgramChecker(programs.trusted_program(spec.source, "checker", CHECKER_PATH), spec.protocol)
