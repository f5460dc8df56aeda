"""What a run reports while it goes (:class:`Progress`) and what it did when it ends (:class:`RunResult`).

A small module of its own, importing nothing heavy at run time: the command line builds its progress display
from these at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..generate.base import Completion
    from ..judge.results import JudgeReport


@dataclass
class Progress:
    """The events a run emits, as callbacks (all optional): the CLI draws them, a library caller may ignore them."""

    on_start: Callable[[Path], None] = lambda folder: None
    on_note: Callable[[str], None] = lambda message: None
    on_generated: Callable[[Completion], None] = lambda c: None
    on_judged: Callable[[str, JudgeReport | None], None] = lambda k, r: None
    on_totals: Callable[[int, int], None] = lambda gen, judge: None


@dataclass
class RunResult:
    """What a run did this time (the scores come from :mod:`ioi_eval.scoring.run_score`)."""

    generated: int = 0
    failed_generations: int = 0
    judged: int = 0
    judge_errors: list[str] = field(default_factory=list)
