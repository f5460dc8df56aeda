"""The baseline file of the CI gate: the scores a checkpoint must hold, in a versioned JSON schema.

A baseline is written by ``ioi-eval ci`` (the new scores of every gated run) and read by
``ioi-eval ci --baseline``. It also accepts a run's ``summary.json`` (a :class:`RunScore`), so any
finished run can serve as a baseline.

Schema (version 1)::

    {"schema": "ioi-eval/baseline", "version": 1, "created_at": "2025-01-01T00:00:00+00:00",
     "model": "...", "problems_source": "...", "run_config": {...}, "config_fingerprint": "...",
     "total": 152.5, "max_total": 600.0,
     "problems": [{"problem": "nile", "score": 30.0, "max_score": 100.0,
                   "subtasks": [{"name": "01-equal", "points": 6.0, "best": 6.0}, ...]}, ...]}
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BaselineError
from ..record.config import RunConfig
from ..scoring.run_score import RunScore

SCHEMA_NAME = "ioi-eval/baseline"
SCHEMA_VERSION = 1


class BaselineSubtask(BaseModel):
    """Best points on one subtask (IOI rule: best among the selected submissions)."""

    name: str
    points: float
    best: float


class BaselineProblem(BaseModel):
    """One problem's score under the 50-submission rule, with its subtasks."""

    problem: str
    score: float
    max_score: float
    subtasks: list[BaselineSubtask] = Field(default_factory=list)


class Baseline(BaseModel):
    """The scores of one evaluated checkpoint (``schema``/``version`` identify the file format)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_name: Literal["ioi-eval/baseline"] = Field(SCHEMA_NAME, alias="schema")
    version: Literal[1] = SCHEMA_VERSION
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    model: str
    problems_source: str | None = None
    run_config: dict[str, Any] | None = Field(None, description="the run's stored config (no secrets)")
    config_fingerprint: str | None = None
    total: float
    max_total: float
    problems: list[BaselineProblem]

    def problem(self, code: str) -> BaselineProblem | None:
        """The baseline entry of a problem, or None."""
        return next((p for p in self.problems if p.problem == code), None)

    @classmethod
    def from_run(cls, score: RunScore, config: RunConfig | None = None) -> Baseline:
        """The baseline of a scored run."""
        return cls(
            model=score.model, problems_source=config.problems if config else None,
            run_config=config.stored() if config else None,
            config_fingerprint=config.fingerprint() if config else None,
            total=score.total, max_total=score.max_total,
            problems=[BaselineProblem(problem=p.problem, score=p.score, max_score=p.max_score,
                                      subtasks=[BaselineSubtask(**s.model_dump()) for s in p.subtasks])
                      for p in score.problems])

    def dump(self, path: Path) -> None:
        """Write the baseline as indented JSON (parents created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(by_alias=True, indent=2) + "\n", encoding="utf-8")


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file (our schema, or a run's ``summary.json``); clear errors for anything else."""
    if not path.is_file():
        raise BaselineError(f"{path}: baseline file not found (pass --init-baseline to create it from this run)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: not a readable JSON baseline: {exc}") from exc
    if not isinstance(data, dict):
        raise BaselineError(f"{path}: a baseline is a JSON object, not {type(data).__name__}")
    try:
        if "schema" not in data and "version" not in data:
            return Baseline.from_run(RunScore.model_validate(data))  # a run's summary.json
        if data.get("schema") != SCHEMA_NAME:
            raise BaselineError(f"{path}: schema {data.get('schema')!r} is not {SCHEMA_NAME!r}")
        version = data.get("version")
        if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
            raise BaselineError(f"{path}: baseline schema version {version!r} is not one this ioi-eval reads "
                                f"(1 to {SCHEMA_VERSION}); upgrade ioi-eval or regenerate the baseline")
        return Baseline.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "(top level)"
        raise BaselineError(f"{path}: malformed baseline at {where}: {first['msg']} "
                            f"({exc.error_count()} problem(s) in all)") from exc
