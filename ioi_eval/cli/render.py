"""Rich renderings of judge reports and validation results for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ..judge.results import JudgeReport, Verdict
from ..tables import Col, print_fitted

STYLE = {
    Verdict.AC: "green", Verdict.PA: "yellow", Verdict.WA: "red", Verdict.TLE: "magenta",
    Verdict.MLE: "magenta", Verdict.RE: "red", Verdict.OLE: "magenta", Verdict.CE: "red",
    Verdict.SKIPPED: "dim", Verdict.SE: "bold white on red",
}


def _fmt_mem(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n else "-"


def render_report(report: JudgeReport, console: Console) -> None:
    """Subtask table, per-test table and the total."""
    if not report.compile.ok:
        console.print("Compilation failed", style="red")
        console.print(report.compile.message, markup=False, highlight=False)
    elif report.compile.message:
        console.print(f"compiler: {report.compile.message[:2000]}", style="dim", markup=False, highlight=False)
    name = escape(report.problem)
    print_fitted(console, [Col("subtask"), Col("points", numeric=True), Col("score", numeric=True), Col("status")],
                 [[escape(st.name), f"{st.points:g}", f"{st.score:g}", f"[{STYLE[st.status]}]{st.status.value}[/]"]
                  for st in report.subtasks], title=f"{name}: subtasks")
    print_fitted(console, [Col("test"), Col("verdict"), Col("score", numeric=True), Col("cpu", numeric=True, keep=30),
                           Col("wall", numeric=True, keep=20), Col("memory", numeric=True, keep=25),
                           Col("message", keep=40, max_width=60)],
                 [[escape(t.name), f"[{STYLE[t.verdict]}]{t.verdict.value}[/]", f"{t.score:g}", f"{t.cpu_s:.3f}s",
                   f"{t.wall_s:.3f}s", _fmt_mem(t.memory_bytes), escape(t.message[:80])] for t in report.tests],
                 title=f"{name}: tests")
    if report.groups:  # a Kattis group tree, graded bottom-up
        print_fitted(console, [Col("group"), Col("verdict"), Col("score", numeric=True),
                               Col("message", keep=40, max_width=60)],
                     [[escape(g.name), f"[{STYLE[g.verdict]}]{g.verdict.value}[/]", f"{g.score:g}",
                       escape(g.message[:100])] for g in report.groups],
                     title=f"{name}: test data groups (graded bottom-up)")
    console.print(f"[bold]Total: {report.score:g} / {report.max_score:g}[/bold]")
