"""Read a run folder (``runs/<id>``) for reporting: its config, every sample's result, and its scores.

The scores are the run's ``summary.json`` (what ``ioi-eval run`` printed). When it is missing or no
longer matches the store (a resumed run that was stopped before writing it), the run is scored
afresh from the store if its problem packages are still where the config says; otherwise a stale
summary is used with a note, and a missing one is an error. The store is opened read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import IoiEvalError, RunFolderError, RunLoadError
from ..judge.results import JudgeReport
from ..record.folder import RunFolder
from ..record.metadata import ProblemCard, RunMetadata, read_cards, read_metadata
from ..record.store import Counts, RunStore, Sample
from ..scoring.run_score import RunScore


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
    counts: Counts
    notes: list[str]
    complete: bool  # every generation finished and every submission judged
    metadata: RunMetadata | None = None  # how the run was made (record/metadata.py)
    cards: list[ProblemCard] | None = None  # the problems' names, task types, limits and statements


def load_run(run_dir: Path) -> RunData:
    """Read one run folder; raises :class:`RunLoadError` naming the folder and what is wrong."""
    folder = RunFolder(run_dir)
    try:
        with folder.reading() as store:
            config = store.get_meta("config")
            stored = store.samples()
            counts = store.counts()
            if not isinstance(config, dict) or "model" not in config:
                raise RunLoadError(f"{folder.store_path}: the run store holds no run configuration (an interrupted "
                                   "first start?)")
            samples = [_sample(s, folder) for s in stored]
            notes: list[str] = []
            score = _scores(folder, store, stored, config, notes)
            try:
                metadata = read_metadata(store)
                cards = read_cards(store)
            except ValidationError as exc:
                raise RunLoadError(f"{folder.store_path}: the run's stored metadata is damaged: "
                                   f"{str(exc).splitlines()[0]}") from exc
    except RunFolderError as exc:
        raise RunLoadError(str(exc)) from exc
    unfinished = counts.pending + counts.failed
    if unfinished:
        notes.append(f"{unfinished} generation(s) not finished")
    unjudged = sum(1 for s in samples if s.done and s.has_code and s.report is None)
    if unjudged:
        notes.append(f"{unjudged} submission(s) not judged")
    return RunData(run_dir=run_dir, config=config, samples=samples, score=score, counts=counts, notes=notes,
                   complete=not unfinished and not unjudged, metadata=metadata, cards=cards or _local_cards(config))


def _sample(sample: Sample, folder: RunFolder) -> SampleResult:
    try:
        report = sample.report
    except ValidationError as exc:
        raise RunLoadError(f"{folder.store_path}: the judge report of {sample.key} is damaged: {exc}") from exc
    return SampleResult(key=sample.key, problem=sample.problem, group=sample.generation.subtask or "-",
                        done=sample.done, has_code=sample.has_code, report=report)


def _matches(score: RunScore, samples: list[Sample]) -> bool:
    """Whether a summary's counts are those of the store's ``samples`` (else the run moved on after it was
    written)."""
    by_problem: dict[str, list[Sample]] = {}
    for s in samples:
        by_problem.setdefault(s.problem, []).append(s)
    for p in score.problems:
        mine = by_problem.get(p.problem, [])
        now = (len(mine), sum(1 for s in mine if s.judged), sum(1 for s in mine if s.no_code),
               sum(1 for s in mine if s.failed))
        if now != (p.generations, p.judged, p.no_code, p.failed_generations):
            return False
    return True


def _scores(folder: RunFolder, store: RunStore, samples: list[Sample], config: dict[str, Any],
            notes: list[str]) -> RunScore:
    """The run's scores: its summary when it matches the store, else scored afresh, else the stale summary."""
    path = folder.summary_path
    summary: RunScore | None = None
    problem = ""
    if path.is_file():
        try:
            summary = RunScore.model_validate_json(path.read_text())
        except (ValidationError, ValueError) as exc:
            problem = f"{path} is damaged ({str(exc).splitlines()[0]})"
        else:
            if _matches(summary, samples):
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
    raise RunLoadError(f"{folder.root}: {problem} and its problems ({config.get('problems')}) are not available to "
                       f"score it{why}; finish the run with the same `ioi-eval run` command")


def _local_cards(config: dict[str, Any]) -> list[ProblemCard] | None:
    """The cards of a run stored before runs kept them, from its packages when they are still here."""
    from ..sources import is_local, load_problem_set

    spec = str(config.get("problems", ""))
    if not spec or not is_local(spec) or not Path(spec).exists():
        return None
    try:
        return [ProblemCard.of(p) for p in load_problem_set(spec, config.get("problem_codes") or None)]
    except IoiEvalError:
        return None


def _rescore(store: RunStore, config: dict[str, Any]) -> RunScore | None:
    """Score the run from its store with the problem packages its config names; None when they are not here
    (an IoiEvalError when they are but do not load)."""
    from ..scoring.run_score import score_run
    from ..sources import is_local, load_problem_set

    spec = str(config.get("problems", ""))
    if not spec or not is_local(spec) or not Path(spec).exists():
        return None
    problems = load_problem_set(spec, config.get("problem_codes") or None)
    label = config.get("model_name") or config["model"]
    return score_run(store, {p.code: p for p in problems}, label, cap=int(config.get("max_submissions", 50)))


__all__ = ["RunData", "RunLoadError", "SampleResult", "load_run"]
