"""``ioi-eval select``'s tables: points by strategy (rows, with the information each uses) and budget (columns).

Every table has an ``information`` column; a strategy that used hidden tests says so there in words, so its
figures can never pass for a contest result.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ..tables import Col, print_fitted
from .model import Cell, SelectReport

HIDDEN_LABEL = "HIDDEN (ceiling, not a contest result)"


def information_label(information: str) -> str:
    """The text of the information column."""
    return HIDDEN_LABEL if information == "hidden" else "public"


def cell_text(cell: Cell | None) -> str:
    """A cell as text: points, with the interval of a random strategy."""
    if cell is None:
        return "-"
    text = f"{cell.points:g}"
    if cell.low is not None and cell.high is not None and (cell.low != cell.high or cell.low != cell.points):
        text += f" [{cell.low:g}, {cell.high:g}]"
    return text


def _tables(report: SelectReport) -> list[tuple[str, list[list[str]], list[str]]]:
    """(title, rows, notes) of every table: each run's total, then each problem."""
    info = {s.name: s.information for s in report.strategies}
    out = []
    for run in report.runs:
        def rows(scores: dict[str, dict[str, Cell]]) -> list[list[str]]:
            return [[name, information_label(info[name]), *(cell_text(scores[name].get(b)) for b in report.budgets)]
                    for name in scores]
        out.append((f"{run.run} ({run.model}): total of {len(run.problems)} problems, max {run.max_total:g}",
                    rows(run.totals), run.notes))
        for p in run.problems:
            notes = []
            if p.inputs is not None:
                notes.append(f"cluster inputs: {p.inputs.count} ({p.inputs.origin})"
                             + (f", {p.inputs.failed} generator seeds failed" if p.inputs.failed else "")
                             + (f"; {p.inputs.note}" if p.inputs.origin != "generated" else ""))
            out.append((f"{run.run} / {p.problem}: max {p.max_score:g}, {p.samples} samples ({p.usable} compile)",
                        rows(p.scores), notes))
    return out


def print_tables(report: SelectReport, console: Console) -> None:
    """Rich tables on ``console``."""
    for title, rows, notes in _tables(report):
        # a cell such as "12 [10, 14]" wraps between its words: budget columns are text
        columns = [Col("strategy"), Col("information"), *(Col(f"budget {b}") for b in report.budgets)]
        print_fitted(console, columns, [[escape(c) for c in row] for row in rows], title=escape(title),
                     row_styles=["dim" if row[1] != "public" else None for row in rows])
        for note in notes:
            console.print(f"  note: {note}", markup=False, highlight=False)
    work = [f"{r.run}: {r.work.runs} extra sandbox runs ({r.work.sandbox_s:g} s), {r.work.cached} from the store, "
            f"{r.work.generator_runs} generator runs" for r in report.runs]
    for line in work:
        console.print(line, highlight=False)


def to_markdown(report: SelectReport) -> str:
    """The tables in Markdown (random strategies: mean [95 % interval of the draws])."""
    lines = [f"Selection under a submission budget (seed {report.seed}). Information: *public* = what a contestant "
             f"has; *{HIDDEN_LABEL}* = hidden tests decided.", ""]
    for title, rows, notes in _tables(report):
        lines += [f"### {title}", "", "| strategy | information | " + " | ".join(f"budget {b}" for b in report.budgets)
                  + " |", "|---|---|" + "---:|" * len(report.budgets)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines += [""] + [f"- {n}" for n in notes] + ([""] if notes else [])
    return "\n".join(lines) + "\n"
