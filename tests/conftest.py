"""Shared fixtures: package builders and a judge on the local backend."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioi_eval.problem.writer import write_plain_package as write_package


def pytest_configure(config: pytest.Config) -> None:
    """Give the Ctrl-C tests a working SIGINT, however the suite was started.

    A shell without job control starts background jobs with SIGINT ignored, and an ignored signal
    stays ignored across exec: the suite, and every harness it spawns, would never see Ctrl-C.
    A handler (unlike SIG_IGN) is reset to the default at exec, so this also serves the children.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

__all__ = ["write_package"]

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = REPO / "problems"
IOI2024 = Path("/tmp/ioi24")  # the official packages, when fetched for local validation


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
