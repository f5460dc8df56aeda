"""Read a run folder (``runs/<id>``) for reporting: its config, every sample's result, and its scores.

The scores are the run's ``summary.json`` (what ``ioi-eval run`` printed). When it is missing or no
longer matches the store (a resumed run that was stopped before writing it), the run is scored
afresh from the store if its problem packages are still where the config says; otherwise a stale
summary is used with a note, and a missing one is an error. The store is opened read-only.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import IoiEvalError
from ..judge.results import JudgeReport
from ..record.store import RunStore
from ..run.scoring import RunScore


@dataclass
class SampleResult:
    """One generation of a run, as judged."""

    key: str
    problem: str
    group: str  # the prompt it answered: a subtask name, or '-' (the whole problem)
    done: bool  # a finished generation (failed ones count nowhere but in failed_generations)
    has_code: bool
    report: JudgeReport | None

    @property
    def compiled(self) -> bool:
        """Whether the submission compiled (False without a report)."""
        return bool(self.report and self.report.compile.ok)

    @property
    def points(self) -> float:
        """Its points alone: 0 without code, when not compiling or not judged (as ``mean_single``)."""
        if not (self.has_code and self.compiled):
            return 0.0
        assert self.report is not None
        return float(sum(s.score for s in self.report.subtasks))


@dataclass
class RunData:
    """What a report needs of one run."""

    run_dir: Path
    config: dict[str, Any]
    samples: list[SampleResult]
    score: RunScore
    counts: dict[str, int]
    notes: list[str]
    complete: bool  # every generation finished and every submission judged


class RunLoadError(IoiEvalError):
    """A run folder is missing, is not a run, or its store or summary is unreadable."""


def load_run(run_dir: Path) -> RunData:
    """Read one run folder; raises :class:`RunLoadError` naming the folder and what is wrong."""
    if not run_dir.is_dir():
        raise RunLoadError(f"{run_dir}: no such run folder")
    db = run_dir / "run.sqlite"
    if not db.is_file():
        raise RunLoadError(f"{run_dir}: not a run folder (no run.sqlite); make one with `ioi-eval run`")
    try:
        store = RunStore(db, readonly=True)
    except (OSError, sqlite3.Error) as exc:
        raise RunLoadError(f"{db}: cannot open the run store: {exc}") from exc
    try:
        config = store.get_meta("config")
        rows = store.rows()
        counts = store.counts()
        if not isinstance(config, dict) or "model" not in config:
            raise RunLoadError(f"{db}: the run store holds no run configuration (an interrupted first start?)")
        samples = [_sample(row, db) for row in rows]
        notes: list[str] = []
        score = _scores(run_dir, store, rows, config, notes)
    except sqlite3.DatabaseError as exc:
        raise RunLoadError(f"{db}: not a readable run store ({exc}); the file is damaged or not from "
                           "`ioi-eval run`") from exc
    finally:
        store.close()
    unfinished = counts["pending"] + counts["failed"]
    if unfinished:
        notes.append(f"{unfinished} generation(s) not finished")
    unjudged = sum(1 for s in samples if s.done and s.has_code and s.report is None)
    if unjudged:
        notes.append(f"{unjudged} submission(s) not judged")
    return RunData(run_dir=run_dir, config=config, samples=samples, score=score, counts=counts, notes=notes,
                   complete=not unfinished and not unjudged)


def _sample(row: sqlite3.Row, db: Path) -> SampleResult:
    report = None
    if row["report"]:
        try:
            report = JudgeReport.model_validate_json(row["report"])
        except ValidationError as exc:
            raise RunLoadError(f"{db}: the judge report of {row['key']} is damaged: {exc}") from exc
    return SampleResult(key=row["key"], problem=row["problem"], group=row["subtask"] or "-",
                        done=row["status"] == "done", has_code=row["extraction"] in ("ok", "source"), report=report)


def _matches(score: RunScore, rows: list[sqlite3.Row]) -> bool:
    """Whether a summary's counts are those of the store's ``rows`` (else the run moved on after it was written)."""
    by_problem: dict[str, list] = {}
    for row in rows:
        by_problem.setdefault(row["problem"], []).append(row)
    for p in score.problems:
        mine = by_problem.get(p.problem, [])
        now = (len(mine), sum(1 for r in mine if r["report"]), sum(1 for r in mine if r["extraction"] == "no_code"),
               sum(1 for r in mine if r["status"] == "failed"))
        if now != (p.generations, p.judged, p.no_code, p.failed_generations):
            return False
    return True


def _scores(run_dir: Path, store: RunStore, rows: list[sqlite3.Row], config: dict[str, Any],
            notes: list[str]) -> RunScore:
    """The run's scores: its summary when it matches the store, else scored afresh, else the stale summary."""
    path = run_dir / "summary.json"
    summary: RunScore | None = None
    problem = ""
    if path.is_file():
        try:
            summary = RunScore.model_validate_json(path.read_text())
        except (ValidationError, ValueError) as exc:
            problem = f"{path} is damaged ({str(exc).splitlines()[0]})"
        else:
            if _matches(summary, rows):
                return summary
            problem = f"{path} is older than the run store"
    else:
        problem = f"{path} is missing (the run never finished)"
    why = ""
    try:
        rescored = _rescore(store, config)
    except IoiEvalError as exc:  # the problems are there but do not load: say why
        rescored, why = None, f" ({exc})"
    if rescored is not None:
        notes.append(f"{problem}: scored afresh from the store")
        return rescored
    if summary is not None:
        notes.append(f"{problem}; its problems are unavailable to score it afresh{why}, so it is used as it is")
        return summary
    raise RunLoadError(f"{run_dir}: {problem} and its problems ({config.get('problems')}) are not available to "
                       f"score it{why}; finish the run with the same `ioi-eval run` command")


def _rescore(store: RunStore, config: dict[str, Any]) -> RunScore | None:
    """Score the run from its store with the problem packages its config names; None when they are not here
    (an IoiEvalError when they are but do not load)."""
    from ..run.scoring import score_run
    from ..sources import is_local, load_problem_set

    spec = str(config.get("problems", ""))
    if not spec or not is_local(spec) or not Path(spec).exists():
        return None
    problems = load_problem_set(spec, config.get("problem_codes") or None)
    return score_run(store, {p.code: p for p in problems}, config["model"], cap=int(config.get("max_submissions", 50)))


__all__ = ["RunData", "RunLoadError", "SampleResult", "load_run"]
