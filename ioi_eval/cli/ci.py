"""``ioi-eval ci``: evaluate a checkpoint (a resumable ``ioi-eval run``) and gate it against a baseline.

Exit 0 when it holds, 1 when it regressed beyond the allowed drop or fell under the floor, 2 on an
evaluation error (a bad baseline, an engine that fails, a failed generation or a judge error) — never
a pass by default. Reports: a Markdown summary (also appended to ``$GITHUB_STEP_SUMMARY``), a JUnit
XML file and the new scores as a baseline file (see :mod:`ioi_eval.gate.baseline`); the gate itself is
:mod:`ioi_eval.gate`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import IoiEvalError
from ..record.folder import RunFolder
from .common import err, error_message, out
from .options import evaluate_kwargs, with_run_options
from .run import nothing_produced, progress_bars, render_summary


@with_run_options
def ci(
    run_options: dict,
    baseline: Annotated[Path, typer.Option("--baseline", "-b",
                                           help=f"baseline JSON (ours, or a run's {RunFolder.SUMMARY})")],
    max_drop: Annotated[float, typer.Option("--max-drop", help="points a problem may lose against the baseline")]
    = 0.0,
    max_total_drop: Annotated[float | None, typer.Option(
        "--max-total-drop", help="points the total (over the problems both sides have) may lose; default: unchecked")]
    = None,
    min_score: Annotated[float | None, typer.Option("--min-score", help="floor on the run's total score")] = None,
    per_subtask: Annotated[bool, typer.Option("--per-subtask", help="also fail when a subtask loses more than "
                                                                    "--max-drop")] = False,
    init_baseline: Annotated[bool, typer.Option(
        "--init-baseline", help="when the baseline file does not exist, write this run's scores to it and pass "
                                "(errors and --min-score still apply)")] = False,
    allow_errors: Annotated[bool, typer.Option(
        "--allow-errors", help="do not exit 2 on failed generations or judge errors (they count as 0 points)")]
    = False,
    summary: Annotated[Path | None, typer.Option("--summary", help="Markdown summary file (default: "
                                                                   f"<run folder>/{RunFolder.CI_SUMMARY})")] = None,
    junit: Annotated[Path | None, typer.Option(
        "--junit", help=f"JUnit XML file (default: <run folder>/{RunFolder.CI_JUNIT})")] = None,
    new_baseline: Annotated[Path | None, typer.Option(
        "--new-baseline", help="where to write this run's scores as a baseline (default: <run folder>/"
                               f"{RunFolder.CI_BASELINE})")] = None,
) -> None:
    """Evaluate (or resume) a checkpoint and gate it: exit 0 holds, 1 regressed, 2 evaluation error."""
    from ..gate.baseline import Baseline, load_baseline
    from ..gate.compare import GatePolicy, compare, first_run
    from ..gate.report import error_junit, error_summary, junit_xml, markdown_summary, write_junit, write_summary
    from ..run.evaluate import evaluate

    policy = GatePolicy(max_drop=max_drop, max_total_drop=max_total_drop, min_score=min_score,
                        per_subtask=per_subtask, allow_errors=allow_errors)
    model = run_options["model"]

    def fail(message: str) -> None:
        """An evaluation error: reports say so (when their paths are known), exit 2."""
        write_summary(error_summary(message, model), summary)
        if junit is not None:
            write_junit(error_junit(message, model), junit)
        err.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)
        raise typer.Exit(2)

    if max_drop < 0 or (max_total_drop is not None and max_total_drop < 0):
        fail("--max-drop and --max-total-drop must be >= 0")
    try:
        base = None if init_baseline and not baseline.exists() else load_baseline(baseline)
        with progress_bars(err) as progress:
            outcome = evaluate(progress=progress, **evaluate_kwargs(run_options))
    except (IoiEvalError, sqlite3.Error, OSError) as exc:
        fail(error_message(exc) or str(exc))
        return

    render_summary(outcome.score, err)
    gate = (first_run(outcome.score, outcome.result, policy) if base is None
            else compare(base, outcome.score, outcome.result, policy, outcome.config))
    folder = outcome.folder
    text = markdown_summary(gate, baseline_path=str(baseline) if base else None, run_folder=str(folder.root))
    for path in write_summary(text, summary or folder.ci_summary_path):
        err.print(f"summary: {path}", markup=False, highlight=False)
    junit_path = junit or folder.ci_junit_path
    write_junit(junit_xml(gate), junit_path)
    err.print(f"junit: {junit_path}", markup=False, highlight=False)
    if outcome.result.generation_errors:
        err.print("generation errors: " + "; ".join(outcome.result.generation_errors), markup=False)
    if gate.has_errors:
        err.print(f"[bold red]{len(gate.errors)} evaluation error(s)[/] (re-run the same command to retry; "
                  "--allow-errors counts them as 0 points):")
        for line in gate.errors[:10]:
            err.print(f"  {line}", markup=False, highlight=False)
        err.print("no baseline written: the scores are incomplete")
    else:
        scores = Baseline.from_run(outcome.score, outcome.config)
        targets = [new_baseline or folder.ci_baseline_path]
        if base is None and gate.exit_code == 0:  # --init-baseline: only a passing run becomes the baseline
            targets.append(baseline)
        for path in targets:
            scores.dump(path)
            err.print(f"baseline written: {path}", markup=False, highlight=False)
    out.print(f"ioi-eval ci: {gate.verdict} (total {gate.total:g}/{gate.max_total:g}, "
              f"{len(gate.regressions)} regressed problem(s))")
    if outcome.result.produced_nothing and gate.has_errors:
        err.print(f"[bold red]error:[/bold red] {escape(nothing_produced(outcome.result))}", soft_wrap=True)
    raise typer.Exit(gate.exit_code)
