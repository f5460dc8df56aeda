"""The suite's results as a rich table (``ioi-eval doctor --adversarial``)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from .suite import CaseResult


def results_table(results: Sequence[CaseResult], title: str = "adversarial suite") -> Table:
    """One row per case: verdict, expected verdicts, time, and held or what went wrong."""
    table = Table(title=title)
    for col in ("case", "verdict", "expected", "time", "result"):
        table.add_column(col)
    for r in results:
        expected = "/".join(sorted(v.value for v in r.expected))
        outcome = "[green]held[/green]" if r.held else "[red]" + "; ".join(r.problems) + "[/red]"
        table.add_row(r.name, r.verdict.value if r.verdict else "-", expected, f"{r.seconds:.1f} s", outcome)
    return table


def summary_line(results: Sequence[CaseResult]) -> str:
    """``N/M held``."""
    return f"{sum(r.held for r in results)}/{len(results)} held"
