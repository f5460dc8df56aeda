"""Medal lines: contest cutoffs are data (``ioi_eval/data/contests.json``), not code."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from ..errors import IoiEvalError

MEDALS = ("gold", "silver", "bronze")


class Contest(BaseModel):
    """One contest's problems and medal cutoffs (total points)."""

    name: str
    problems: list[str]
    max_score: float
    cutoffs: dict[str, float] = Field(description="gold, silver and bronze: the least total earning each")

    @field_validator("cutoffs")
    @classmethod
    def _every_medal(cls, cutoffs: dict[str, float]) -> dict[str, float]:
        if set(MEDALS) - set(cutoffs):
            raise ValueError(f"lacks a cutoff for one of {', '.join(MEDALS)}")
        return cutoffs


class Award(BaseModel):
    """The medal a total earns in a contest (``medal`` None: below bronze)."""

    contest: str
    contest_name: str
    medal: str | None
    cutoff: float | None = Field(description="the cutoff of the medal earned (None: no medal)")
    cutoffs: dict[str, float]
    partial: bool = Field(description="only some of the contest's problems were judged")


_CONTESTS = TypeAdapter(dict[str, Contest])


def contests(path: Path | None = None) -> dict[str, dict]:
    """The contests we know cutoffs for (the bundled data, or a JSON file of the same shape)."""
    if path is None:
        return json.loads(resources.files("ioi_eval").joinpath("data/contests.json").read_text())
    try:
        data = json.loads(path.read_text())
        _CONTESTS.validate_python(data)
    except (OSError, ValueError, ValidationError) as exc:
        raise IoiEvalError(f"{path}: not a contests file ({{id: {{name, problems, max_score, cutoffs}}}}): "
                           f"{exc}") from exc
    return data


def award(problem_codes: set[str], total: float, known: dict[str, dict] | None = None) -> Award | None:
    """The medal ``total`` earns in the first contest holding all these problems; None if none does."""
    for cid, contest in (known if known is not None else contests()).items():
        if problem_codes and problem_codes <= set(contest["problems"]):
            cutoffs = {m: float(contest["cutoffs"][m]) for m in MEDALS}
            medal = next((m for m in MEDALS if total >= cutoffs[m]), None)
            return Award(contest=cid, contest_name=contest["name"], medal=medal,
                         cutoff=cutoffs[medal] if medal else None, cutoffs=cutoffs,
                         partial=problem_codes != set(contest["problems"]))
    return None


def medal_line(problem_codes: set[str], total: float) -> str:
    """The medal ``total`` would earn in the contest whose problems these are, or a note why none."""
    won = award(problem_codes, total)
    if won is None:
        return "no medal cutoffs known for this problem set"
    partial = " (only part of the contest judged)" if won.partial else ""
    if won.medal:
        return f"{won.contest_name}: {won.medal} (cutoff {won.cutoff:g}){partial}"
    return f"{won.contest_name}: no medal (bronze at {won.cutoffs['bronze']:g}){partial}"
