"""Rich renderings of judge reports and validation results for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..judge.results import JudgeReport, Verdict

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
        console.print(f"[red]Compilation failed[/red]\n{report.compile.message}")
    elif report.compile.message:
        console.print(f"[dim]compiler: {report.compile.message[:2000]}[/dim]")
    subtasks = Table(title=f"{report.problem}: subtasks")
    for col in ("subtask", "points", "score", "status"):
        subtasks.add_column(col, justify="right" if col in ("points", "score") else "left")
    for st in report.subtasks:
        subtasks.add_row(st.name, f"{st.points:g}", f"{st.score:g}",
                         f"[{STYLE[st.status]}]{st.status.value}[/]")
    console.print(subtasks)
    tests = Table(title=f"{report.problem}: tests")
    for col in ("test", "verdict", "score", "cpu", "wall", "memory", "message"):
        tests.add_column(col, justify="right" if col in ("score", "cpu", "wall", "memory") else "left")
    for t in report.tests:
        tests.add_row(t.name, f"[{STYLE[t.verdict]}]{t.verdict.value}[/]", f"{t.score:g}", f"{t.cpu_s:.3f}s",
                      f"{t.wall_s:.3f}s", _fmt_mem(t.memory_bytes), t.message[:80])
    console.print(tests)
    if report.groups:  # a Kattis group tree, graded bottom-up
        groups = Table(title=f"{report.problem}: test data groups (graded bottom-up)")
        for col in ("group", "verdict", "score", "message"):
            groups.add_column(col, justify="right" if col == "score" else "left")
        for g in report.groups:
            groups.add_row(g.name, f"[{STYLE[g.verdict]}]{g.verdict.value}[/]", f"{g.score:g}", g.message[:100])
        console.print(groups)
    console.print(f"[bold]Total: {report.score:g} / {report.max_score:g}[/bold]")
