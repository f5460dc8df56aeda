"""Rewards for RL training: the strict judge as TRL reward functions, a verl ``compute_score`` and an HTTP server.

See ``docs/rewards.md``. ``CodeReward`` (and ``AsyncCodeReward``) live in ``reward.py``, the modes in ``modes.py``,
finding a row's problem in ``targets.py``, the fault window in ``faults.py``, verl's hook in ``verl.py`` and the
OpenRLHF-compatible server in ``server.py``.
"""

from __future__ import annotations

from .modes import MODES
from .reward import AsyncCodeReward, CodeReward, RewardResult, Sample
from .verl import compute_score

__all__ = ["MODES", "AsyncCodeReward", "CodeReward", "RewardResult", "Sample", "compute_score"]
