"""The fault window: a reward that stops the trainer when the judge, not the model, keeps failing.

A fault (a sandbox error, a lost box, a judge that did not finish within the call's budget) gives the sample no
reward (``None``), never a 0. One fault now and then is noise the trainer can skip; many mean the rewards are
garbage, so once the window holds ``min_samples`` samples and more than ``max_share`` of the last ``size`` are
faults, the reward raises :class:`~ioi_eval.errors.RewardFaultError`.
"""

from __future__ import annotations

import threading
from collections import Counter, deque

from ..errors import RewardConfigError, RewardFaultError


class FaultWindow:
    """The last ``size`` samples' outcomes (fault or not), with the causes of the recent faults."""

    def __init__(self, max_share: float = 0.5, size: int = 256, min_samples: int = 32) -> None:
        if not 0.0 <= max_share <= 1.0:
            raise RewardConfigError(f"max_fault_share must be within [0, 1], not {max_share}")
        if size < 1 or min_samples < 1:
            raise RewardConfigError("the fault window and its minimum must hold at least one sample")
        self.max_share = max_share
        self.size = size
        self.min_samples = min(min_samples, size)
        self._window: deque[str | None] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.total_faults = 0
        self.total = 0

    def record(self, causes: list[str | None]) -> None:
        """Add one call's samples (the fault's cause, or None for a sample that got a reward); raise when
        the window is over its share of faults."""
        with self._lock:
            self._window.extend(causes)
            self.total += len(causes)
            self.total_faults += sum(c is not None for c in causes)
            n = len(self._window)
            faults = [c for c in self._window if c is not None]
            if n < self.min_samples or len(faults) <= self.max_share * n:
                return
            common = Counter(faults).most_common(3)
        causes_text = "; ".join(f"{cause} (x{k})" for cause, k in common)
        raise RewardFaultError(f"{len(faults)} of the last {n} rewards were judge faults (more than "
                               f"{self.max_share:.0%}): stopping rather than training on them. Causes: {causes_text}")

    def share(self) -> float:
        """The share of faults in the window now."""
        with self._lock:
            n = len(self._window)
            return sum(c is not None for c in self._window) / n if n else 0.0
