"""verl's custom reward hook: ``compute_score(data_source, solution_str, ground_truth, extra_info=None)``.

Point verl at it with ``custom_reward_function.path=<this file>`` (or a module of yours that imports it) and
``custom_reward_function.name=compute_score``; pass the reward's options through
``custom_reward_function.reward_kwargs`` (``problems``, ``mode``, ``backend``, ``workers``, ``judge_profile``,
``language``...), or set ``IOI_EVAL_REWARD_PROBLEMS`` (and ``IOI_EVAL_REWARD_MODE``, ``IOI_EVAL_REWARD_BACKEND``).

``ground_truth`` is the problem id, ``<id>/<subtask>``, or open-r1's ``verification_info`` as JSON. The answer is a
dict: ``score`` and the verdict summary (``verdict``, ``failed_test``, ``passed``, ``tests``, ``status``).

verl has no way to leave one sample out, so a judge fault is not turned into a score: it raises
:class:`~ioi_eval.errors.RewardFaultError` naming the cause, unless the caller opts in to a stand-in with
``fault_score=`` (the dict then says ``fault: 1``). One :class:`CodeReward` per process and configuration is kept,
so its box pool, compile cache and verdict memory live as long as the worker.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..errors import RewardFaultError
from .reward import CodeReward, Sample

_REWARDS: dict[tuple, CodeReward] = {}
_LOCK = threading.Lock()


def shared_reward(**options: Any) -> CodeReward:
    """The process's :class:`CodeReward` for these options (built on first use)."""
    options.setdefault("problems", os.environ.get("IOI_EVAL_REWARD_PROBLEMS") or None)
    options.setdefault("mode", os.environ.get("IOI_EVAL_REWARD_MODE", "binary"))
    options.setdefault("backend", os.environ.get("IOI_EVAL_REWARD_BACKEND", "local"))
    key = tuple(sorted((k, repr(v)) for k, v in options.items()))
    with _LOCK:
        reward = _REWARDS.get(key)
        if reward is None:
            reward = _REWARDS[key] = CodeReward(**options)
        return reward


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
                  fault_score: float | None = None, **options: Any) -> dict[str, Any]:
    """Judge ``solution_str`` against ``ground_truth``; a dict with ``score`` and the verdict summary."""
    reward = shared_reward(**options)
    language = (extra_info or {}).get("language") if isinstance(extra_info, dict) else None
    if isinstance(ground_truth, dict):
        target = reward.target_of({"verification_info": ground_truth, "language": language})
    else:
        target = reward.target_of_label(str(ground_truth), language)
    result = reward.judge_samples([Sample(target, solution_str)])[0]
    reward.faults.record([result.message or result.status if result.fault else None])
    summary = {"status": result.status, "verdict": result.verdict, "failed_test": result.failed_test or "",
               "passed": result.passed, "tests": result.tests, "data_source": data_source}
    if result.fault:
        if fault_score is None:
            raise RewardFaultError(f"the judge failed on {target.label}: {result.message} (verl cannot leave a "
                                   "sample out; pass fault_score= to score faults anyway)")
        return {"score": float(fault_score), "fault": 1, **summary}
    assert result.reward is not None
    return {"score": result.reward, "fault": 0, **summary}
