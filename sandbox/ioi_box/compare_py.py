"""Comparators that reproduce other judges' output comparison (pure Python, run by the executor).

The native comparators (``cpp/compare.cpp``) implement CMS's white-diff and the standard checkers.
These two reproduce the comparisons of open-r1's Piston packages, for users who want its published
numbers (``--judge-profile piston`` / ``codeforces``):

- ``diff_b``: the ``cms_ioi`` package's ``diff -bq <(echo "$CORRECT_OUTPUT") output``. Lines are
  compared one by one; a run of white space equals any other non-empty run, white space at a line's
  end is ignored, but leading white space and blank lines count (unlike CMS's white-diff). The
  expected output loses its trailing newlines (``$(cat …)``) and gets one back (``echo``); a missing
  final newline in the output is ignored, as GNU diff does under ``-b``.
- ``cf_lenient``: the ``codeforces`` package's ``normalize_output``: whole words ``yes``/``no`` in any
  case become ``YES``/``NO``, every white-space run (newlines included) becomes one space, then the
  two texts must be equal: a token comparison in which only yes/no ignore case.
"""

from __future__ import annotations

import re
from pathlib import Path

_WS = re.compile(rb"[ \t\r\v\f]+")
_YES = re.compile(rb"\byes\b", re.IGNORECASE)
_NO = re.compile(rb"\bno\b", re.IGNORECASE)


def _same(exp: list[bytes], out: list[bytes], unit: str, note: str = "") -> tuple[bool, str]:
    """Whether two lists of lines (or tokens) are equal, and where they first differ."""
    for i, (a, b) in enumerate(zip(exp, out, strict=False)):
        if a != b:
            return False, f"{unit[:-1]} {i + 1} differs{note}"
    if len(exp) != len(out):
        return False, f"expected {len(exp)} {unit}, got {len(out)}{note}"
    return True, ""


def _diff_b_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final newline ends the last line; without it the line is the same under -b
    return [_WS.sub(b" ", line.rstrip(b" \t\r\v\f")) for line in lines]


def diff_b(expected: bytes, output: bytes) -> tuple[bool, str]:
    """``diff -b`` of ``echo "$(cat expected)"`` and the output."""
    return _same(_diff_b_lines(expected.rstrip(b"\n") + b"\n"), _diff_b_lines(output), "lines", " (diff -b)")


def _cf_tokens(data: bytes) -> list[bytes]:
    return _NO.sub(b"NO", _YES.sub(b"YES", data)).split()


def cf_lenient(expected: bytes, output: bytes) -> tuple[bool, str]:
    """open-r1's Codeforces comparison: tokens equal, with yes/no in any case."""
    return _same(_cf_tokens(expected), _cf_tokens(output), "tokens")


PY_COMPARATORS = {"diff_b": diff_b, "cf_lenient": cf_lenient}


def compare_files(kind: str, expected: Path, output: Path) -> tuple[bool, str]:
    """Run the Python comparator ``kind`` on two files."""
    return PY_COMPARATORS[kind](expected.read_bytes(), output.read_bytes())
