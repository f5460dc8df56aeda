"""Flat renderings of a leaderboard: a terminal table, JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from ..scoring.bootstrap import Interval
from ..tables import Col, natural_width, print_fitted
from .model import Entry, Leaderboard

FORMATS = ("table", "json", "csv", "md")


def medal_text(e: Entry) -> str:
    """``gold``/``silver``/``bronze``/``none`` (``*``: only part of the contest judged); ``n/a``: no cutoffs."""
    if e.award is None:
        return "n/a"
    return (e.award.medal or "none") + ("*" if e.award.partial else "")


def ci_text(ci: Interval | None) -> str:
    """``[low, high]`` or ``-``."""
    return f"[{ci.low:g}, {ci.high:g}]" if ci else "-"


def _rank(e: Entry) -> str:
    """The rank, or ``-`` for an incomplete run (not ranked)."""
    return "-" if e.rank is None else str(e.rank)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def display_rows(lb: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """Header and rows for human-facing tables (terminal, Markdown)."""
    codes = [p.code for p in lb.problems]
    pct = f"{lb.confidence * 100:g}% CI"
    header = ["#", "model", "total", "medal", *codes, "oracle", "mean single", pct, "used", "run"]
    rows = []
    for e in lb.entries:
        per = []
        for code in codes:
            p = e.problem(code)
            per.append("-" if p is None else f"{p.score:g} (mean {p.mean_single:g} {ci_text(p.mean_single_ci)})")
        rows.append([_rank(e), e.label + ("" if e.complete else " (incomplete)"), f"{e.total:g}/{e.max_total:g}",
                     medal_text(e), *per, f"{e.oracle_total:g}", f"{e.mean_single_total:g}",
                     ci_text(e.mean_single_ci), str(e.submissions_used), e.run_dir])
    return header, rows


def flat_rows(lb: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """Header and rows for machine-facing tables (CSV): one value per cell."""
    codes = [p.code for p in lb.problems]
    header = ["rank", "model", "engine", "run_dir", "complete", "total", "max_total", "contest", "medal", "oracle",
              "mean_single", "mean_single_ci_low", "mean_single_ci_high", "submissions_used"]
    for code in codes:
        header += [f"{code}", f"{code}_oracle", f"{code}_mean_single", f"{code}_ci_low", f"{code}_ci_high",
                   f"{code}_submissions_used"]
    rows = []
    for e in lb.entries:
        ci = e.mean_single_ci
        row = [_rank(e).strip("-"), e.label, e.engine, e.run_dir, str(e.complete).lower(), _num(e.total),
               _num(e.max_total),
               e.award.contest if e.award else "", (e.award.medal or "none") if e.award else "", _num(e.oracle_total),
               _num(e.mean_single_total), _num(ci.low if ci else None), _num(ci.high if ci else None),
               str(e.submissions_used)]
        for code in codes:
            p = e.problem(code)
            pci = p.mean_single_ci if p else None
            row += ["", "", "", "", "", ""] if p is None else [
                _num(p.score), _num(p.oracle), _num(p.mean_single), _num(pci.low if pci else None),
                _num(pci.high if pci else None), str(p.submissions_used)]
        rows.append(row)
    return header, rows


def to_json(lb: Leaderboard) -> str:
    """The whole leaderboard (the same file the HTML site ships as ``leaderboard.json``)."""
    return lb.model_dump_json(indent=2) + "\n"


def to_csv(lb: Leaderboard) -> str:
    """One row per run."""
    header, rows = flat_rows(lb)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(lb: Leaderboard) -> str:
    """A GitHub-flavoured Markdown table, and the notes that qualify it."""
    header, rows = display_rows(lb)
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if i in (0, 2) else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes(lb)) + "\n"


def notes(lb: Leaderboard) -> list[str]:
    """What the columns mean, medal cutoffs, and each incomplete run's notes."""
    out = [f"total: IOI score, at most 50 submissions per problem; mean single: the mean score of one submission, "
           f"with its {lb.confidence * 100:g}% bootstrap interval over samples ({lb.resamples} resamples, "
           f"seed {lb.seed})"]
    out += lb.notes
    seen = set()
    for e in lb.entries:
        if e.award and e.award.contest not in seen:
            seen.add(e.award.contest)
            cut = ", ".join(f"{m} {v:g}" for m, v in e.award.cutoffs.items())
            partial = " (* only part of the contest judged)" if any(
                x.award and x.award.contest == e.award.contest and x.award.partial for x in lb.entries) else ""
            out.append(f"{e.award.contest_name} cutoffs: {cut}{partial}")
    out += [f"{e.label}: {n}" for e in lb.entries for n in e.notes]
    return out


def print_table(lb: Leaderboard, console: Console) -> None:
    """A table on the terminal, fitted to its width: each problem's score, mean and interval where they fit,
    else the compact layout (each problem's score; the columns of least value left out first)."""
    header, rows = display_rows(lb)
    numeric = {"#", "total", "oracle", "mean single", "used"}
    full = [Col(h, numeric=h in numeric) for h in header]
    escaped = [[escape(c) for c in row] for row in rows]
    if natural_width(full, escaped) <= console.width:
        print_fitted(console, full, escaped, title="leaderboard")
    else:
        print_fitted(console, *compact_rows(lb), title="leaderboard")
        console.print("per problem: the IOI score (each problem's mean and interval: a wider terminal, or "
                      "--format md)", style="dim", markup=False, highlight=False)
    for n in notes(lb):
        console.print(n, style="dim", markup=False, highlight=False)


def compact_rows(lb: Leaderboard) -> tuple[list[Col], list[list[str]]]:
    """The narrow layout: one number per cell, short headers, the columns of least value marked to go first."""
    codes = [p.code for p in lb.problems]
    pct = f"{lb.confidence * 100:g}% CI"
    columns = [Col("#", numeric=True), Col("model"), Col("total", numeric=True), Col("medal", keep=45),
               *(Col(code, numeric=True, keep=50) for code in codes), Col("oracle", numeric=True, keep=35),
               Col("mean single", short="mean", numeric=True, keep=40), Col(pct, short="CI", keep=30),
               Col("used", numeric=True, keep=20), Col("run", keep=10)]
    rows = []
    for e in lb.entries:
        per = ["-" if (p := e.problem(code)) is None else f"{p.score:g}" for code in codes]
        rows.append([escape(x) for x in (
            str(e.rank), e.label + ("" if e.complete else " (incomplete)"), f"{e.total:g}/{e.max_total:g}",
            medal_text(e), *per, f"{e.oracle_total:g}", f"{e.mean_single_total:g}", ci_text(e.mean_single_ci),
            str(e.submissions_used), e.run_dir)])
    return columns, rows


RENDERERS: dict[str, Callable[[Leaderboard], str]] = {"json": to_json, "csv": to_csv, "md": to_markdown}
