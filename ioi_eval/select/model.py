"""The results of ``ioi-eval select`` (``select.json``): points by strategy and budget, per problem and in total."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SCHEMA = "ioi-eval/select"
VERSION = 1


class Cell(BaseModel):
    """One strategy at one budget: points (a random strategy: the mean, with its 95 % interval)."""

    points: float
    low: float | None = None
    high: float | None = None
    submitted: float = Field(description="submissions made (a random strategy: per draw)")
    note: str = ""


class StrategyInfo(BaseModel):
    """A strategy and the information it uses."""

    name: str
    information: Literal["public", "hidden"]
    summary: str


class InputsInfo(BaseModel):
    """The extra inputs behaviour was measured on (clustering), and where they came from."""

    origin: Literal["generated", "samples", "none"]
    count: int
    failed: int = Field(0, description="generator seeds that gave no input (crash, limit, empty output)")
    note: str = ""


class WorkInfo(BaseModel):
    """The extra sandbox work of this ``select``: runs made now, runs found in the store, sandbox seconds."""

    runs: int = 0
    cached: int = 0
    generator_runs: int = 0
    sandbox_s: float = 0.0


class ProblemSelect(BaseModel):
    """One problem of one run."""

    problem: str
    max_score: float
    samples: int = Field(description="finished samples (with or without code)")
    usable: int = Field(description="samples whose code compiled")
    inputs: InputsInfo | None = None
    scores: dict[str, dict[str, Cell]] = Field(description="strategy -> budget label -> cell")


class RunSelect(BaseModel):
    """One run: its problems and totals."""

    run: str
    path: str
    model: str
    max_total: float
    problems: list[ProblemSelect]
    totals: dict[str, dict[str, Cell]]
    work: WorkInfo = Field(default_factory=WorkInfo)
    notes: list[str] = Field(default_factory=list)


class SelectReport(BaseModel):
    """Everything ``ioi-eval select`` computed (``select.json``)."""

    schema_: str = Field(SCHEMA, alias="schema")
    version: int = VERSION
    seed: int
    budgets: list[str] = Field(description="budget labels in order: numbers, then 'all' (no limit)")
    strategies: list[StrategyInfo]
    runs: list[RunSelect]

    model_config = {"populate_by_name": True}
