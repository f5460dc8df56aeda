"""Building the compile unit of a contestant submission, shared by Batch and Communication."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ...errors import JudgeError
from ...problem.model import Problem
from ..compiler import CompileUnit
from ..languages import LANGUAGES, get_language
from ..profile import JudgeProfile
from ..submission import Submission

if TYPE_CHECKING:
    from ..languages import Program
    from ..results import CompileResult
    from .base import JudgeContext

# Package programs the contestant's compile never sees: the manager, in any language, and testlib.
_PRIVATE = (*(lang.source_name("manager") for lang in LANGUAGES.values()), "testlib.h")


def task_header(problem: Problem) -> str | None:
    """The task's own header ``<code>.h`` when the package has one (open-r1's ``add_includes`` includes it)."""
    name = f"{problem.code}.h"
    return name if problem.grader(name) is not None else None


def user_unit(problem: Problem, submission: Submission, harness: str | None,
              profile: JudgeProfile | None = None) -> CompileUnit:
    """The unit compiling ``submission`` with ``harness`` (``grader``/``stub`` base name, or None).

    The language takes the judge profile's flags plus the problem's defines (C++: ``-D`` each).

    The submission is named after the task code (the language's :meth:`~Language.source_name`:
    ``<code>.cpp`` / ``<code>.py``), as CMS does, so graders can include ``<code>.h`` or import
    ``<code>``. A language that builds a program compiles the harness with the submission; one whose
    sources run as they are starts the harness, which imports the submission; either way the harness is
    compiled (or checked) with the submission.
    """
    if submission.source is None or submission.language is None:
        raise JudgeError("this task type needs a source-code submission")
    lang = get_language(submission.language)
    own = lang.source_name(problem.code)
    files = {p.name: p.read_bytes() for p in problem.grader_files
             if p.name not in _PRIVATE and not p.name.startswith(("grader.", "stub."))}
    compiled: tuple[str, ...] = (own,)
    main = own
    if harness is not None:
        harness_file = problem.grader(lang.source_name(harness))
        if harness_file is None:
            raise JudgeError(f"{problem.code}: the package has no graders/{lang.source_name(harness)}, "
                             f"so {submission.language} submissions cannot be judged")
        files[harness_file.name] = harness_file.read_bytes()
        main = harness_file.name
        compiled = (harness_file.name, own)  # a language that only checks its sources checks the harness too
    profile = profile or JudgeProfile()
    source = submission.source
    files[own] = lang.add_includes(source, task_header(problem)) if profile.add_includes else source
    flags = lang.compile_flags(profile.cpp_flags, problem.defines)
    return CompileUnit(language=lang.name, files=tuple(sorted(files.items())), compiled=compiled,
                       main=main, flags=flags)


def compile_user(ctx: JudgeContext, submission: Submission, harness: str | None
                 ) -> tuple[CompileResult, Program | None]:
    """Compile ``submission`` with the package's ``harness``; a compile error the harness makes is the package's.

    When the unit does not compile, the harness is compiled on its own (without the submission): if that fails
    too, the package is broken, which is a :class:`~ioi_eval.errors.JudgeError` (SE) naming the file, never a CE
    for the contestant. A unit that compiles costs nothing more.
    """
    unit = user_unit(ctx.problem, submission, harness, ctx.profile)
    result, program = ctx.compiler.compile(unit)
    if result.ok or harness is None:
        return result, program
    lang = get_language(unit.language)
    own = lang.source_name(ctx.problem.code)
    alone = replace(unit, files=tuple((n, d) for n, d in unit.files if n != own),
                    compiled=(unit.main,), main=unit.main, extra_argv=lang.compile_only_flags)
    check, _ = ctx.compiler.compile(alone)
    if not check.ok:
        raise JudgeError(f"{ctx.problem.code}: the package's graders/{unit.main} does not compile on its own, so "
                         f"no submission can be judged: {check.message.strip()[:2000]}")
    return result, program
