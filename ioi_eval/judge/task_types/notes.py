"""What a prompt says about a task type: how the submission runs (the templates' ``kind``) and with what."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...problem.model import Problem
from ..languages import get_language
from .params import TaskParams

PromptKind = Literal["program", "grader", "communication", "interactive", "output_only"]


@dataclass(frozen=True)
class PromptNotes:
    """A task type's part of a prompt's variables (see :mod:`ioi_eval.prompts.builder`).

    ``kind``: ``program`` (reads the input itself), ``grader`` (functions called by a grader with
    ``main``), ``communication`` (functions linked with a stub, talking to a manager),
    ``interactive`` (a whole program talking to a manager) or ``output_only``.
    ``harness``: the ``grader``/``stub`` the submission is linked with, or None; ``harness_file``: that
    file in the prompt's language, None when there is no harness or the package lacks it in that language.
    ``show_header``: whether the prompt shows the package's ``<code>.h``.
    """

    kind: PromptKind
    harness: str | None = None
    harness_file: Path | None = None
    show_header: bool = True
    input_file: str = ""
    output_file: str = ""
    num_processes: int = 1


def notes_for(problem: Problem, params: TaskParams, kind: PromptKind, harness: str | None, language: str,
              show_header: bool = True) -> PromptNotes:
    """The notes of a problem whose submission in ``language`` is linked with ``harness`` (or None)."""
    harness_file = problem.grader(f"{harness}{get_language(language).suffixes[0]}") if harness else None
    return PromptNotes(kind=kind, harness=harness, harness_file=harness_file, show_header=show_header,
                       input_file=params.input_file, output_file=params.output_file,
                       num_processes=params.num_processes)


__all__ = ["PromptKind", "PromptNotes", "notes_for"]
