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
    from ..judge.results import ReportText


@dataclass
class Progress:
    """The events a run emits, as callbacks (all optional): the CLI draws them, a library caller may ignore them."""

    on_start: Callable[[Path], None] = lambda folder: None
    on_note: Callable[[str], None] = lambda message: None
    on_generated: Callable[[Completion], None] = lambda c: None
    #: A submission was judged (its report as recorded: ``.score``, ``.json``; ``.report`` parses it), or could
    #: not be (None: it stays unjudged, the run's ``judge_errors`` say why).
    on_judged: Callable[[str, ReportText | None], None] = lambda k, r: None
    #: Generations to make, and submissions already generated that wait for judging.
    on_totals: Callable[[int, int], None] = lambda gen, judge: None
    #: A submission was queued for judging (one of those counted by ``on_totals``, or a new generation's).
    on_queued: Callable[[str], None] = lambda key: None


@dataclass
class RunResult:
    """What a run did this time (the scores come from :mod:`ioi_eval.scoring.run_score`)."""

    generated: int = 0
    failed_generations: int = 0
    judged: int = 0
    judge_errors: list[str] = field(default_factory=list)
    #: The first distinct messages of the generations that failed this time (at most :data:`MAX_CAUSES`).
    generation_errors: list[str] = field(default_factory=list)

    #: How many distinct generation errors a result keeps.
    MAX_CAUSES = 5

    def generation_failed(self, message: str) -> None:
        """Count a generation that failed for good, keeping its message if it is a new one."""
        self.failed_generations += 1
        if message not in self.generation_errors and len(self.generation_errors) < self.MAX_CAUSES:
            self.generation_errors.append(message)

    @property
    def produced_nothing(self) -> bool:
        """True when generations were attempted this time and every one of them failed."""
        return self.failed_generations > 0 and self.generated == 0
