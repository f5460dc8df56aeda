"""The problem every adversarial case is judged on, and a writer of CMS-layout packages.

:func:`write_package` builds a package folder from plain data (the same layout the tests'
``conftest.write_package`` writes; it can import this one).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..judge.task_types import Batch

# a+b with distinctive answers, so that an answer found anywhere it should not be is no coincidence.
TESTS: dict[str, tuple[str, str]] = {
    "0-01": ("1000000007 2000000014\n", "3000000021\n"),
    "1-01": ("1234567890123 9876543210987\n", "11111111101110\n"),
}
TIME_LIMIT_S = 1.0
MEMORY_LIMIT_BYTES = 256 << 20


def write_package(root: Path, *, problem: dict, subtasks: dict[str, dict], tests: dict[str, tuple[str, str]],
                  files: dict[str, str] | None = None) -> Path:
    """Write a CMS-layout package folder from plain data."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "problem.json").write_text(json.dumps(problem))
    (root / "subtasks").mkdir(exist_ok=True)
    for name, st in subtasks.items():
        (root / "subtasks" / f"{name}.json").write_text(json.dumps(st))
    (root / "tests").mkdir(exist_ok=True)
    for name, (inp, out) in tests.items():
        (root / "tests" / f"{name}.in").write_text(inp)
        (root / "tests" / f"{name}.out").write_text(out)
    for rel, text in (files or {}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def write_sum_package(root: Path) -> Path:
    """The suite's Batch problem: print a+b (TL 1 s, ML 256 MiB), one subtask of two tests."""
    return write_package(
        root,
        problem={"code": "adversarial_sum", "name": "Adversarial a+b", "time_limit": TIME_LIMIT_S,
                 "memory_limit": MEMORY_LIMIT_BYTES, "score_precision": 2, "task_type": Batch.name},
        subtasks={"01-all": {"score": 100, "testcases": list(TESTS)}},
        tests=TESTS,
    )
