"""The problem-source protocol: where problem packages come from.

Every source materialises its problems as CMS-layout packages (the IOI 2024 layout of
``docs/package-format.md``) and the rest of ioi-eval only ever loads those, so a dataset row, a
Kattis or a Polygon package is judged by the same code as an official IOI package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ProblemSource(Protocol):
    """A set of problems reachable through one ``--problems`` spec."""

    spec: str

    def packages(self) -> list[Path]:
        """CMS-layout package roots (materialised and cached on disk where the source needs it)."""
        ...
