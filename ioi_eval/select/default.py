"""``ioi-eval``: today's default, the fixed round-robin of :mod:`ioi_eval.scoring.selection`."""

from __future__ import annotations

from typing import ClassVar

from ..scoring.selection import select
from .base import Information, Outcome, Pool


class RoundRobin:
    """``ioi-eval run``'s own rule (round-robin from the hardest subtask, samples score then length first)."""

    name: ClassVar[str] = "ioi-eval"
    information: ClassVar[Information] = "public"
    summary: ClassVar[str] = "ioi-eval's default: round-robin from the hardest subtask, by samples score and length"
    needs_behaviour: ClassVar[bool] = False

    def outcome(self, pool: Pool, budget: int | None, seed: int) -> Outcome:
        """The score of the submissions :func:`~ioi_eval.scoring.selection.select` makes."""
        cap = len(pool.entries) if budget is None else budget
        chosen = select(pool.candidates, pool.names, pool.points, cap=cap)
        return Outcome(points=pool.score(chosen), submitted=len(chosen))
