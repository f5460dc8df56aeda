"""The site's drill-down: every submission of a run, problem by problem, read from its ``run.sqlite`` offline.

One page holds at most :data:`PAGE_SIZE` submissions of one model on one problem
(``models/<id>/<problem>/<n>.html``), each a collapsible ``<details>``: its verdict and points, the code, the
per-test verdicts with time and memory, the compile message and the completion (answer and reasoning). Long
texts are cut at fixed caps (:data:`CODE_CAP`, :data:`TEXT_CAP`, :data:`REASONING_CAP`) with a note of what was
left out, so a page stays small however long the model's answers were, and the site grows linearly with the
samples: a run of thousands of samples is many small pages, never one large one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ..judge.results import TestResult
from ..record.folder import RunFolder
from ..record.store import Sample
from .build import submission_verdict
from .collect import SampleResult
from .model import Entry

#: Submissions per page.
PAGE_SIZE = 20
#: Characters shown of a submission's code, of the completion's answer, of its reasoning, of a compile message
#: and of a test's message (the rest is in run.sqlite).
CODE_CAP = 24_000
TEXT_CAP = 12_000
REASONING_CAP = 6_000
COMPILE_CAP = 3_000
MESSAGE_CAP = 200


@dataclass
class Clipped:
    """A text cut at a cap: what is shown, and how many characters were left out."""

    text: str
    omitted: int = 0


def clip(text: str | None, cap: int) -> Clipped | None:
    """``text`` cut to ``cap`` characters (None stays None)."""
    if text is None:
        return None
    return Clipped(text[:cap], max(0, len(text) - cap))


def tests_table(tests: list[TestResult]) -> Markup:
    """The rows of a submission's test table: test, verdict, score, CPU s, wall s, memory MiB, message.

    Written here rather than in the template: a run of thousands of samples has hundreds of thousands of test rows,
    and end tags the HTML parser infers are left out, so a row costs about 70 bytes.
    """
    rows = []
    for t in tests:
        v = t.verdict.value
        rows.append(f"<tr><td>{escape(t.name)}<td class=v-{v}>{v}<td>{t.score:g}<td>{t.cpu_s:.3f}<td>{t.wall_s:.3f}"
                    f"<td>{t.memory_bytes / (1 << 20):.1f}<td>{escape(t.message[:MESSAGE_CAP])}")
    return Markup("\n".join(rows))


@dataclass
class SubmissionView:
    """One sample of a run, ready for the template."""

    key: str
    target: str
    status: str  # the generation's status: done, failed, pending
    verdict: str  # the submission's verdict (build.submission_verdict), or the generation's status
    points: float | None
    max_score: float
    tokens: int | None
    finish_reason: str | None
    error: str | None
    note: str | None
    code: Clipped | None
    text: Clipped | None
    reasoning: Clipped | None
    compile_message: Clipped | None
    subtasks: list[tuple[str, float, float, str]] = field(default_factory=list)
    tests: int = 0  # how many
    tests_html: Markup = field(default_factory=Markup)


def _verdict(sample: Sample) -> str:
    if not sample.done:
        return "FAILED" if sample.failed else "PENDING"
    return submission_verdict(SampleResult(key=sample.key, problem=sample.problem, group="", done=True,
                                           has_code=sample.has_code, report=sample.report))


def _source(path: str | None) -> str | None:
    """A reference solution's text, when its file is still there and is text (an output-only archive is not)."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(CODE_CAP + 1)
    except (OSError, UnicodeDecodeError):
        return None


def view(sample: Sample, max_score: float) -> SubmissionView:
    """What the page shows of one sample."""
    g, j, report = sample.generation, sample.judgement, sample.report
    code = j.code if j else None
    note = j.note if j else None
    if j is not None and j.extraction == "source":  # judged from a file: shown from it while it is there
        code = _source(g.source_path)
        shown = "" if code is not None else " (not shown: not a readable text file)"
        note = f"judged from the file {g.source_path}{shown}"
    return SubmissionView(
        key=g.key, target=g.subtask or "whole problem", status=g.status, verdict=_verdict(sample),
        points=float(sum(s.score for s in report.subtasks)) if report and report.compile.ok else (
            0.0 if sample.done else None),
        max_score=max_score, tokens=g.completion_tokens, finish_reason=g.finish_reason, error=g.error,
        note=note, code=clip(code, CODE_CAP), text=clip(g.text or None, TEXT_CAP),
        reasoning=clip(g.reasoning, REASONING_CAP),
        compile_message=clip(report.compile.message, COMPILE_CAP) if report and report.compile.message else None,
        subtasks=[(s.name, s.points, s.score, s.status.value) for s in report.subtasks] if report else [],
        tests=len(report.tests) if report else 0, tests_html=tests_table(report.tests) if report else Markup())


def folder_name(code: str) -> str:
    """A problem's folder name under ``models/<id>/``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", code).strip("-.") or "problem"


def page_numbers(current: int, count: int, around: int = 2) -> list[int | None]:
    """The page links to show: the first, the last and those around ``current`` (None: a gap)."""
    shown = sorted({1, count, *range(max(1, current - around), min(count, current + around) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and out[-1] is not None and n - out[-1] > 1:  # type: ignore[operator]
            out.append(None)
        out.append(n)
    return out


def write_submission_pages(env: Environment, entry: Entry, out_dir: Path, common: dict[str, Any]) -> dict[str, int]:
    """Write ``models/<id>/<problem>/<n>.html`` for every problem of ``entry``; returns {problem: page count}.

    The samples are read from the run's store one problem at a time.
    """
    base = out_dir / "models" / entry.id
    if base.exists():
        shutil.rmtree(base)
    template = env.get_template("submissions.html")
    counts: dict[str, int] = {}
    with RunFolder(Path(entry.run_dir)).reading() as store:
        for result in entry.problems:
            samples = store.samples(result.problem)
            pages = max(1, -(-len(samples) // PAGE_SIZE))
            folder = base / folder_name(result.problem)
            folder.mkdir(parents=True, exist_ok=True)
            for n in range(1, pages + 1):
                chunk = samples[(n - 1) * PAGE_SIZE:n * PAGE_SIZE]
                (folder / f"{n}.html").write_text(template.render(
                    root="../../../", e=entry, p=result, page=n, pages=pages, links=page_numbers(n, pages),
                    first=(n - 1) * PAGE_SIZE + 1, total=len(samples),
                    submissions=[view(s, result.max_score) for s in chunk], caps=CAPS, **common))
            counts[result.problem] = pages
    return counts


CAPS = {"code": CODE_CAP, "text": TEXT_CAP, "reasoning": REASONING_CAP, "page": PAGE_SIZE}
