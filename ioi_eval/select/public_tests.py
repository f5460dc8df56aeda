"""``public-tests``: drop samples that do not compile or fail the samples subtask, then choose as the default."""

from __future__ import annotations

from typing import ClassVar

from ..scoring.selection import select
from .base import Information, Outcome, Pool


class PublicTests:
    """Filter on what a contestant can check before submitting (the samples), then ``ioi-eval``'s round-robin."""

    name: ClassVar[str] = "public-tests"
    information: ClassVar[Information] = "public"
    summary: ClassVar[str] = "keep samples that compile and pass the samples subtask, then the default round-robin"
    needs_behaviour: ClassVar[bool] = False

    def outcome(self, pool: Pool, budget: int | None, seed: int) -> Outcome:
        """The default's choice among the samples that pass the examples."""
        kept = [e.candidate for e in pool.entries if pool.passes_samples(e)]
        cap = len(pool.entries) if budget is None else budget
        chosen = select(kept, pool.names, pool.points, cap=cap)
        note = "" if pool.samples_index is not None else "no samples subtask: only samples that do not compile dropped"
        return Outcome(points=pool.score(chosen), submitted=len(chosen), note=note)
