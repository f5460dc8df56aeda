"""Batch: the submission (alone or with a grader) reads the input and writes an output to check."""

from __future__ import annotations

from typing import ClassVar

from ioi_box.protocol import Proc, ProcStatus, RunJob

from ...problem.model import TestCase
from ..checkers import CheckerFailure
from ..languages import Program
from ..results import CompileResult, TestResult
from ..submission import Submission
from .base import STDERR_CAPTURE, JudgeContext, failed_run, scored, system_error
from .programs import user_unit


class Batch:
    """CMS Batch: stdin/stdout (or named files), white-diff or a checker."""

    name: ClassVar[str] = "Batch"

    def setup(self, ctx: JudgeContext) -> None:
        """Nothing beyond the checker, which the judge prepares for every task type."""

    def prepare(self, ctx: JudgeContext, submission: Submission) -> tuple[CompileResult, Program | None]:
        harness = "grader" if ctx.problem.params.compilation == "grader" else None
        return ctx.compiler.compile(user_unit(ctx.problem, submission, harness, ctx.profile))

    def evaluate(self, ctx: JudgeContext, prepared: Program, test: TestCase) -> TestResult:
        params = ctx.problem.params
        work = ctx.box.new_dir()
        try:
            output = f"{work}/output"
            proc = Proc(argv=list(prepared.argv), binds=dict(prepared.files), limits=ctx.user_limits(),
                        stderr=f"{work}/stderr", capture_stderr=STDERR_CAPTURE)
            outputs = []
            if params.input_file:
                proc.binds[f"/box/{params.input_file}"] = ctx.blob(test.input)
            else:
                proc.stdin = ctx.blob(test.input)
            if params.output_file:
                proc.rw_binds[f"/box/{params.output_file}"] = output
                proc.stdout = f"{work}/stdout"
                outputs.append(output)
            else:
                proc.stdout = output
            result = ctx.run(RunJob(procs=[proc], outputs=outputs))
            if result.error:
                return system_error(test, f"sandbox error: {result.error}")
            pr = result.procs[0]
            if pr.status != ProcStatus.OK:
                return failed_run(test, pr)
            try:
                score, message = ctx.check(test, output, work)
            except CheckerFailure as exc:
                return system_error(test, str(exc))
            return scored(test, score, message, pr.cpu_s, pr.wall_s, pr.memory_bytes)
        finally:
            ctx.box.remove([work])
