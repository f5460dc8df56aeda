"""The bounds of the package format: what a package may ask of the judge, and the checks that enforce them.

A package is untrusted input. Every number and name it gives the judge is checked here, once, by the
loader and by every importer that turns another format into this one, so that a defect is a
:class:`~ioi_eval.errors.PackageError` naming the file and the field at load time, never a traceback
or a strange verdict later. ``docs/package-format.md`` lists these bounds.
"""

from __future__ import annotations

import keyword
import math
import re
from pathlib import Path
from typing import Any

from ..errors import PackageError

#: Time limit, seconds of CPU time per test: above zero and at most an hour.
MAX_TIME_LIMIT_S = 3600.0
#: Memory limit, bytes: at least 1 MiB (a smaller one is a limit given in the wrong unit), at most 1 TiB.
MIN_MEMORY_LIMIT = 1 << 20
MAX_MEMORY_LIMIT = 1 << 40
#: ``score_precision``: decimal places of a rounded subtask score.
MAX_SCORE_PRECISION = 10
#: Points of one subtask (and a per-test maximum of a Kattis validator).
MAX_POINTS = 1e6
#: Communication ``num_processes``: each is a process the judge starts per test.
MAX_PROCESSES = 64
#: ``max_submissions``: the most submissions a run may count for one problem.
MAX_SUBMISSIONS = 10_000

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _where(where: Path | str, field: str) -> str:
    return f"{where}: '{field}'"


def finite_number(value: Any, where: Path | str, field: str) -> float:
    """``value`` as a finite float (a number or a numeric string); booleans, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PackageError(f"{_where(where, field)} must be a number, not {value!r}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise PackageError(f"{_where(where, field)} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise PackageError(f"{_where(where, field)} must be a finite number, not {value!r}")
    return number


def time_limit(value: Any, where: Path | str, field: str = "time_limit", scale: float = 1.0) -> float:
    """A time limit in seconds (``value * scale``, e.g. ``scale=1e-3`` for milliseconds), in (0, 1 hour]."""
    seconds = finite_number(value, where, field) * scale
    if not 0 < seconds <= MAX_TIME_LIMIT_S:
        raise PackageError(f"{_where(where, field)} must be a time limit above 0 and at most "
                           f"{MAX_TIME_LIMIT_S:g} s, not {value!r}")
    return seconds


def memory_limit(value: Any, where: Path | str, field: str = "memory_limit", unit: int = 1) -> int:
    """A memory limit in bytes (``value * unit``, e.g. ``unit=1 << 20`` for MiB), in [1 MiB, 1 TiB]."""
    number = finite_number(value, where, field) * unit
    if not MIN_MEMORY_LIMIT <= number <= MAX_MEMORY_LIMIT:
        raise PackageError(f"{_where(where, field)} must be a memory limit of 1 MiB to 1 TiB"
                           f"{' in bytes' if unit == 1 else ''}, not {value!r}")
    return int(number)


def integer(value: Any, where: Path | str, field: str, low: int, high: int) -> int:
    """A whole number in ``[low, high]`` (``3`` or ``3.0``; not ``3.5``, ``true`` or ``"3"``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not value.is_integer()):
        raise PackageError(f"{_where(where, field)} must be a whole number from {low} to {high}, not {value!r}")
    if not low <= value <= high:
        raise PackageError(f"{_where(where, field)} must be from {low} to {high}, not {value!r}")
    return int(value)


def score_precision(value: Any, where: Path | str) -> int:
    """Decimal places of rounded scores: a whole number from 0 to 10."""
    return integer(value, where, "score_precision", 0, MAX_SCORE_PRECISION)


def points(value: Any, where: Path | str, field: str = "score") -> float:
    """Points of a subtask: a finite number from 0 to :data:`MAX_POINTS`."""
    number = finite_number(value, where, field)
    if not 0 <= number <= MAX_POINTS:
        raise PackageError(f"{_where(where, field)} must be from 0 to {MAX_POINTS:g} points, not {value!r}")
    return number


def plain_name(value: Any, where: Path | str, field: str) -> str:
    """A file name inside one folder: no path separator, not ``.``/``..``, not empty, no control characters."""
    if not isinstance(value, str):
        raise PackageError(f"{_where(where, field)} must be a name, not {value!r}")
    if (not value or value in (".", "..") or "/" in value or "\\" in value
            or any(ord(c) < 32 or ord(c) == 127 for c in value)):
        raise PackageError(f"{_where(where, field)}: {value!r} is not a plain file name (no path separators, "
                           "'..', absolute paths or control characters)")
    return value


def test_name(value: Any, where: Path | str) -> str:
    """A test name: ``tests/<name>.in`` must name a file of the package's ``tests/`` folder."""
    return plain_name(value, where, "testcases")


test_name.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def code(value: Any, where: Path | str, field: str = "code") -> str:
    """A problem code: a plain identifier (it names ``<code>.cpp``, ``<code>.h`` and the Python module)."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value) or keyword.iskeyword(value):
        raise PackageError(f"{_where(where, field)} must be a plain identifier (letters, digits and '_', "
                           f"not starting with a digit, not a Python keyword), not {value!r}")
    return value


__all__ = ["MAX_MEMORY_LIMIT", "MAX_POINTS", "MAX_PROCESSES", "MAX_SCORE_PRECISION", "MAX_SUBMISSIONS",
           "MAX_TIME_LIMIT_S", "MIN_MEMORY_LIMIT", "code", "finite_number", "integer", "memory_limit",
           "plain_name", "points", "score_precision", "test_name", "time_limit"]
