"""The "selection" page of a run: score against submission budget, one line per strategy, the oracle as ceiling.

It is drawn from the run folder's ``select.json`` (written by ``ioi-eval select``): ``ioi-eval leaderboard
--html`` adds ``selection/<id>.html`` for every run that has one, and ``ioi-eval select --html DIR`` writes the
pages on their own.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError

from ..errors import IoiEvalError
from ..select.model import RunSelect, SelectReport
from ..select.render import cell_text, information_label
from . import charts

SELECT_JSON = "select.json"


def load_selection(run_dir: Path) -> SelectReport | None:
    """The run folder's ``select.json``, or None when it has none; a damaged one is an :class:`IoiEvalError`."""
    path = Path(run_dir) / SELECT_JSON
    if not path.is_file():
        return None
    try:
        return SelectReport.model_validate_json(path.read_text())
    except (ValidationError, ValueError, OSError) as exc:
        raise IoiEvalError(f"{path}: not a select.json of this version ({str(exc).splitlines()[0]}); "
                           "run `ioi-eval select` again") from exc


def budget_chart(report: SelectReport, run: RunSelect) -> charts.Markup:
    """The run's total against budget: a line per strategy that uses public information, the oracle as ceiling."""
    info = {s.name: s.information for s in report.strategies}
    series = []
    for name, cells in run.totals.items():
        if info.get(name) == "hidden":
            continue
        values = [cells[b].points for b in report.budgets]
        bands = [(cells[b].low, cells[b].high) if cells[b].low is not None and cells[b].high is not None else None
                 for b in report.budgets]
        series.append((name, values, bands))
    ceiling = None
    if "oracle" in run.totals:
        ceiling = ("oracle (hidden: ceiling)", run.totals["oracle"][report.budgets[-1]].points)
    return charts.budget_lines(f"Total points of {run.run} against the submission budget", report.budgets, series,
                               run.max_total, ceiling)


def render_page(env: Environment, report: SelectReport, run: RunSelect, root: str, back: str | None) -> str:
    """The HTML of one run's selection page (``back``: the link to the run's leaderboard page, if any)."""
    return env.get_template("selection.html").render(
        root=root, back=back, report=report, run=run, chart=budget_chart(report, run), cell=cell_text,
        info={s.name: s for s in report.strategies}, label=information_label)


def environment() -> Environment:
    """The templates' environment (shared with the site's)."""
    env = Environment(loader=PackageLoader("ioi_eval.report", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda x: f"{x:g}"
    return env


def write_selection_pages(reports: list[SelectReport], out_dir: Path) -> Path:
    """``ioi-eval select --html``: ``selection/<run>.html`` per run and the stylesheet; returns the folder."""
    try:
        folder = out_dir / "selection"
        folder.mkdir(parents=True, exist_ok=True)
        (out_dir / "assets").mkdir(exist_ok=True)
        style = resources.files("ioi_eval.report").joinpath("static", "style.css").read_text()
        (out_dir / "assets" / "style.css").write_text(style)
        env = environment()
        for report in reports:
            for run in report.runs:
                (folder / page_name(run.run)).write_text(render_page(env, report, run, "../", None))
        return folder
    except OSError as exc:
        raise IoiEvalError(f"{out_dir}: cannot write the selection pages: {exc}") from exc


def page_name(run_id: str) -> str:
    """The file name of a run's selection page."""
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", run_id).strip("-.") or "run") + ".html"
