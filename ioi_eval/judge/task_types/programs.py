"""Building the compile unit of a contestant submission, shared by Batch and Communication."""

from __future__ import annotations

from ...errors import JudgeError
from ...problem.model import Problem
from ..compiler import CompileUnit
from ..languages import get_language
from ..profile import JudgeProfile
from ..submission import Submission

# Package programs the contestant's compile never sees.
_PRIVATE = ("manager.cpp", "manager.py", "testlib.h")


def add_includes(source: bytes, problem: Problem) -> bytes:
    """open-r1's ``add_includes``: ``bits/stdc++.h``, the task header, ``using namespace std``."""
    text = source.decode("utf-8", errors="surrogateescape")
    head = "#include <bits/stdc++.h>\n"
    own = f'#include "{problem.code}.h"'
    if problem.grader(f"{problem.code}.h") is not None and own not in text:
        head += own + "\n"
    if "using namespace std;" not in text and "std::" not in text:
        head += "\nusing namespace std;\n\n"
    return (head + text).encode("utf-8", errors="surrogateescape")


def user_unit(problem: Problem, submission: Submission, harness: str | None,
              profile: JudgeProfile | None = None) -> CompileUnit:
    """The unit compiling ``submission`` with ``harness`` (``grader``/``stub`` base name, or None).

    C++ compiles with the judge profile's flags plus ``-D`` for each of the problem's defines.

    The submission is named after the task code (``<code>.cpp`` / ``<code>.py``), as CMS does,
    so graders can include ``<code>.h`` or import ``<code>``.
    """
    if submission.source is None or submission.language is None:
        raise JudgeError("this task type needs a source-code submission")
    lang = get_language(submission.language)
    suffix = lang.suffixes[0]
    own = f"{problem.code}{suffix}"
    files = {p.name: p.read_bytes() for p in problem.grader_files
             if p.name not in _PRIVATE and not p.name.startswith(("grader.", "stub."))}
    compiled: tuple[str, ...] = (own,)
    main = own
    if harness is not None:
        harness_file = problem.grader(f"{harness}{suffix}")
        if harness_file is None:
            raise JudgeError(f"{problem.code}: the package has no graders/{harness}{suffix}, "
                             f"so {submission.language} submissions cannot be judged")
        files[harness_file.name] = harness_file.read_bytes()
        main = harness_file.name
        if submission.language == "cpp":
            compiled = (harness_file.name, own)
    profile = profile or JudgeProfile()
    cpp = submission.language == "cpp"
    files[own] = add_includes(submission.source, problem) if cpp and profile.add_includes else submission.source
    flags = (*profile.cpp_flags, *(f"-D{d}" for d in problem.defines)) if cpp else ()
    return CompileUnit(language=submission.language, files=tuple(sorted(files.items())), compiled=compiled,
                       main=main, flags=flags)
