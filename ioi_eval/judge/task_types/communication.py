"""Communication: a trusted manager talks to N user processes over FIFO pairs and scores them.

The manager is a CMS manager (score on stdout), a Kattis interactive validator (exit 42/43,
feedback files) or a testlib interactor (testlib exit codes, then the checker on its ``tout``),
as ``task_type_params.interactor`` says; the latter two talk to one user process on stdin/stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from ioi_box.protocol import JobResult, Limits, Proc, ProcResult, ProcStatus, RunJob

from ...errors import PackageError
from ...problem.model import Problem, TestCase
from ..checkers import (
    CHECKER_LIMITS,
    FEEDBACK,
    CheckerFailure,
    cms_message,
    kattis_args,
    kattis_outcome,
    parse_cms_outcome,
    testlib_outcome,
)
from ..languages import LANGUAGES, Program
from ..results import CompileResult, TestResult
from ..submission import Submission
from .base import STDERR_CAPTURE, JudgeContext, failed_run, noted, scored, system_error
from .notes import PromptNotes, notes_for
from .params import TaskParams, has_program, interactor_error, params_of, validate_params
from .programs import compile_user

CAPTURE = 4096
MANAGER_PATH = "/box/manager"  # where the manager lies in its box
EXIT_ORDER = ".ioi-exit-order"  # where the Kattis wiring records which process ended first (feedback folder)

# A Kattis interactive validator's wiring, as problemtools' `interactive` runs it: the shell holds both of the
# validator's FIFO ends while the validator runs, so the submission sees neither EOF nor SIGPIPE from the
# validator's exit before the shell has recorded whether the submission had already ended (its end of the
# validator's stdin is then closed: a non-blocking read on a fresh open of the FIFO reaches EOF at once). After an
# accept (42) it reads what the submission still writes, so that a submission ending normally is never killed by a
# SIGPIPE; after anything else it lets go, as problemtools does. Opening stdout before stdin avoids a deadlock
# with the submission, which opens its stdin first.
KATTIS_WIRE = r"""o=$1; i=$2; f=$3; shift 3
exec 3>"$o" 4<"$i"
"$@" >&3 <&4 3>&- 4<&-
rc=$?
dd if="$i" of=/dev/null iflag=nonblock status=none 2>/dev/null
case $? in 0) echo submission ;; 1) echo validator ;; *) echo unknown ;; esac >"$f"
exec 3>&-
if [ "$rc" = 42 ]; then cat <&4 >/dev/null; fi
exit "$rc"
"""


class Communication:
    """CMS Communication with ``num_processes`` user processes (std_io or fifo_io)."""

    name: ClassVar[str] = "Communication"
    takes_code: ClassVar[bool] = True
    needs_expected_output: ClassVar[bool] = False  # the manager may score without an answer file
    harness: ClassVar[str | None] = "stub"

    class Params(TaskParams):
        """Communication parameters: ``compilation`` (``stub``, the default, links
        ``graders/stub.<ext>``; ``alone``: a whole program), ``num_processes``, ``user_io``
        (``std_io`` or ``fifo_io``) and ``interactor`` (``cms``; ``kattis``/``testlib`` need one process)."""

        compilation: Literal["alone", "grader", "stub"] = "stub"

    def __init__(self) -> None:
        self.manager: Program | None = None

    @classmethod
    def load_params(cls, values: dict[str, Any], root: Path, where: Path) -> Communication.Params:
        """The package's parameters; the package must ship ``graders/manager.cpp`` (or ``.py``)."""
        graders = root / "graders"
        if not has_program(graders, "manager"):
            raise PackageError(f"{graders / 'manager.cpp'}: a Communication task needs a manager")
        params = validate_params(cls.Params, values, where)
        if params.interactor != "cms" and params.num_processes != 1:
            raise interactor_error(params, where)
        return params

    def prompt_notes(self, problem: Problem, language: str) -> PromptNotes:
        """Functions linked with the stub (``communication``), or a whole program (``interactive``)."""
        params = params_of(problem, self.Params)
        harness = params.linked_harness(self.harness)
        return notes_for(problem, params, "communication" if harness else "interactive", harness, language)

    def setup(self, ctx: JudgeContext) -> None:
        source = next(filter(None, (ctx.problem.grader(lang.source_name("manager")) for lang in LANGUAGES.values())),
                      None)
        assert source is not None  # the loader checked
        self.manager = ctx.trusted_program(source, "manager", MANAGER_PATH)

    def prepare(self, ctx: JudgeContext, submission: Submission) -> tuple[CompileResult, Program | None]:
        harness = params_of(ctx.problem, self.Params).linked_harness(self.harness)
        return compile_user(ctx, submission, harness)

    def _manager_limits(self, ctx: JudgeContext) -> Limits:
        # As CMS: generous enough that user processes always hit their own limits first.
        n, tl = params_of(ctx.problem, self.Params).num_processes, ctx.problem.time_limit
        return Limits(cpu_s=max(n * (tl + 1.0), CHECKER_LIMITS.cpu_s),
                      wall_s=max(n * (2 * tl + 1.0), CHECKER_LIMITS.wall_s) + 5,
                      memory_bytes=CHECKER_LIMITS.memory_bytes, output_bytes=64 << 20, processes=16)

    def evaluate(self, ctx: JudgeContext, prepared: Program, test: TestCase) -> TestResult:
        assert self.manager is not None
        params = params_of(ctx.problem, self.Params)
        n = params.num_processes
        work = ctx.box.new_dir()
        try:
            fifos, mgr_args, users = [], [], []
            for i in range(n):
                to_m, to_u = f"{work}/fifo{i}/u{i}_to_m", f"{work}/fifo{i}/m_to_u{i}"
                fifos += [to_m, to_u]
                mgr_args += [f"/fifo{i}/u{i}_to_m", f"/fifo{i}/m_to_u{i}"]
                argv = list(prepared.argv)
                if params.user_io == "fifo_io":
                    argv += [f"/fifo{i}/m_to_u{i}", f"/fifo{i}/u{i}_to_m"]
                if n > 1:
                    argv.append(str(i))
                user = Proc(argv=argv, binds=dict(prepared.files), limits=ctx.user_limits(),
                            stderr=f"{work}/user{i}.err", capture_stderr=STDERR_CAPTURE)
                if params.user_io == "fifo_io":
                    user.rw_binds[f"/fifo{i}"] = f"{work}/fifo{i}"
                else:
                    user.stdin, user.stdout = to_u, to_m
                users.append(user)
            if params.interactor == "cms":
                manager = Proc(argv=[*self.manager.argv, *mgr_args], binds=dict(self.manager.files),
                               rw_binds={f"/fifo{i}": f"{work}/fifo{i}" for i in range(n)},
                               stdin=ctx.blob(test.input), stdout=f"{work}/manager.out",
                               stderr=f"{work}/manager.err", capture_stdout=CAPTURE, capture_stderr=CAPTURE,
                               limits=self._manager_limits(ctx))
                outputs = []
            else:
                manager, outputs = self._interactor(ctx, test, work)
            result = ctx.run(RunJob(procs=[manager, *users], fifos=fifos, outputs=outputs))
            return noted(self._outcome(ctx, test, result, work), result.note)
        finally:
            ctx.box.remove([work])

    def _outcome(self, ctx: JudgeContext, test: TestCase, result: JobResult, work: str) -> TestResult:
        """The test's result from the run of the manager (or interactor) and the user processes."""
        params = params_of(ctx.problem, self.Params)
        if result.error:
            return system_error(test, f"sandbox error: {result.error}")
        mgr, user_results = result.procs[0], result.procs[1:]
        cpu = sum(u.cpu_s for u in user_results)
        wall = max(u.wall_s for u in user_results)
        mem = max(u.memory_bytes for u in user_results)
        if any(u.status == ProcStatus.XX for u in user_results):
            bad = next(u for u in user_results if u.status == ProcStatus.XX)
            return system_error(test, bad.message)
        if params.interactor != "cms":
            return self._interactor_result(ctx, test, work, mgr, user_results)
        if mgr.status != ProcStatus.OK:
            return system_error(test, f"manager failed: {mgr.message}; stderr: {mgr.stderr[:300]!r}")
        # A manager that ended well owes a score whatever the users did: garbage is SE, never a user's
        # verdict (a user killed by a pipe the broken manager closed would otherwise read as RE or TLE).
        try:
            score = parse_cms_outcome(mgr.stdout, "manager")
        except CheckerFailure as exc:
            return system_error(test, str(exc))
        failed = next((u for u in user_results if u.status != ProcStatus.OK), None)
        if failed is not None:
            return failed_run(test, failed)
        if cpu > ctx.problem.time_limit and ctx.profile.time == "cpu":
            return failed_run(test, failed_cpu(user_results[0], cpu, wall, mem, ctx.problem.time_limit))
        return scored(test, score, cms_message(mgr.stderr), cpu, wall, mem)

    # -- Kattis interactive validators and testlib interactors ------------------------------
    def _interactor(self, ctx: JudgeContext, test: TestCase, work: str) -> tuple[Proc, list[str]]:
        """The interactor process: it talks to user process 0 over its stdin/stdout.

        Kattis: ``validator input answer feedback_dir [args]`` (feedback in the scratch folder);
        testlib: ``interactor input tout answer`` (``tout`` is kept for the package's checker).
        """
        assert self.manager is not None
        answer = ctx.blob(test.output) if test.output else ctx.blob(test.input)
        binds = {**self.manager.files, "/box/input.txt": ctx.blob(test.input), "/box/answer.txt": answer}
        common = dict(binds=binds, stderr=f"{work}/manager.err", capture_stderr=CAPTURE,
                      limits=self._manager_limits(ctx))
        # The user opens its stdin (m_to_u0) before its stdout, so the interactor must open its
        # stdout (m_to_u0) before its stdin, or both would block opening their FIFOs: a shell
        # opens them in that order and then becomes the interactor.
        wire = ["/bin/sh", "-c", 'o=$1; i=$2; shift 2; exec "$@" >"$o" <"$i"', "sh",
                "/fifo0/m_to_u0", "/fifo0/u0_to_m"]
        rw = {"/fifo0": f"{work}/fifo0"}
        if params_of(ctx.problem, self.Params).interactor == "kattis":
            args = kattis_args(ctx.problem.checker, test.name)
            # Feedback files go next to the FIFOs: a folder the executor creates and users never see.
            wire = ["/bin/sh", "-c", KATTIS_WIRE, "sh", "/fifo0/m_to_u0", "/fifo0/u0_to_m", f"{FEEDBACK}/{EXIT_ORDER}"]
            argv = [*wire, *self.manager.argv, "/box/input.txt", "/box/answer.txt", f"{FEEDBACK}/", *args]
            return Proc(argv=argv, rw_binds={**rw, FEEDBACK: f"{work}/fifo0"}, **common), []
        argv = [*wire, *self.manager.argv, "/box/input.txt", "/box/tout.txt", "/box/answer.txt"]
        return Proc(argv=argv, rw_binds={**rw, "/box/tout.txt": f"{work}/tout"}, **common), [f"{work}/tout"]

    def _interactor_result(self, ctx: JudgeContext, test: TestCase, work: str, mgr: ProcResult,
                           users: list[ProcResult]) -> TestResult:
        if params_of(ctx.problem, self.Params).interactor == "kattis":
            return self._kattis_result(ctx, test, work, mgr, users[0])
        user = users[0]
        tl = ctx.problem.time_limit
        interactor = params_of(ctx.problem, self.Params).interactor
        try:
            score, message = testlib_outcome(mgr.status, mgr.exit_code, mgr.stderr, mgr.message, "interactor")
        except CheckerFailure as exc:
            if user.status != ProcStatus.OK:  # the interactor died of the submission's failure
                return failed_run(test, user)
            return system_error(test, str(exc))
        if score <= 0.0 and user.status not in (ProcStatus.TLE_CPU, ProcStatus.TLE_WALL, ProcStatus.MLE):
            return scored(test, 0.0, message, user.cpu_s, user.wall_s, user.memory_bytes)  # rejected first
        if user.status != ProcStatus.OK:
            return failed_run(test, user)
        if user.cpu_s > tl:
            return failed_run(test, failed_cpu(user, user.cpu_s, user.wall_s, user.memory_bytes, tl))
        if interactor == "testlib" and ctx.problem.checker.source is not None:
            try:  # Polygon: the checker judges what the interactor wrote to tout
                checked, message = ctx.check(test, f"{work}/tout", work)
            except CheckerFailure as exc:
                return system_error(test, str(exc))
            score *= checked
        return scored(test, score, message, user.cpu_s, user.wall_s, user.memory_bytes)

    def _kattis_result(self, ctx: JudgeContext, test: TestCase, work: str, mgr: ProcResult,
                       user: ProcResult) -> TestResult:
        """problemtools' rule: a validator failure is SE whatever the submission did; a rejection by a validator
        that ended first is WA; else the submission's TLE or run-time error; else the validator's verdict."""
        read = ctx.reader(f"{work}/fifo0")
        try:
            score, message = kattis_outcome(ctx.problem.checker, test.name, mgr.status, mgr.exit_code, mgr.stderr,
                                            read, "interactive validator")
        except CheckerFailure as exc:
            return system_error(test, str(exc))
        first = (read(EXIT_ORDER) or b"").decode(errors="replace").strip()
        if first not in ("validator", "submission"):
            return system_error(test, f"the interactive run did not record which process ended first ({first!r})")
        if score <= 0.0 and first == "validator":
            return scored(test, 0.0, message, min(user.cpu_s, ctx.problem.time_limit), user.wall_s,
                          user.memory_bytes)
        if user.status != ProcStatus.OK:
            return failed_run(test, user)
        if user.cpu_s > ctx.problem.time_limit:
            return failed_run(test, failed_cpu(user, user.cpu_s, user.wall_s, user.memory_bytes,
                                               ctx.problem.time_limit))
        return scored(test, score, message, user.cpu_s, user.wall_s, user.memory_bytes)


def failed_cpu(template: ProcResult, cpu: float, wall: float, mem: int, tl: float) -> ProcResult:
    """The user processes together used more CPU time than the limit (each stayed under it)."""
    return template.model_copy(update={
        "status": ProcStatus.TLE_CPU, "cpu_s": cpu, "wall_s": wall, "memory_bytes": mem,
        "message": f"Execution timed out (total CPU time of the user processes {cpu:.3f} s > {tl:g} s)"})

