"""Medal lines: contest cutoffs are data (``ioi_eval/data/contests.json``), not code."""

from __future__ import annotations

import json
from importlib import resources


def contests() -> dict[str, dict]:
    """The contests we know cutoffs for."""
    return json.loads(resources.files("ioi_eval").joinpath("data/contests.json").read_text())


def medal_line(problem_codes: set[str], total: float) -> str:
    """The medal ``total`` would earn in the contest whose problems these are, or a note why none."""
    for contest in contests().values():
        if problem_codes and problem_codes <= set(contest["problems"]):
            partial = "" if problem_codes == set(contest["problems"]) else " (only part of the contest judged)"
            for medal in ("gold", "silver", "bronze"):
                if total >= contest["cutoffs"][medal]:
                    return f"{contest['name']}: {medal} (cutoff {contest['cutoffs'][medal]}){partial}"
            return f"{contest['name']}: no medal (bronze at {contest['cutoffs']['bronze']}){partial}"
    return "no medal cutoffs known for this problem set"
