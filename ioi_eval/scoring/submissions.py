"""Scoring several submissions to one problem (IOI since 2017)."""

from __future__ import annotations

from collections.abc import Sequence

from ..judge.results import JudgeReport


def best_of_submissions(reports: Sequence[JudgeReport], cap: int = 50, precision: int = 2) -> float:
    """Sum over subtasks of the best score any of the first ``cap`` submissions got on it.

    Only the first ``cap`` submissions count, in the order given, as a contestant's would.
    """
    if cap < 1:
        raise ValueError("the submission cap must be at least 1")
    counted = list(reports)[:cap]
    if not counted:
        return 0.0
    n = len(counted[0].subtasks)
    if any(len(r.subtasks) != n for r in counted):
        raise ValueError("reports belong to different problems (subtask counts differ)")
    best = [max(r.subtasks[i].score for r in counted) for i in range(n)]
    return round(sum(best), precision)
