"""The fault window: faults are counted, and a window dominated by them raises."""

from __future__ import annotations

import pytest

from ioi_eval.errors import RewardConfigError, RewardFaultError
from ioi_eval.rewards.faults import FaultWindow


def test_window_raises_only_past_its_share_once_full_enough() -> None:
    w = FaultWindow(max_share=0.5, size=8, min_samples=4)
    w.record(["lost box", "lost box", "lost box"])  # 3 faults, but under min_samples
    w.record([None, None, None])  # 3 of 6: exactly half is allowed
    assert w.share() == 0.5
    with pytest.raises(RewardFaultError, match=r"4 of the last 7 .* lost box \(x3\)"):
        w.record(["timeout"])
    w.record([None] * 8)  # the window moves on: old faults leave it
    assert w.share() == 0.0 and w.total == 15 and w.total_faults == 4


@pytest.mark.parametrize(("share", "size", "minimum"), [(1.5, 8, 4), (-0.1, 8, 4), (0.5, 0, 1), (0.5, 8, 0)])
def test_bad_window_settings(share: float, size: int, minimum: int) -> None:
    with pytest.raises(RewardConfigError):
        FaultWindow(share, size, minimum)
