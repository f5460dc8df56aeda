"""OutputOnly: the submission is the outputs themselves; each is checked, a missing one scores 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from ...problem.model import Problem, TestCase
from ..checkers import CheckerFailure
from ..results import CompileResult, TestResult, Verdict
from ..submission import Submission
from .base import JudgeContext, scored, system_error
from .notes import PromptNotes, notes_for
from .params import TaskParams, interactor_error, params_of, validate_params


class OutputOnly:
    """CMS OutputOnly: files ``output_<test>.txt``."""

    name: ClassVar[str] = "OutputOnly"
    takes_code: ClassVar[bool] = False
    needs_expected_output: ClassVar[bool] = True
    harness: ClassVar[str | None] = None

    class Params(TaskParams):
        """OutputOnly reads no parameter; a Kattis or testlib ``interactor`` is refused."""

    @classmethod
    def load_params(cls, values: dict[str, Any], root: Path, where: Path) -> OutputOnly.Params:
        """The package's parameters (kept as stated)."""
        params = validate_params(cls.Params, values, where)
        if params.interactor != "cms":
            raise interactor_error(params, where)
        return params

    def prompt_notes(self, problem: Problem, language: str) -> PromptNotes:
        """A program run on each input file (``output_only``); no header is shown."""
        return notes_for(problem, params_of(problem, self.Params), "output_only", None, language, show_header=False)

    def setup(self, ctx: JudgeContext) -> None:
        """Nothing to compile beyond the checker."""

    def prepare(self, ctx: JudgeContext, submission: Submission) -> tuple[CompileResult, Submission | None]:
        if submission.source is not None and not submission.outputs:
            return CompileResult(ok=False, message="an output-only task takes output files, not source code"), None
        unknown = sorted(set(submission.outputs) - set(ctx.problem.tests))
        note = f"ignored files for unknown tests: {', '.join(unknown)}" if unknown else ""
        return CompileResult(ok=True, message=note), submission

    def evaluate(self, ctx: JudgeContext, prepared: Submission, test: TestCase) -> TestResult:
        data = prepared.outputs.get(test.name)
        if data is None:
            return TestResult(name=test.name, verdict=Verdict.WA, score=0.0,
                              message=f"File not submitted (output_{test.name}.txt)")
        work = ctx.box.new_dir()
        try:
            output = ctx.box.put_bytes(data)
            try:
                score, message = ctx.check(test, output, work)
            except CheckerFailure as exc:
                return system_error(test, str(exc))
            return scored(test, score, message)
        finally:
            ctx.box.remove([work])
