"""Bootstrap confidence intervals for mean single-submission scores.

A run holds, per problem, several samples per prompt (one prompt per subtask, or one per problem).
The statistic is the sum over problems of each problem's mean sample score (a single problem: its
mean). Resampling is stratified: each (problem, prompt) group is resampled with replacement within
itself, keeping its size, so the mix of easy and hard prompts stays the run's. The interval is the
percentile interval of the resampled statistic. The RNG is seeded: the same data gives the same
interval on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

#: Resamples drawn: between seeds the interval's ends vary by about 1% of its width (Monte Carlo error).
RESAMPLES = 4000


class Interval(BaseModel):
    """A point estimate and its confidence interval."""

    mean: float
    low: float
    high: float
    confidence: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width (the "±" figure)."""
        return (self.high - self.low) / 2


def bootstrap_ci(problems: Sequence[Sequence[Sequence[float]]], confidence: float = 0.95,
                 resamples: int = RESAMPLES, seed: int = 0, precision: int = 2) -> Interval | None:
    """The interval of ``sum over problems of mean(sample scores)``; None when there are no samples.

    ``problems[i][j]`` holds the sample scores of prompt group ``j`` of problem ``i``. A problem without
    any sample contributes 0 (as its mean single score does). With one sample per group there is
    nothing to resample and the interval is the point itself.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    rng = np.random.default_rng(seed)
    point = 0.0
    stats = np.zeros(resamples)
    n_total = 0
    for groups in problems:
        arrays = [np.asarray(g, dtype=float) for g in groups if len(g)]
        n = sum(a.size for a in arrays)
        if n == 0:
            continue
        n_total += n
        # each problem's mean rounded as RunScore rounds it, so the point is the summary's figure
        point += round(sum(float(a.sum()) for a in arrays) / n, precision)
        resampled = np.zeros(resamples)
        for a in arrays:
            idx = rng.integers(0, a.size, size=(resamples, a.size))
            resampled += a[idx].sum(axis=1)
        stats += resampled / n
    if n_total == 0:
        return None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(stats, [tail, 100 - tail])
    # Summation-order noise must not put the point just outside a zero-width interval.
    low = point if abs(low - point) < 1e-9 else float(low)
    high = point if abs(high - point) < 1e-9 else float(high)
    return Interval(mean=round(point, precision), low=round(low, precision), high=round(high, precision),
                    confidence=confidence, n=n_total)
