"""Task types (CMS): Batch, Communication, OutputOnly behind one protocol.

:data:`TASK_TYPES` is the only list of task type names; everything else asks the task type.
"""

from __future__ import annotations

from .base import JudgeContext, TaskType
from .batch import Batch
from .communication import Communication
from .notes import PromptNotes
from .output_only import OutputOnly
from .params import TaskParams

TASK_TYPES: dict[str, type[TaskType]] = {t.name: t for t in (Batch, Communication, OutputOnly)}


def get_task_type(name: str) -> TaskType:
    """A fresh task type object for the problem's ``task_type``."""
    return TASK_TYPES[name]()


def task_type_names() -> str:
    """The known names for messages: ``Batch, Communication or OutputOnly``."""
    *head, last = TASK_TYPES
    return f"{', '.join(head)} or {last}" if head else last


__all__ = ["TASK_TYPES", "Batch", "Communication", "JudgeContext", "OutputOnly", "PromptNotes", "TaskParams",
           "TaskType", "get_task_type", "task_type_names"]
