"""Batch: the submission (alone or with a grader) reads the input and writes an output to check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from ioi_box.protocol import JobResult, Proc, ProcStatus, RunJob

from ...problem.model import Problem, TestCase
from ..checkers import CheckerFailure
from ..languages import Program
from ..results import CompileResult, TestResult
from ..submission import Submission
from .base import STDERR_CAPTURE, JudgeContext, failed_run, noted, scored, system_error
from .notes import PromptNotes, notes_for
from .params import TaskParams, has_program, interactor_error, params_of, validate_params
from .programs import compile_user


class Batch:
    """CMS Batch: stdin/stdout (or named files), white-diff or a checker."""

    name: ClassVar[str] = "Batch"
    takes_code: ClassVar[bool] = True
    needs_expected_output: ClassVar[bool] = True
    harness: ClassVar[str | None] = "grader"

    class Params(TaskParams):
        """Batch parameters: ``compilation`` (``grader`` links ``graders/grader.<ext>``, the default
        when the package ships one; else ``alone``) and ``input_file``/``output_file`` (empty:
        stdin/stdout). A Kattis or testlib ``interactor`` is refused."""

    @classmethod
    def load_params(cls, values: dict[str, Any], root: Path, where: Path) -> Batch.Params:
        """The package's parameters, ``compilation`` defaulting to what ``graders/`` holds."""
        if "compilation" not in values:
            values = {**values, "compilation": "grader" if has_program(root / "graders", "grader") else "alone"}
        params = validate_params(cls.Params, values, where)
        if params.interactor != "cms":
            raise interactor_error(params, where)
        return params

    def prompt_notes(self, problem: Problem, language: str) -> PromptNotes:
        """A whole program (``program``), or functions called by the grader (``grader``)."""
        params = params_of(problem, self.Params)
        harness = params.linked_harness(self.harness)
        return notes_for(problem, params, "grader" if harness else "program", harness, language)

    def setup(self, ctx: JudgeContext) -> None:
        """Nothing beyond the checker, which the judge prepares for every task type."""

    def prepare(self, ctx: JudgeContext, submission: Submission) -> tuple[CompileResult, Program | None]:
        harness = params_of(ctx.problem, self.Params).linked_harness(self.harness)
        return compile_user(ctx, submission, harness)

    def evaluate(self, ctx: JudgeContext, prepared: Program, test: TestCase) -> TestResult:
        work = ctx.box.new_dir()
        try:
            result, output = self.run_program(ctx, prepared, test, work)
            return noted(self._outcome(ctx, test, result, output, work), result.note)
        finally:
            ctx.box.remove([work])

    def run_program(self, ctx: JudgeContext, prepared: Program, test: TestCase, work: str) -> tuple[JobResult, str]:
        """Run the program on ``test``'s input (stdin or the input file) in the scratch folder ``work``; the run's
        result and the box path of the output it wrote (stdout or the output file), not yet checked."""
        params = params_of(ctx.problem, self.Params)
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
        return ctx.run(RunJob(procs=[proc], outputs=outputs)), output

    @staticmethod
    def _outcome(ctx: JudgeContext, test: TestCase, result: JobResult, output: str, work: str) -> TestResult:
        """The test's result from its run: the run's failure, else the checker's score."""
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
