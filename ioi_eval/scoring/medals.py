"""Medal lines: contest cutoffs are data (``ioi_eval/data/contests.json``), not code."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator, model_validator

from ..errors import IoiEvalError

MEDALS = ("gold", "silver", "bronze")


class Contest(BaseModel):
    """One contest's problems and medal cutoffs (total points), and where the data comes from."""

    name: str
    problems: list[str]
    max_score: float
    cutoffs: dict[str, float] | None = Field(
        description="gold, silver and bronze: the least total earning each (null: not known yet)")
    location: str | None = None
    dates: dict[str, date] = Field(default_factory=dict, description="start and/or end (ISO dates), where known")
    sources: dict[str, str] = Field(default_factory=dict, description="public source URL -> what it supports")
    note: str | None = None

    @field_validator("cutoffs")
    @classmethod
    def _every_medal(cls, cutoffs: dict[str, float] | None) -> dict[str, float] | None:
        if cutoffs is None:
            return None
        if set(MEDALS) - set(cutoffs):
            raise ValueError(f"lacks a cutoff for one of {', '.join(MEDALS)}")
        if not cutoffs["gold"] >= cutoffs["silver"] >= cutoffs["bronze"] >= 0:
            raise ValueError("cutoffs must be ordered gold >= silver >= bronze >= 0")
        return cutoffs

    @model_validator(mode="after")
    def _consistent(self) -> Contest:
        if self.cutoffs is not None and self.cutoffs["gold"] > self.max_score:
            raise ValueError(f"the gold cutoff {self.cutoffs['gold']:g} exceeds max_score {self.max_score:g}")
        if other := sorted(set(self.dates) - {"start", "end"}):
            raise ValueError(f"dates may hold start and end, not {', '.join(other)}")
        if "start" in self.dates and "end" in self.dates and self.dates["start"] > self.dates["end"]:
            raise ValueError("dates: start is after end")
        if bad := [url for url in self.sources if not url.startswith(("https://", "http://"))]:
            raise ValueError(f"sources must be URLs, not {', '.join(bad)}")
        return self


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
    """The contests we know (the bundled data, or a JSON file of the same shape), checked against :class:`Contest`.

    A contest whose ``cutoffs`` are null (not known yet) holds its problems but awards no medal.
    """
    if path is None:
        data = json.loads(resources.files("ioi_eval").joinpath("data/contests.json").read_text())
        _CONTESTS.validate_python(data)  # the bundled data too: a bad edit fails loudly, never a wrong medal
        return data
    try:
        data = json.loads(path.read_text())
        _CONTESTS.validate_python(data)
    except (OSError, ValueError, ValidationError) as exc:
        raise IoiEvalError(f"{path}: not a contests file ({{id: {{name, problems, max_score, cutoffs}}}}): "
                           f"{exc}") from exc
    return data


def award(problem_codes: set[str], total: float, known: dict[str, dict] | None = None) -> Award | None:
    """The medal ``total`` earns in the first contest holding all these problems; None if none does (or its
    cutoffs are not known)."""
    for cid, contest in (known if known is not None else contests()).items():
        if problem_codes and problem_codes <= set(contest["problems"]):
            if contest.get("cutoffs") is None:
                return None
            cutoffs = {m: float(contest["cutoffs"][m]) for m in MEDALS}
            medal = next((m for m in MEDALS if total >= cutoffs[m]), None)
            return Award(contest=cid, contest_name=contest["name"], medal=medal,
                         cutoff=cutoffs[medal] if medal else None, cutoffs=cutoffs,
                         partial=problem_codes != set(contest["problems"]))
    return None


def medal_line(problem_codes: set[str], total: float) -> str:
    """The medal ``total`` would earn in the contest whose problems these are, or a note why none."""
    known = contests()
    won = award(problem_codes, total, known)
    if won is None:
        holder = next((c for c in known.values() if problem_codes and problem_codes <= set(c["problems"])), None)
        if holder is not None:
            return f"{holder['name']}: medal cutoffs not known yet"
        return "no medal cutoffs known for this problem set"
    partial = " (only part of the contest judged)" if won.partial else ""
    if won.medal:
        return f"{won.contest_name}: {won.medal} (cutoff {won.cutoff:g}){partial}"
    return f"{won.contest_name}: no medal (bronze at {won.cutoffs['bronze']:g}){partial}"
