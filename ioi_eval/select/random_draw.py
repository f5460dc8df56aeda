"""``random``: k samples drawn without replacement, many times; the mean score and the central 95 % of draws."""

from __future__ import annotations

import random
from typing import ClassVar

from .base import Information, Outcome, Pool

DRAWS = 1000


class RandomDraw:
    """A contestant who submits k of its samples at random (samples without code cannot be submitted)."""

    name: ClassVar[str] = "random"
    information: ClassVar[Information] = "public"
    summary: ClassVar[str] = f"k samples with code drawn at random; mean and 95 % interval over {DRAWS} seeded draws"
    needs_behaviour: ClassVar[bool] = False

    def __init__(self, draws: int = DRAWS) -> None:
        self.draws = draws

    def outcome(self, pool: Pool, budget: int | None, seed: int) -> Outcome:
        """Mean and interval over ``draws`` draws, from an RNG seeded by (seed, problem, budget)."""
        with_code = [e.candidate for e in pool.entries if e.candidate.has_code]
        k = len(with_code) if budget is None else min(budget, len(with_code))
        if k == len(with_code):  # every sample is submitted: nothing is random
            points = pool.score(with_code)
            return Outcome(points=points, submitted=k, low=points, high=points, draws=(points,) * self.draws)
        rng = random.Random(f"{seed}:{pool.problem}:{budget}")  # str seeds hash the same way on every run
        scores = [pool.score(rng.sample(with_code, k)) for _ in range(self.draws)]  # in draw order: totals pair them
        mean = round(sum(scores) / len(scores), pool.precision)
        low, high = percentile_interval(scores)
        return Outcome(points=mean, submitted=k, low=low, high=high, draws=tuple(scores))


def percentile_interval(values: list[float], level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` of ``values`` (nearest-rank percentiles of the sorted values)."""
    ordered = sorted(values)
    n = len(ordered)
    cut = (1.0 - level) / 2
    lo = ordered[min(n - 1, int(cut * n))]
    hi = ordered[max(0, min(n - 1, int((1.0 - cut) * n + 0.5) - 1))]
    return lo, hi
