"""Shared fixtures: package builders and a judge on the local backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = REPO / "problems"
IOI2024 = Path("/tmp/ioi24")  # the official packages, when fetched for local validation


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


@pytest.fixture
def sum_package(tmp_path: Path) -> Path:
    """A tiny Batch stdin/stdout package: print a+b."""
    return write_package(
        tmp_path / "sum",
        problem={"code": "sum", "name": "Sum", "time_limit": 1.0, "memory_limit": 256 << 20,
                 "score_precision": 2, "task_type": "Batch"},
        subtasks={"00-samples": {"score": 0, "testcases": ["0-01"]},
                  "01-small": {"score": 40, "testcases": ["0-01", "1-01", "1-02"]},
                  "02-big": {"score": 60, "testcases": ["1-01", "2-01", "2-02"]}},
        tests={"0-01": ("1 2\n", "3\n"), "1-01": ("5 6\n", "11\n"), "1-02": ("0 0\n", "0\n"),
               "2-01": ("2000000000 2000000000\n", "4000000000\n"), "2-02": ("-7 3\n", "-4\n")},
    )


@pytest.fixture(scope="session")
def judge() -> Iterator[object]:
    """One local judge for the session (its compile cache is a temporary folder)."""
    import tempfile

    from ioi_eval.judge.judge import Judge

    with tempfile.TemporaryDirectory() as cache, Judge(cache_dir=Path(cache)) as j:
        yield j
