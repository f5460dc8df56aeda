"""The problem every adversarial case is judged on (written by :func:`ioi_eval.problem.writer.write_plain_package`)."""

from __future__ import annotations

from pathlib import Path

from ..judge.task_types import Batch
from ..problem.writer import write_plain_package

# a+b with distinctive answers, so that an answer found anywhere it should not be is no coincidence.
TESTS: dict[str, tuple[str, str]] = {
    "0-01": ("1000000007 2000000014\n", "3000000021\n"),
    "1-01": ("1234567890123 9876543210987\n", "11111111101110\n"),
}
TIME_LIMIT_S = 1.0
MEMORY_LIMIT_BYTES = 256 << 20


def write_sum_package(root: Path) -> Path:
    """The suite's Batch problem: print a+b (TL 1 s, ML 256 MiB), one subtask of two tests."""
    return write_plain_package(
        root,
        problem={"code": "adversarial_sum", "name": "Adversarial a+b", "time_limit": TIME_LIMIT_S,
                 "memory_limit": MEMORY_LIMIT_BYTES, "score_precision": 2, "task_type": Batch.name},
        subtasks={"01-all": {"score": 100, "testcases": list(TESTS)}},
        tests=TESTS,
    )
