"""``oracle``: every sample submitted, no budget: the best points per subtask over all samples (a ceiling)."""

from __future__ import annotations

from typing import ClassVar

from .base import Information, Outcome, Pool


class Oracle:
    """The best per subtask over all samples, as ``ioi-eval run`` reports it; it ignores the budget."""

    name: ClassVar[str] = "oracle"
    information: ClassVar[Information] = "hidden"
    summary: ClassVar[str] = "best per subtask over all samples, whatever the budget (hidden tests decide)"
    needs_behaviour: ClassVar[bool] = False

    def outcome(self, pool: Pool, budget: int | None, seed: int) -> Outcome:
        """The score of submitting every usable sample."""
        usable = [e.candidate for e in pool.entries if e.usable]
        return Outcome(points=pool.score(usable), submitted=len(usable))
