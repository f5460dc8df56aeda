"""Task type parameters: the ``task_type_params`` of a package, validated by the task type that reads them.

Every task type's ``Params`` subclasses :class:`TaskParams`, which holds the keys of the package
format (CMS's ``task_type_parameters_<Type>_<key>``, plus ``interactor`` for Kattis and testlib
interactors); a task type owns its defaults and the checks between keys. Templates and tools may read
any key of any task type, so every ``Params`` carries all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ...errors import JudgeError, PackageError
from ...problem.limits import MAX_PROCESSES, plain_name
from ...problem.model import Problem


class TaskParams(BaseModel):
    """Task type parameters, normalised from the package's ``task_type_params`` (unknown keys ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    compilation: Literal["alone", "grader", "stub"] = "alone"
    input_file: str = ""
    output_file: str = ""
    num_processes: int = Field(1, ge=1, le=MAX_PROCESSES,
                               description="user processes per test (Communication), 1 to 64")
    user_io: Literal["std_io", "fifo_io"] = "std_io"
    interactor: Literal["cms", "kattis", "testlib"] = Field(
        "cms", description="Communication manager protocol: CMS manager, Kattis interactive validator, "
        "or testlib interactor")

    @field_validator("input_file", "output_file")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        """A file in the program's folder (``/box/<name>``): a plain name or empty (standard I/O)."""
        if value:
            try:
                plain_name(value, "", "")
            except PackageError:
                raise ValueError(f"{value!r} is not a plain file name (no path separators or '..')") from None
        return value

    def linked_harness(self, harness: str | None) -> str | None:
        """``harness`` (``grader``/``stub``) when ``compilation`` links the submission with it, else None."""
        return harness if harness is not None and self.compilation == harness else None


P = TypeVar("P", bound=TaskParams)


def validate_params(kind: type[P], values: dict[str, Any], where: Path) -> P:
    """``values`` as ``kind``; a bad value is a :class:`PackageError` naming ``where`` (problem.json)."""
    try:
        return kind.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise PackageError(f"{where}: bad task_type_params: '{field}': {err['msg']}") from None


def interactor_error(params: TaskParams, where: Path) -> PackageError:
    """A Kattis or testlib interactor where the task type cannot run one."""
    return PackageError(f"{where}: a {params.interactor} interactor needs a Communication task with one process")


def has_program(folder: Path, stem: str) -> bool:
    """Whether ``folder`` holds ``<stem>.cpp`` or ``<stem>.py`` (a grader, stub or manager)."""
    return (folder / f"{stem}.cpp").is_file() or (folder / f"{stem}.py").is_file()


def params_of(problem: Problem, kind: type[P]) -> P:
    """The problem's parameters as the task type's ``Params`` (the loader validated them as such)."""
    params = problem.params
    if not isinstance(params, kind):
        raise JudgeError(f"{problem.code}: task parameters are {type(params).__name__}, "
                         f"not the {kind.__qualname__} of task type {problem.task_type}")
    return params


__all__ = ["TaskParams", "has_program", "interactor_error", "params_of", "validate_params"]
