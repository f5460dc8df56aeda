"""Task types (CMS): Batch, Communication, OutputOnly behind one protocol."""

from __future__ import annotations

from .base import JudgeContext, TaskType
from .batch import Batch
from .communication import Communication
from .output_only import OutputOnly

TASK_TYPES: dict[str, type] = {"Batch": Batch, "Communication": Communication, "OutputOnly": OutputOnly}


def get_task_type(name: str) -> TaskType:
    """A fresh task type object for the problem's ``task_type``."""
    return TASK_TYPES[name]()


__all__ = ["TASK_TYPES", "JudgeContext", "TaskType", "get_task_type"]
