"""From run folders to a :class:`~ioi_eval.report.model.Leaderboard`: scores, intervals, verdicts, medals."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..errors import IoiEvalError
from ..record.metadata import ProblemCard, ProblemSetIdentity, now
from ..scoring.bootstrap import RESAMPLES, bootstrap_ci
from ..scoring.medals import award, contests
from ..scoring.run_score import ProblemScore
from .collect import RunData, SampleResult, load_run
from .model import VERDICTS, Entry, Leaderboard, ProblemInfo, ProblemResult, SubtaskInfo, SubtaskStats


def submission_verdict(s: SampleResult) -> str:
    """One verdict per submission: NC (no code), CE, SE (not judged), AC (every subtask with points
    solved), else the status of its first subtask with points that lost some."""
    if not s.has_code:
        return "NC"
    if s.report is None:
        return "SE"
    if not s.report.compile.ok:
        return "CE"
    for st in s.report.subtasks:
        if st.points > 0 and st.score < st.points - 1e-9:
            return st.status.value
    return "AC"


def _ordered(counter: Counter) -> dict[str, int]:
    """Counts in :data:`VERDICTS` order, zeros included (verdicts we do not know go last)."""
    return {**{v: counter.get(v, 0) for v in VERDICTS}, **{k: n for k, n in sorted(counter.items())
                                                          if k not in VERDICTS}}


def _groups(samples: list[SampleResult]) -> list[list[float]]:
    """Points of the finished samples, grouped by the prompt they answered (the bootstrap's strata)."""
    groups: dict[str, list[float]] = {}
    for s in samples:
        if s.done:
            groups.setdefault(s.group, []).append(s.points)
    return list(groups.values())


def _subtask_stats(ps: ProblemScore, done: list[SampleResult]) -> list[SubtaskStats]:
    out = []
    for i, st in enumerate(ps.subtasks):
        points: list[float] = []
        judged: list[float] = []
        statuses: Counter = Counter()
        for s in done:
            rep = s.report
            if not (s.has_code and rep is not None and rep.compile.ok and i < len(rep.subtasks)):
                statuses[submission_verdict(s)] += 1  # NC, SE or CE: no subtask verdict of its own
                points.append(0.0)
                continue
            statuses[rep.subtasks[i].status.value] += 1
            points.append(rep.subtasks[i].score)
            judged.append(rep.subtasks[i].score)
        out.append(SubtaskStats(name=st.name, points=st.points, best=st.best, oracle=max(judged, default=0.0),
                                mean=round(sum(points) / len(points), 2) if points else 0.0,
                                verdicts=_ordered(statuses)))
    return out


def _problem_result(ps: ProblemScore, samples: list[SampleResult], groups: list[list[float]], confidence: float,
                    resamples: int, seed: int) -> ProblemResult:
    """One problem of a run; ``groups`` are its samples' points by prompt (:func:`_groups`)."""
    done = [s for s in samples if s.done]
    # tests that ran: not those of submissions that did not compile (each would count as one more CE)
    tests: Counter = Counter(t.verdict.value for s in done if s.has_code and s.compiled
                             for t in s.report.tests if t.verdict.value != "SKIPPED")  # type: ignore[union-attr]
    return ProblemResult(
        problem=ps.problem, max_score=ps.max_score, score=ps.score, oracle=ps.oracle, mean_single=ps.mean_single,
        mean_single_ci=bootstrap_ci([groups], confidence, resamples, seed),
        samples=len(done), generations=ps.generations, failed_generations=ps.failed_generations, no_code=ps.no_code,
        unjudged=sum(1 for s in done if s.has_code and s.report is None), submissions_used=ps.submissions_used,
        subtasks=_subtask_stats(ps, done), verdicts=_ordered(Counter(submission_verdict(s) for s in done)),
        test_verdicts=_ordered(tests))


def run_label(config: dict) -> str:
    """A readable name for a run: its model, or the file name of a replayed source."""
    model = str(config.get("model", "?"))
    if config.get("engine") == "replay" and not model.startswith("hf:"):
        return Path(model).name.split(".")[0] or model
    return model


def _entry(run: RunData, known: dict[str, dict], confidence: float, resamples: int, seed: int) -> Entry:
    by_problem: dict[str, list[SampleResult]] = {}
    for s in run.samples:
        by_problem.setdefault(s.problem, []).append(s)
    all_groups = [_groups(by_problem.get(ps.problem, [])) for ps in run.score.problems]
    problems = [_problem_result(ps, by_problem.get(ps.problem, []), groups, confidence, resamples, seed)
                for ps, groups in zip(run.score.problems, all_groups, strict=True)]
    verdicts: Counter = Counter()
    for p in problems:
        verdicts.update(p.verdicts)
    cfg = run.config
    return Entry(
        id="", rank=0, label=run_label(cfg), model=str(cfg.get("model")), engine=str(cfg.get("engine", "?")),
        run_dir=str(run.run_dir), per=str(cfg.get("per", "?")), samples=int(cfg.get("samples", 0)),
        language=str(cfg.get("language", "?")), complete=run.complete, notes=run.notes, total=run.score.total,
        max_total=run.score.max_total, oracle_total=run.score.oracle_total,
        mean_single_total=run.score.mean_single_total,
        mean_single_ci=bootstrap_ci(all_groups, confidence, resamples, seed),
        submissions_used=sum(p.submissions_used for p in problems),
        award=award({p.problem for p in problems}, run.score.total, known), problems=problems,
        verdicts=_ordered(verdicts), metadata=run.metadata)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "run"


def build_leaderboard(run_dirs: Sequence[Path], contests_file: Path | None = None, confidence: float = 0.95,
                      resamples: int = RESAMPLES, seed: int = 0) -> Leaderboard:
    """Read every run folder and rank them; raises IoiEvalError naming a bad folder."""
    if not run_dirs:
        raise IoiEvalError("no run folders given")
    if not 0 < confidence < 1:
        raise IoiEvalError(f"--confidence must be between 0 and 1, not {confidence}")
    if resamples < 1:
        raise IoiEvalError(f"--resamples must be positive, not {resamples}")
    known = contests(contests_file)
    cards: dict[str, ProblemCard] = {}
    entries = []
    for d in run_dirs:
        run = load_run(d)
        for card in run.cards or []:
            cards.setdefault(card.code, card)
        entries.append(_entry(run, known, confidence, resamples, seed))
    # complete runs first, ranked; incomplete ones after them, unranked (their totals are not final)
    entries.sort(key=lambda e: (not e.complete, -e.total, -e.mean_single_total, e.label))
    labels = Counter(e.label for e in entries)
    used: set[str] = set()
    rank = 0
    for i, e in enumerate(entries):
        if labels[e.label] > 1:  # the same model twice: tell the runs apart by their folders
            e.label = f"{e.label} ({Path(e.run_dir).name})"
        base = _slug(e.label)
        e.id = base if base not in used else next(f"{base}-{n}" for n in range(2, 10**6) if f"{base}-{n}" not in used)
        used.add(e.id)
        if not e.complete:
            e.rank = None
            continue
        if i == 0 or (e.total, e.mean_single_total) != (entries[i - 1].total, entries[i - 1].mean_single_total):
            rank = i + 1
        e.rank = rank
    infos: dict[str, ProblemInfo] = {}
    for e in entries:
        for ps in e.problems:
            card = cards.get(ps.problem)
            extra = card.model_dump(include={"name", "task_type", "time_limit", "memory_limit", "statement"}) \
                if card else {}
            infos.setdefault(ps.problem, ProblemInfo(code=ps.problem, max_score=ps.max_score, subtasks=[
                SubtaskInfo(name=st.name, points=st.points) for st in ps.subtasks], **extra))
    sets: dict[tuple[str, str | None], ProblemSetIdentity] = {}
    for e in entries:
        if e.metadata is not None:
            ps_id = e.metadata.problem_set
            sets.setdefault((ps_id.name, ps_id.content_sha256), ps_id)
    board_notes = []
    if len({frozenset(p.problem for p in e.problems) for e in entries}) > 1:
        board_notes.append("the runs cover different problem sets: compare totals only between runs of the same set")
    if len({(e.per, e.samples) for e in entries}) > 1:
        board_notes.append("the runs differ in samples per prompt or prompt layout: oracle and mean single are "
                           "not measured alike")
    versions: dict[str, set[str]] = {}
    for e in entries:
        for code, digest in (e.metadata.problem_set.packages.items() if e.metadata else ()):
            versions.setdefault(code, set()).add(digest)
    changed = sorted(code for code, digests in versions.items() if len(digests) > 1)
    if changed:
        board_notes.append(f"the runs judged different versions (package contents) of {', '.join(changed)}: "
                           "their scores there are not comparable")
    return Leaderboard(ioi_eval_version=__version__, generated_at=now(), problem_sets=list(sets.values()),
                       confidence=confidence, resamples=resamples, seed=seed,
                       problems=sorted(infos.values(), key=lambda p: p.code), entries=entries, notes=board_notes)

