"""``ioi-eval leaderboard --html``: a static site that works from the file system and any static host.

Layout of the output folder::

    index.html              the title (problem set and version, date, ioi-eval version), the ranked runs (model
                            and total columns sticky), the incomplete runs apart, each run's settings, charts
    models/<id>.html        one page per run: its settings (metadata), problems, subtasks, verdicts
    models/<id>/<problem>/<n>.html  every submission, PAGE_SIZE per page (:mod:`.submissions`)
    selection/<id>.html     score against submission budget per strategy, for runs with a select.json
    problems/<code>.html    one page per problem: task type, limits, statement; the runs compared subtask by subtask
    leaderboard.json        all the data (the same as ``--format json``)
    assets/style.css, assets/sort.js

Everything is rendered here (Jinja2 templates, SVG charts from :mod:`.charts`, statements from Markdown with
raw HTML and images left out); the only script is the small table sorter shipped in ``assets/``. Nothing is
fetched at view time. The submission pages are read from each run's ``run.sqlite``.
"""

from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from ..errors import IoiEvalError
from . import charts
from .formats import notes, to_json
from .model import Entry, Leaderboard, ProblemResult, SubtaskStats
from .selection import load_selection, render_page
from .submissions import CAPS, folder_name, write_submission_pages

#: Verdict columns always shown; the others (OLE, NC, SE, SKIPPED) only when some run has them.
BASE_VERDICTS = ("AC", "PA", "WA", "TLE", "MLE", "RE", "CE")
DATA_FILE = "leaderboard.json"
ASSETS = ("style.css", "sort.js")
_MEDAL_RANK = {"gold": 3, "silver": 2, "bronze": 1}


def _env() -> Environment:
    env = Environment(loader=PackageLoader("ioi_eval.report", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda x: f"{x:g}"
    return env


def _file_name(code: str) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", code).strip("-.") or "problem") + ".html"


def _columns(counts: list[dict[str, int]], order: list[str]) -> list[str]:
    return [v for v in order if v in BASE_VERDICTS or any(c.get(v, 0) for c in counts)]


def _medal_rank(e: Entry) -> int:
    if e.award is None:
        return -1
    return _MEDAL_RANK.get(e.award.medal or "", 0)


def render_statement(text: str | None) -> Markup | None:
    """A statement's Markdown as HTML: raw HTML is shown as text, images as their Markdown (the site ships no
    package files), links only to safe schemes (markdown-it's default check), headings from h3 down."""
    if not text:
        return None
    md = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    tokens = md.parse(text)
    for token in tokens:  # the page has its own h1 and h2: the statement's headings go two levels down
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
    return Markup(md.renderer.render(tokens, md.options, {}))  # markdown-it escapes the text; raw HTML is off


def _subtask_of(r: ProblemResult, name: str) -> SubtaskStats | None:
    return next((s for s in r.subtasks if s.name == name), None)


def _prepare(out_dir: Path) -> None:
    """Create the folder; refuse a non-empty one that is not a leaderboard site; drop stale pages."""
    if out_dir.exists() and not out_dir.is_dir():
        raise IoiEvalError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / DATA_FILE).is_file():
        raise IoiEvalError(f"{out_dir}: not empty and not a leaderboard site (no {DATA_FILE}); choose another folder")
    for sub in ("models", "problems", "assets"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("models", "problems", "selection"):
        for page in (out_dir / sub).glob("*.html") if (out_dir / sub).is_dir() else ():
            page.unlink()
    for folder in (out_dir / "models").iterdir():  # submission pages of an earlier build
        if folder.is_dir():
            shutil.rmtree(folder)


def _selection_pages(lb: Leaderboard, out_dir: Path, env: Environment) -> dict[str, str]:
    """Write ``selection/<id>.html`` for each run whose folder has a ``select.json``; {run id: page path}."""
    pages = {}
    for e in lb.entries:
        report = load_selection(Path(e.run_dir))
        if report is None or not report.runs:
            continue
        (out_dir / "selection").mkdir(exist_ok=True)
        page = f"selection/{e.id}.html"
        (out_dir / page).write_text(render_page(env, report, report.runs[0], "../", f"../models/{e.id}.html"))
        pages[e.id] = page
    return pages


def write_site(lb: Leaderboard, out_dir: Path) -> Path:
    """Write the site into ``out_dir``; returns the path of ``index.html``."""
    try:
        return _write(lb, out_dir)
    except OSError as exc:
        raise IoiEvalError(f"{out_dir}: cannot write the site: {exc}") from exc


def _write(lb: Leaderboard, out_dir: Path) -> Path:
    _prepare(out_dir)
    env = _env()
    static = resources.files("ioi_eval.report").joinpath("static")
    for name in ASSETS:
        (out_dir / "assets" / name).write_text(static.joinpath(name).read_text())
    (out_dir / DATA_FILE).write_text(to_json(lb))
    files = {p.code: _file_name(p.code) for p in lb.problems}
    colors = {e.id: charts.color(i) for i, e in enumerate(lb.entries)}
    labels = [e.label for e in lb.entries]
    ci_label = f"{lb.confidence * 100:g}% CI"
    selection_pages = _selection_pages(lb, out_dir, env)
    common = {"lb": lb, "problem_file": files, "ci_label": ci_label, "medal_rank": _medal_rank,
              "subtask_of": _subtask_of, "selection_page": selection_pages,
              "submission_dir": {p.code: folder_name(p.code) for p in lb.problems}}

    index_charts = {
        "scores": charts.grouped_bars(
            "Score per problem per model", [p.code for p in lb.problems], labels,
            [[(r.score if (r := e.problem(p.code)) else None) for p in lb.problems] for e in lb.entries],
            [p.max_score for p in lb.problems], [colors[e.id] for e in lb.entries]),
        "intervals": charts.intervals(
            "Mean single-submission total", labels, [e.mean_single_ci for e in lb.entries],
            max((e.max_total for e in lb.entries), default=0), [colors[e.id] for e in lb.entries]),
        "verdicts": charts.stacked_verdicts("Verdicts per model", labels, [e.verdicts for e in lb.entries],
                                            lb.verdict_order),
    }
    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html").render(root="", charts=index_charts, notes=notes(lb)[1:],
                                                           **common))

    for e in lb.entries:
        model_charts = {
            "verdicts": charts.stacked_verdicts(f"Verdicts of {e.label} per problem", [p.problem for p in e.problems],
                                                [p.verdicts for p in e.problems], lb.verdict_order),
            "intervals": charts.intervals(
                f"Mean single-submission score of {e.label} per problem", [p.problem for p in e.problems],
                [p.mean_single_ci for p in e.problems], max((p.max_score for p in e.problems), default=0),
                [colors[e.id]] * len(e.problems)),
        }
        counts = [p.verdicts for p in e.problems] + [s.verdicts for p in e.problems for s in p.subtasks]
        pages = write_submission_pages(env, e, out_dir, common)
        (out_dir / "models" / f"{e.id}.html").write_text(env.get_template("model.html").render(
            root="../", e=e, charts=model_charts, columns=_columns(counts, lb.verdict_order), submission_pages=pages,
            caps=CAPS, **common))

    for p in lb.problems:
        rows = [(e, r) for e in lb.entries if (r := e.problem(p.code)) is not None]
        scored = [st for st in p.subtasks if st.points > 0]
        problem_charts = {
            "subtasks": charts.grouped_bars(
                f"Mean points per subtask of {p.code}", [st.name for st in scored], [e.label for e, _ in rows],
                [[(s.mean if (s := _subtask_of(r, st.name)) else None) for st in scored] for _, r in rows],
                [st.points for st in scored], [colors[e.id] for e, _ in rows]),
            "verdicts": charts.stacked_verdicts(f"Verdicts on {p.code} per model", [e.label for e, _ in rows],
                                                [r.verdicts for _, r in rows], lb.verdict_order),
        }
        counts = [r.verdicts for _, r in rows] + [s.verdicts for _, r in rows for s in r.subtasks]
        (out_dir / "problems" / files[p.code]).write_text(env.get_template("problem.html").render(
            root="../", p=p, rows=rows, scored=scored, charts=problem_charts, statement=render_statement(p.statement),
            columns=_columns(counts, lb.verdict_order), **common))
    return index
