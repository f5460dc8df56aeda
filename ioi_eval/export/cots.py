"""Rows of a CodeForces-CoTs-style dataset from run folders, and the filters applied to them.

One row per finished generation of a run (reference runs and failed generations have no completion
to export). Field names and types follow open-r1's ``codeforces-cots`` (``solutions`` config):
problem metadata, ``prompt``, ``generation``, ``finish_reason``, ``api_metadata`` and ``messages``
(the prompt's chat messages plus the assistant's generation). Ours come after them: see
:data:`OUR_FIELDS`. ``generation`` is the raw completion, reasoning included as ``<think>…</think>``;
``answer`` keeps the part after the reasoning, so replaying the dataset splits it exactly as the run did.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ExportError, IoiEvalError, RunFolderError
from ..generate.reasoning import join_reasoning
from ..generate.replay import norm_problem
from ..judge.results import JudgeReport, Verdict
from ..judge.task_types import task_type_names
from ..problem.model import Problem
from ..record.folder import RunFolder
from ..record.store import Sample
from ..scoring.medals import contests

#: Sample tests larger than this are left out of ``examples`` (a prompt-sized field).
MAX_EXAMPLE_BYTES = 64 * 1024

#: Our fields, after codeforces-cots' own, with their meaning (also written to the dataset card).
OUR_FIELDS = {
    "key": "the generation's key in its run: <problem>/<target subtask>/<sample>",
    "model": "the model (or replay source) of the run",
    "run": "the run folder's name",
    "problem": "the problem code",
    "subtask": "the subtask the prompt targeted (null: the whole problem)",
    "sample": "sample index within its prompt",
    "seed": "the sampling seed",
    "task_type": task_type_names(),
    "language": "the submission language (cpp, python)",
    "answer": "the completion after the reasoning (what the code was extracted from)",
    "code": "the extracted code (null when none was found)",
    "extraction": "ok or no_code",
    "judged": "whether the judge gave a report",
    "compiled": "whether the code compiled",
    "score": "points of this submission alone",
    "max_score": "points of the problem",
    "verified": "whether the submission passed every test (AC on all)",
    "verdict_summary": "count of each verdict over the tests, e.g. 'AC 12, WA 3'",
    "subtask_results": "per subtask: name, points, score, status",
    "test_results": "per test: name, verdict, score (0..1), cpu_s, memory_bytes",
}


def features() -> Any:
    """The ``datasets.Features`` of an export (codeforces-cots' fields, then ours)."""
    from datasets import Features, Value

    s, i64, f64 = Value("string"), Value("int64"), Value("float64")
    return Features({
        "id": s, "aliases": [s], "contest_id": s, "contest_name": s, "contest_type": s,
        "contest_start": i64, "contest_start_year": i64, "index": s, "time_limit": f64, "memory_limit": i64,
        "title": s, "description": s, "input_format": s, "output_format": s, "interaction_format": s,
        "note": s, "editorial": s, "examples": [{"input": s, "output": s}],
        "prompt": s, "generation": s, "finish_reason": s,
        "api_metadata": {"completion_tokens": i64, "prompt_tokens": i64, "prompt_tokens_details": Value("null"),
                         "total_tokens": i64},
        "messages": [{"content": s, "role": s}],
        "key": s, "model": s, "run": s, "problem": s, "subtask": s, "sample": i64, "seed": i64, "task_type": s,
        "language": s, "answer": s, "code": s, "extraction": s, "judged": Value("bool"), "compiled": Value("bool"),
        "score": f64, "max_score": f64, "verified": Value("bool"), "verdict_summary": s,
        "subtask_results": [{"name": s, "points": f64, "score": f64, "status": s}],
        "test_results": [{"name": s, "verdict": s, "score": f64, "cpu_s": f64, "memory_bytes": i64}],
    })


# ------------------------------------------------------------------------------------------ problems

@dataclass
class ProblemMeta:
    """The codeforces-cots problem fields of one problem (nulls where IOI packages have no such part)."""

    fields: dict[str, Any]
    max_score: float | None = None
    task_type: str | None = None


def _contest_of(code: str) -> tuple[str, dict] | None:
    for cid, contest in contests().items():
        if code in contest.get("problems", []):
            return cid, contest
    return None


def _read_small(path: Path | None) -> str | None:
    if path is None or not path.is_file() or path.stat().st_size > MAX_EXAMPLE_BYTES:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def _examples(problem: Problem) -> list[dict[str, str]]:
    """The tests of the samples subtask (the first 0-point one), as ``{input, output}``."""
    samples = next((st for st in problem.subtasks if st.points == 0), None)
    out = []
    for name in samples.tests if samples else ():
        test = problem.tests.get(name)
        text_in = _read_small(test.input) if test else None
        if text_in is None:
            continue
        out.append({"input": text_in, "output": _read_small(test.output) or ""})
    return out


def problem_meta(code: str, problem: Problem | None) -> ProblemMeta:
    """The problem fields of a row: from the package when it loads, the contest table, else nulls."""
    contest = _contest_of(code)
    cid, cinfo = contest if contest else (None, {})
    year = re.search(r"(19|20)\d\d", cid or "")
    fields: dict[str, Any] = {
        "id": f"{cid}/{code}" if cid else code, "aliases": [code] if cid else [], "contest_id": cid,
        "contest_name": cinfo.get("name"), "contest_type": "IOI" if cid else None, "contest_start": None,
        "contest_start_year": int(year.group(0)) if year else None, "index": code,
        "time_limit": None, "memory_limit": None, "title": None, "description": None, "input_format": None,
        "output_format": None, "interaction_format": None, "note": None, "editorial": None, "examples": [],
    }
    if problem is None:
        return ProblemMeta(fields)
    fields.update(time_limit=float(problem.time_limit), memory_limit=problem.memory_limit >> 20,
                  title=problem.name, description=problem.statement, examples=_examples(problem))
    return ProblemMeta(fields, max_score=problem.max_score, task_type=problem.task_type)


def load_problems(spec: str, codes: list[str], warn: Callable[[str], None]) -> dict[str, Problem]:
    """The run's problems (for their metadata); a source that no longer loads is a warning, not an error."""
    from ..sources import load_problem_set

    try:
        return {p.code: p for p in load_problem_set(spec) if p.code in codes}
    except (IoiEvalError, OSError) as exc:
        warn(f"{spec}: problems not loaded ({exc}); their metadata fields are left empty (pass --problems)")
        return {}


# ------------------------------------------------------------------------------------------ rows

def _verdict_summary(report: JudgeReport) -> str:
    counts = Counter(t.verdict.value for t in report.tests)
    order = [v.value for v in Verdict]
    return ", ".join(f"{v} {counts[v]}" for v in order if counts[v])


def _verified(report: JudgeReport | None) -> bool:
    return bool(report and report.compile.ok and report.tests
                and all(t.verdict == Verdict.AC for t in report.tests))


def _prompt_of(messages: list[dict[str, str]]) -> str:
    """The prompt text: the last user message (codeforces-cots' ``prompt`` is the user turn)."""
    users = [m["content"] for m in messages if m.get("role") == "user"]
    return users[-1] if users else "\n\n".join(m.get("content", "") for m in messages)


def export_row(sample: Sample, meta: ProblemMeta, model: str, run_name: str) -> dict[str, Any]:
    """One dataset row from a sample of a run (a finished generation)."""
    g, j = sample.generation, sample.judgement
    report = sample.report
    generation = join_reasoning(g.reasoning, g.text or "")
    messages = [{"content": m.get("content", ""), "role": m.get("role", "")} for m in g.messages]
    pt, ct = g.prompt_tokens, g.completion_tokens
    code = j.code if j is not None and j.extraction == "ok" else None
    return {
        **meta.fields,
        "prompt": _prompt_of(messages),
        "generation": generation,
        "finish_reason": g.finish_reason,
        "api_metadata": {"completion_tokens": ct, "prompt_tokens": pt, "prompt_tokens_details": None,
                         "total_tokens": pt + ct if pt is not None and ct is not None else None},
        "messages": [*messages, {"content": generation, "role": "assistant"}],
        "key": g.key, "model": model, "run": run_name, "problem": g.problem, "subtask": g.subtask,
        "sample": g.sample, "seed": g.seed, "task_type": meta.task_type, "language": g.language,
        "answer": g.text or "", "code": code, "extraction": sample.extraction,
        "judged": report is not None, "compiled": bool(report and report.compile.ok),
        "score": report.score if report else (0.0 if code is None else None),
        "max_score": report.max_score if report else meta.max_score,
        "verified": _verified(report),
        "verdict_summary": _verdict_summary(report) if report else ("no code" if code is None else "not judged"),
        "subtask_results": [{"name": s.name, "points": s.points, "score": s.score, "status": s.status.value}
                            for s in report.subtasks] if report else [],
        "test_results": [{"name": t.name, "verdict": t.verdict.value, "score": t.score, "cpu_s": t.cpu_s,
                          "memory_bytes": t.memory_bytes} for t in report.tests] if report else [],
    }


@dataclass
class RunRows:
    """The exportable rows of one run folder, and what was left out and why."""

    run_dir: Path
    model: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)


def read_run(run_dir: Path, problems: str | None = None, warn: Callable[[str], None] = lambda msg: None) -> RunRows:
    """Every finished generation of a run folder as a dataset row."""
    folder = RunFolder(run_dir)
    try:
        with folder.reading() as store:  # an export never creates, migrates or checkpoints a run
            config = store.get_meta("config")
            if not isinstance(config, dict) or "problem_codes" not in config:
                raise ExportError(f"{folder.store_path}: no run configuration stored (the run never started)")
            model = str(config.get("model"))
            codes = list(config["problem_codes"])
            loaded = load_problems(problems or config["problems"], codes, warn)
            metas = {code: problem_meta(code, loaded.get(code)) for code in codes}
            out = RunRows(run_dir=run_dir, model=model)
            for sample in store.samples():
                g = sample.generation
                if g.source_path:
                    out.skipped["reference solution (no generation)"] += 1
                elif not g.done:
                    out.skipped[f"generation {g.status}"] += 1
                elif sample.judgement is None:
                    out.skipped["not extracted yet"] += 1
                else:
                    meta = metas.get(g.problem) or problem_meta(g.problem, None)
                    out.rows.append(export_row(sample, meta, model, folder.name))
            return out
    except RunFolderError as exc:
        raise ExportError(str(exc)) from exc


# ------------------------------------------------------------------------------------------ filters

@dataclass
class Filters:
    """What to keep: ``exclude`` holds normalised problem ids (see :func:`norm_problem`)."""

    verified_only: bool = False
    min_score: float | None = None
    max_tokens: int | None = None
    max_chars: int | None = None
    exclude: set[str] = field(default_factory=set)

    def reason_to_drop(self, row: dict[str, Any]) -> str | None:
        """Why a row is filtered out, or None to keep it."""
        if self.exclude:
            names = [row.get("id"), row.get("problem"), row.get("title"), *(row.get("aliases") or [])]
            if any(n and norm_problem(str(n)) in self.exclude for n in names):
                return "decontaminated"
        if self.verified_only and not row.get("verified"):
            return "not verified"
        if self.min_score is not None and (row.get("score") or 0.0) < self.min_score:
            return "under --min-score"
        tokens = (row.get("api_metadata") or {}).get("completion_tokens")
        if self.max_tokens is not None and tokens is not None and tokens > self.max_tokens:
            return "over --max-tokens"
        if self.max_chars is not None and len(row.get("generation") or "") > self.max_chars:
            return "over --max-chars"
        return None

    def apply(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Counter]:
        """The rows kept, and how many were dropped for each reason."""
        kept, dropped = [], Counter()
        for row in rows:
            reason = self.reason_to_drop(row)
            if reason is None:
                kept.append(row)
            else:
                dropped[reason] += 1
        return kept, dropped


def read_id_list(path: Path) -> set[str]:
    """Problem ids to decontaminate against, normalised: a JSON list (or ``{"ids": [...]}``), or a text file
    with one id per line (blank lines and ``#`` comments ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: cannot read the decontamination list: {exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportError(f"{path}: not valid JSON: {exc}") from exc
        ids = data.get("ids") if isinstance(data, dict) else data
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise ExportError(f"{path}: expected a JSON list of problem ids (or {{\"ids\": [...]}})")
    else:
        ids = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return {norm_problem(x) for x in ids if x.strip()}
